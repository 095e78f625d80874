"""The board's WebSocket: operators only, and a fresh board whenever positions or marks change."""

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from positions.marks import refresh_marks
from tracker_project.routing import websocket_urlpatterns
from trades.ingest import ingest_trades

from ..factories import binance_trade, make_account, make_market
from .test_mark_refresh import FakeBinance

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("async_db")]

T0 = 1_704_067_200_000


@sync_to_async
def setup_account():
    account = make_account(symbols=["BTC/USDT"])
    make_market(account, "BTC/USDT")
    ingest_trades(account, [binance_trade(1, amount="1", price="100")])
    return account


async def board_socket(user, origin: bytes = b"http://127.0.0.1") -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/positions/", headers=[(b"origin", origin)])
    communicator.scope["user"] = user
    return communicator


async def operator():
    return await sync_to_async(get_user_model().objects.create_user)("operator")


def sizes(message) -> dict[str, str]:
    """Each position's exact size: which trades a board includes."""
    assert message["type"] == "board"
    return {row["symbol"]: row["exact"]["size"] for row in message["board"]["positions"]}


async def test_an_anonymous_visitor_is_turned_away():
    socket = await board_socket(AnonymousUser())

    connected, _ = await socket.connect()

    assert not connected


async def test_a_page_of_another_site_is_turned_away():
    socket = await board_socket(await operator(), origin=b"http://elsewhere.example")

    connected, _ = await socket.connect()

    assert not connected


async def test_an_operator_gets_the_board_at_once():
    await setup_account()
    socket = await board_socket(await operator())

    connected, _ = await socket.connect()

    assert connected
    assert sizes(await socket.receive_json_from()) == {"BTC/USDT": "1"}
    await socket.disconnect()


async def test_a_new_trade_sends_a_fresh_board():
    account = await setup_account()
    socket = await board_socket(await operator())
    await socket.connect()
    await socket.receive_json_from()

    await sync_to_async(ingest_trades)(account, [binance_trade(2, amount="2", price="110", timestamp=T0 + 1)])

    assert sizes(await socket.receive_json_from(timeout=5)) == {"BTC/USDT": "3"}
    await socket.disconnect()


async def test_a_new_mark_sends_a_fresh_board():
    account = await setup_account()
    socket = await board_socket(await operator())
    await socket.connect()
    await socket.receive_json_from()

    await refresh_marks(account, FakeBinance({"BTC/USDT": "104.5"}))

    (row,) = (await socket.receive_json_from(timeout=5))["board"]["positions"]
    # shown as the page's template shows it (no tick known: USDT's 2 places), and exact
    assert (row["mark"], row["pnl"]) == ("104.50", "4.50 USDT")
    assert (row["exact"]["mark"], row["exact"]["pnl"]) == ("104.5", "4.5")
    await socket.disconnect()


async def test_boards_after_changes_keep_one_database_connection():
    """Channels closes the connection before every message by default: with CONN_MAX_AGE=0 each
    board would then open a new one."""
    from django.db.backends.signals import connection_created

    account = await setup_account()
    socket = await board_socket(await operator())
    await socket.connect()
    await socket.receive_json_from()
    opened = []
    connection_created.connect(opened.append, weak=False, dispatch_uid="test.opened")
    try:
        for n in range(2, 5):
            await sync_to_async(ingest_trades)(account, [binance_trade(n, amount="1", price="100", timestamp=T0 + n)])
            assert sizes(await socket.receive_json_from(timeout=5)) == {"BTC/USDT": str(n)}
    finally:
        connection_created.disconnect(dispatch_uid="test.opened")
    assert opened == []
    await socket.disconnect()
