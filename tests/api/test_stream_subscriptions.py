"""The live stream's socket: who may read what, and what a bad subscription is told."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from api.models import ApiToken
from tracker_project.routing import websocket_urlpatterns
from trades.ingest import ingest_trades

from ..factories import binance_trade, make_account, make_market

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("async_db")]


@sync_to_async
def two_accounts():
    accounts = []
    for name in ("alpha", "beta"):
        account = make_account(name=name, symbols=["BTC/USDT"])
        make_market(account, "BTC/USDT")
        accounts.append(account)
    return accounts


@sync_to_async
def issue_token(*, accounts=(), permissions=None, username="bot") -> str:
    """A token of a user with `permissions` (codenames; None: a superuser), limited to `accounts`."""
    users = get_user_model().objects
    if permissions is None:
        user = users.create_user(username, is_superuser=True)
    else:
        user = users.create_user(username)
        user.user_permissions.set(Permission.objects.filter(codename__in=permissions))
    api_token, token = ApiToken.issue(user, "stream tests")
    api_token.accounts.set(accounts)
    return token


async def socket(token: str | None) -> WebsocketCommunicator:
    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/stream/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def refusal(token: str | None, subscription) -> tuple[dict, int]:
    """The error a subscription gets, and the close code that follows it."""
    communicator = await socket(token)
    if token:
        if isinstance(subscription, str):
            await communicator.send_to(text_data=subscription)
        else:
            await communicator.send_json_to(subscription)
    message = await communicator.receive_json_from(timeout=5)
    closed = await communicator.receive_output(timeout=5)
    assert closed["type"] == "websocket.close"
    return message, closed["code"]


async def subscribed(token: str, subscription: dict) -> WebsocketCommunicator:
    communicator = await socket(token)
    await communicator.send_json_to(subscription)
    message = await communicator.receive_json_from(timeout=5)
    assert message["type"] == "subscribed", message
    return communicator


async def events_until_quiet(communicator: WebsocketCommunicator) -> list[dict]:
    events = []
    while not await communicator.receive_nothing(timeout=1.5):
        events.append(await communicator.receive_json_from())
    return events


def trade_ids(events: list[dict]) -> list[str]:
    return [e["data"]["exchange_trade_id"] for e in events if e["kind"] == "trade"]


async def test_a_token_limited_to_one_account_receives_none_of_anothers_events():
    alpha, beta = await two_accounts()
    token = await issue_token(accounts=[alpha])
    communicator = await subscribed(token, {})

    await sync_to_async(ingest_trades)(beta, [binance_trade(1)])
    await sync_to_async(ingest_trades)(alpha, [binance_trade(2)])
    await sync_to_async(ingest_trades)(beta, [binance_trade(3)])

    events = await events_until_quiet(communicator)
    assert {e["account"] for e in events} == {"alpha"}
    assert trade_ids(events) == ["BTCUSDT:2"]
    await communicator.disconnect()


async def test_a_token_limited_to_one_account_may_not_subscribe_to_another():
    alpha, beta = await two_accounts()
    token = await issue_token(accounts=[alpha])

    message, code = await refusal(token, {"accounts": ["beta"]})

    assert message == {"type": "error", "code": "forbidden", "detail": "accounts: this token may not read account 'beta'"}
    assert code == 4400


async def test_a_user_without_the_view_permission_of_a_kind_gets_none_of_it():
    alpha, _ = await two_accounts()
    token = await issue_token(permissions=["view_position"])
    communicator = await subscribed(token, {})

    await sync_to_async(ingest_trades)(alpha, [binance_trade(1)])

    events = await events_until_quiet(communicator)
    assert [e["kind"] for e in events] == ["position"]
    await communicator.disconnect()

    message, _ = await refusal(token, {"kinds": ["trade"]})
    assert message["code"] == "forbidden" and "trades.view_trade" in message["detail"]


async def test_no_token_or_an_unknown_one_is_refused():
    for token in (None, "tt_not-a-token"):
        message, code = await refusal(token, {})
        assert (message["code"], code) == ("unauthorized", 4401)
        assert "Authorization: Bearer" in message["detail"]


@pytest.mark.parametrize(
    ("subscription", "detail"),
    [
        ({"accounts": ["gamma"]}, "accounts: no account named 'gamma'; known: alpha ("),
        ({"symbols": ["BTCUSDT"]}, "symbols: no symbol 'BTCUSDT' is tracked; did you mean BTC/USDT?"),
        ({"kinds": ["trades"]}, "kinds: no event kind 'trades'; the kinds: trade, position, funding, mark, alarm"),
        ({"bots": ["nobody"]}, "bots: no bot instance named 'nobody'; known: none"),
        ({"acounts": ["alpha"]}, "acounts: not a part of a subscription; the parts: accounts, bots, symbols, kinds, resume_after"),
        ({"accounts": "alpha"}, "accounts: a list of names or ids"),
        ({"resume_after": -1}, "resume_after: the sequence of the last event received, a whole number"),
        ({"resume_after": 10**9}, "resume_after: 1000000000 is ahead of the stream"),
        ("not json", "the subscription is a JSON object"),
    ],
)
async def test_a_bad_subscription_is_told_what_is_wrong(subscription, detail):
    await two_accounts()
    token = await issue_token()

    message, code = await refusal(token, subscription)

    assert message["type"] == "error"
    assert message["detail"].startswith(detail), message["detail"]
    assert code in (4400, 4410)


async def test_a_subscription_to_a_symbol_gets_only_that_symbols_events():
    alpha, _ = await two_accounts()
    await sync_to_async(make_market)(alpha, "ETH/USDT")
    token = await issue_token()
    communicator = await subscribed(token, {"accounts": ["alpha"], "symbols": ["ETH/USDT"], "kinds": ["trade"]})

    await sync_to_async(ingest_trades)(alpha, [binance_trade(1, symbol="BTC/USDT"), binance_trade(2, symbol="ETH/USDT")])

    assert trade_ids(await events_until_quiet(communicator)) == ["ETHUSDT:2"]
    await communicator.disconnect()
