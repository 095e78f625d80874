"""A program on the live stream, through the async client and the real web server: what it missed
while away (trades from the stream and from REST, a late one replaying the book) comes first when
it reconnects with its sequence, then live events, each once."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model

from api.models import ApiToken
from api.stream_client import PositionEvent, TradeEvent, stream
from exchanges.simulator.testing import BINANCE
from positions.models import Position
from trades.models import StreamEvent, Trade

from ..pages.browser import REDIS_URL, asgi_server
from ..trades.test_synchronizer import start_synchronizer, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("async_db")]
KINDS = ["trade", "position"]


@sync_to_async
def issue_token() -> str:
    user = get_user_model().objects.create_user("strategy", is_superuser=True)
    return ApiToken.issue(user, "strategy")[1]


async def take(events, count: int, timeout: float = 30) -> list:
    return [await asyncio.wait_for(anext(events), timeout) for _ in range(count)]


async def stored_trade_ids(account) -> set[str]:
    return {t async for t in Trade.objects.filter(exchange=account).values_list("exchange_trade_id", flat=True)}


@sync_to_async
def sequences_after(sequence: int, account) -> list[int]:
    return list(
        StreamEvent.objects.filter(sequence__gt=sequence, account_id=account.pk, kind__in=KINDS).order_by("sequence").values_list("sequence", flat=True)
    )


def trade_ids(events) -> list[str]:
    return [e.exchange_trade_id for e in events if isinstance(e, TradeEvent)]


async def post_trade(simulator, side: str, amount: str, price: str) -> str:
    (truth,) = await simulator.apost_trades({"account": BINANCE, "symbol": "BTC/USDT", "side": side, "amount": amount, "price": price})
    return f"BTCUSDT:{truth['id']}"


async def test_a_program_gets_what_it_missed_in_order_then_live_events(simulator, simulated_accounts, settings):
    # The test process and the web server share a channel layer: the wake-ups reach the socket, which
    # would otherwise only find the events at its poll (set long here, so that the wake-ups show).
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
    account = simulated_accounts[BINANCE]
    token = await issue_token()
    with asgi_server({"STREAM_POLL_SECONDS": "600"}) as base_url:
        url = base_url.replace("http://", "ws://") + "/ws/stream/"
        synchronizer = await start_synchronizer({BINANCE: account}, interval_seconds=3600)
        try:
            await wait_for(lambda: sync_to_async(lambda: all(s.passes for s in synchronizer.running.values()))(), message="first pass")
            program = stream(url, token, accounts=[BINANCE], symbols=["BTC/USDT"], kinds=KINDS)
            events = aiter(program)
            subscribing = asyncio.ensure_future(anext(events))
            await asyncio.wait_for(program.connected.wait(), 30)

            first_trade = await post_trade(simulator, "buy", "0.01", "60000")
            seen = [await asyncio.wait_for(subscribing, 30), *await take(events, 1)]
            assert trade_ids(seen) == [first_trade]
            await events.aclose()  # the program goes away
            away_from = program.last_sequence

            await simulator.afaults({"action": "drop", "count": 1})
            by_rest = await post_trade(simulator, "buy", "0.02", "60010")  # its push is dropped
            by_stream = await post_trade(simulator, "sell", "0.005", "60020")
            await wait_for(lambda: _has(account, by_stream), message="the streamed trade stored")
            assert by_rest not in await stored_trade_ids(account)
            await synchronizer.sync_now(BINANCE)  # older than the one folded: the book replays
            assert by_rest in await stored_trade_ids(account)
            missed = await sequences_after(away_from, account)

            again = stream(url, token, accounts=[BINANCE], symbols=["BTC/USDT"], kinds=KINDS, resume_after=away_from)
            resumed = aiter(again)
            caught_up = await take(resumed, len(missed))
            live_trade = await post_trade(simulator, "buy", "0.03", "60030")
            live = await take(resumed, 2)

            await again.disconnect()  # dropped: the client reconnects and resumes by itself
            after_reconnect = await post_trade(simulator, "sell", "0.01", "60040")
            last = await take(resumed, 2)
            await resumed.aclose()
        finally:
            await synchronizer.stop()

    assert [e.sequence for e in caught_up] == missed
    assert trade_ids(caught_up) == [by_stream, by_rest]
    replayed = [e for e in caught_up if isinstance(e, PositionEvent)]
    assert any(e.removed for e in replayed), "the late trade's replay removes the position it refolds"
    assert replayed[-1].trade_count == 3 and not replayed[-1].removed
    assert trade_ids(live) == [live_trade] and live[0].sequence > caught_up[-1].sequence
    assert trade_ids(last) == [after_reconnect]
    received = [e.sequence for e in [*seen, *caught_up, *live, *last]]
    assert received == sorted(set(received))
    assert received[len(seen):] == await sequences_after(away_from, account)
    position = await Position.objects.aget(exchange=account, is_open=True)
    final = [e for e in last if isinstance(e, PositionEvent)][-1]
    assert (final.id, final.size, final.p1, final.p2, final.avg_price) == (position.id, position.size, position.p1, position.p2, position.avg_price)


async def _has(account, trade_id: str) -> bool:
    return trade_id in await stored_trade_ids(account)
