"""A position page's WebSocket: operators only, and the page again whenever its book or its mark
changes, with the board's heartbeat."""

from html.parser import HTMLParser

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from positions.consumers import PositionConsumer
from positions.marks import refresh_marks
from positions.models import Position
from tracker_project.routing import websocket_urlpatterns
from trades.ingest import ingest_trades

from ..factories import binance_trade, make_account, make_market
from .test_mark_refresh import FakeBinance

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("async_db")]

T0 = 1_704_067_200_000


class PageParts(HTMLParser):
    """What a page's live part says: each fact's exact value (or its text, for one without), and the
    trade ids in its trades table."""

    def __init__(self, html: str):
        super().__init__()
        self.facts: dict[str, str] = {}
        self.trade_ids: list[str] = []
        self._fact: str | None = None
        self._text: list[str] = []
        self._in_trades = False
        self._cell = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-fact" in attrs:
            self._fact, self._text = attrs["data-fact"], []
        elif self._fact and "data-exact" in attrs and self._fact not in self.facts:
            self.facts[self._fact] = attrs["data-exact"]
        if attrs.get("id") == "trades":
            self._in_trades = True
        if self._in_trades and tag == "tr":
            self._cell = 0
        if self._in_trades and tag == "td":
            self._cell += 1

    def handle_data(self, data):
        if self._fact:
            self._text.append(data)
        if self._in_trades and self._cell == 2 and data.strip():
            self.trade_ids.append(data.strip())

    def handle_endtag(self, tag):
        if self._fact and tag in ("dd", "span") and self._fact not in self.facts:
            self.facts[self._fact] = " ".join("".join(self._text).split())
        if tag in ("dd", "h2") or (tag == "span" and self._fact == "state"):
            self._fact = None
        if tag == "table":
            self._in_trades = False


def parts(message) -> PageParts:
    assert message["type"] == "position"
    return PageParts(message["html"])


@sync_to_async
def setup_position():
    account = make_account(symbols=["BTC/USDT", "ETH/USDT"])
    make_market(account, "BTC/USDT")
    make_market(account, "ETH/USDT")
    ingest_trades(account, [binance_trade(1, amount="1", price="100")])
    return account, Position.objects.get()


async def position_socket(user, position_id: int, origin: bytes = b"http://127.0.0.1") -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), f"/ws/positions/{position_id}/", headers=[(b"origin", origin)])
    communicator.scope["user"] = user
    return communicator


async def operator():
    return await sync_to_async(get_user_model().objects.create_user)("operator")


async def next_page(socket: WebsocketCommunicator) -> PageParts:
    while (message := await socket.receive_json_from(timeout=5))["type"] == "heartbeat":
        pass
    return parts(message)


async def test_an_anonymous_visitor_is_turned_away():
    _, position = await setup_position()
    socket = await position_socket(AnonymousUser(), position.pk)

    connected, _ = await socket.connect()

    assert not connected


async def test_a_page_of_another_site_is_turned_away():
    _, position = await setup_position()
    socket = await position_socket(await operator(), position.pk, origin=b"http://elsewhere.example")

    connected, _ = await socket.connect()

    assert not connected


async def test_a_position_there_is_not_is_turned_away():
    socket = await position_socket(await operator(), 424242)

    connected, _ = await socket.connect()

    assert not connected


async def test_an_operator_gets_the_page_at_once():
    _, position = await setup_position()
    socket = await position_socket(await operator(), position.pk)

    connected, _ = await socket.connect()

    assert connected
    page = await next_page(socket)
    assert (page.facts["size"], page.facts["entry"], page.facts["trades"]) == ("1", "100", "1")
    assert page.trade_ids == ["BTCUSDT:1"]
    await socket.disconnect()


async def test_a_trade_in_the_watched_book_sends_the_page_again():
    account, position = await setup_position()
    socket = await position_socket(await operator(), position.pk)
    await socket.connect()
    await next_page(socket)

    await sync_to_async(ingest_trades)(account, [binance_trade(2, amount="2", price="130", fee="0.26", timestamp=T0 + 1)])

    page = await next_page(socket)
    assert (page.facts["size"], page.facts["entry"], page.facts["trades"]) == ("3", "120", "2")  # (100 + 260) / 3
    assert page.facts["fees"] == "0.26 USDT"
    assert page.trade_ids == ["BTCUSDT:1", "BTCUSDT:2"]
    await socket.disconnect()


async def test_a_trade_in_another_book_does_not_change_the_page():
    account, position = await setup_position()
    socket = await position_socket(await operator(), position.pk)
    await socket.connect()
    await next_page(socket)

    await sync_to_async(ingest_trades)(account, [binance_trade(2, symbol="ETH/USDT", amount="5", price="10", timestamp=T0 + 1)])
    await sync_to_async(ingest_trades)(account, [binance_trade(3, amount="1", price="110", timestamp=T0 + 2)])

    # the first page after both is the BTC trade's: the ETH trade sent none
    page = await next_page(socket)
    assert (page.facts["size"], page.trade_ids) == ("2", ["BTCUSDT:1", "BTCUSDT:3"])
    await socket.disconnect()


async def test_a_new_mark_sends_the_page_again():
    account, position = await setup_position()
    socket = await position_socket(await operator(), position.pk)
    await socket.connect()
    await next_page(socket)

    await refresh_marks(account, FakeBinance({"BTC/USDT": "104.5"}))

    page = await next_page(socket)
    assert (page.facts["mark"], page.facts["notional"], page.facts["unrealised"]) == ("104.5", "104.5", "4.5")
    await socket.disconnect()


async def test_a_position_that_closes_while_watched_shows_as_closed():
    account, position = await setup_position()
    socket = await position_socket(await operator(), position.pk)
    await socket.connect()
    assert (await next_page(socket)).facts["state"] == "long"

    await sync_to_async(ingest_trades)(account, [binance_trade(2, side="sell", amount="1", price="110", timestamp=T0 + 1)])

    message = None
    while (message := await socket.receive_json_from(timeout=5))["type"] == "heartbeat":
        pass
    page = parts(message)
    assert message["open"] is False
    assert (page.facts["state"], page.facts["realised"], page.facts["trades"]) == ("closed", "10", "2")
    await socket.disconnect()


async def test_the_page_gets_the_boards_heartbeat(monkeypatch):
    monkeypatch.setattr(PositionConsumer, "heartbeat_seconds", 0.2)
    _, position = await setup_position()
    socket = await position_socket(await operator(), position.pk)
    await socket.connect()
    assert (await socket.receive_json_from(timeout=5))["type"] == "position"

    heartbeats = [await socket.receive_json_from(timeout=5) for _ in range(2)]

    assert heartbeats == [{"type": "heartbeat", "every": 0.2}] * 2
    await socket.disconnect()
