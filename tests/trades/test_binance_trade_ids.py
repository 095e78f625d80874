"""Binance numbers spot trade ids per symbol: BTCUSDT's trade 123 and ETHUSDT's trade 123 are two
trades. They are stored as `BTCUSDT:123` and `ETHUSDT:123`, the same whichever path brings them, so
an account with two symbols keeps every trade exactly once and raises no "reused id" alarm."""

import asyncio

import pytest
from asgiref.sync import sync_to_async

from exchanges.connectors import ExchangeConnector
from exchanges.simulator.testing import BINANCE, TEST_CONFIG
from trades.ingest import ingest_trades
from positions.models import Position
from trades.models import FOLD_ORDER, RejectedTrade, SyncCursor, Trade
from trades.streams import AccountStream
from trades.sync import RestSync
from trades.synchronizer import TradeSynchronizer

from ..factories import binance_trade
from ..ground_truth import assert_positions_match_truth, assert_trades_match_truth

SYMBOLS = ["BTC/USDT", "ETH/USDT"]


def overlapping_trades() -> list[dict]:
    """Fills on both symbols; the simulator numbers each symbol's from the same first id."""
    trades = []
    for n in range(6):
        trades.append({"account": BINANCE, "symbol": "BTC/USDT", "side": "buy" if n % 3 else "sell", "amount": "0.0010", "price": str(60000 + n)})
        trades.append({"account": BINANCE, "symbol": "ETH/USDT", "side": "sell" if n % 2 else "buy", "amount": "0.0200", "price": str(3000 + n)})
    return trades


def assert_ids_overlap(truth: list[dict]) -> None:
    """The ground truth really has the same id on both symbols: what this module is about."""
    ids = {symbol: {t["id"] for t in truth if t["symbol"] == symbol} for symbol in SYMBOLS}
    assert ids["BTC/USDT"] & ids["ETH/USDT"]


async def assert_stored_once_without_alarm(simulator, account) -> None:
    truth = await simulator.atruth(account=BINANCE)
    assert_ids_overlap(truth)
    await sync_to_async(assert_trades_match_truth)(account, truth)
    await sync_to_async(assert_positions_match_truth)(account, truth)
    assert not await RejectedTrade.objects.filter(exchange=account).aexists()


async def wait_for_count(account, count: int, timeout: float = 90.0) -> None:
    """A bound on waiting, not a timing assertion."""
    deadline = asyncio.get_running_loop().time() + timeout
    while await Trade.objects.filter(exchange=account).acount() < count:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{count} trades not stored within {timeout:.0f}s")
        await asyncio.sleep(0.2)


async def subscribed(simulator, timeout: float = 30.0) -> None:
    """Wait until the simulator holds the stream's user-data subscription (a bound, not a timing assertion)."""
    feed = simulator.simulator.feed
    deadline = asyncio.get_running_loop().time() + timeout
    while not simulator.thread.call(lambda: bool(feed.subscribers.get(BINANCE))):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the stream never subscribed")
        await asyncio.sleep(0.05)


async def rest_pass(account):
    connector = ExchangeConnector(account)
    try:
        result = await RestSync(account, connector.rest_client()).run(account.symbols)
    finally:
        await connector.close()
    assert not result.stopped
    return result


@pytest.mark.django_db
class TestIngest:
    def test_the_same_number_on_two_symbols_is_two_trades(self, account):
        btc, eth = binance_trade(123, symbol="BTC/USDT"), binance_trade(123, symbol="ETH/USDT", price="3000")

        new = ingest_trades(account, [btc]) + ingest_trades(account, [eth])

        assert sorted(t.exchange_trade_id for t in new) == ["BTCUSDT:123", "ETHUSDT:123"]
        assert not RejectedTrade.objects.exists()

    def test_a_binance_trade_without_its_market_id_is_kept_aside(self, account):
        trade = binance_trade(5)
        del trade["info"]["symbol"]

        assert ingest_trades(account, [trade]) == []
        assert "no market id" in RejectedTrade.objects.get().reason

    def test_the_numbers_still_fold_in_numeric_order_within_a_symbol(self, account):
        # Same millisecond: 9 before 10 (the fold compares ids by length first), not "10" < "9" as text.
        ingest_trades(account, [binance_trade(10, side="sell", price="110"), binance_trade(9, price="100")])

        trades = list(Trade.objects.filter(exchange=account).order_by(*FOLD_ORDER).values_list("exchange_trade_id", flat=True))
        assert trades == ["BTCUSDT:9", "BTCUSDT:10"]
        position = Position.objects.get(exchange=account)
        assert (position.first_trade_id, position.last_trade_id, position.is_open) == ("BTCUSDT:9", "BTCUSDT:10", False)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("async_db")
class TestAgainstTheSimulator:
    @pytest.fixture
    def simulator_config(self):
        binance = {**TEST_CONFIG["accounts"][0], "history": {"trades": 300, "days": 2}}
        return {**TEST_CONFIG, "accounts": [binance]}

    async def test_rest_stores_both_symbols_every_trade_once(self, simulator, simulated_accounts):
        account = simulated_accounts[BINANCE]
        await simulator.apost_trades(*overlapping_trades())

        first = await rest_pass(account)
        again = await rest_pass(account)  # from the cursors: fromId is the exchange's own number

        truth = await simulator.atruth(account=BINANCE)
        assert first.new == len(truth) and again.new == 0
        await assert_stored_once_without_alarm(simulator, account)
        # Each symbol's cursor holds Binance's own number, the fromId it pages on, not the stored form.
        cursors = {c.symbol: (c.last_trade_id, c.resume) async for c in SyncCursor.objects.filter(account=account)}
        for symbol in SYMBOLS:
            last = [t["id"] for t in truth if t["symbol"] == symbol][-1]
            assert cursors[symbol] == (last, {"from_id": int(last)})

    async def test_the_stream_stores_both_symbols_every_trade_once(self, simulator, simulated_accounts):
        account = simulated_accounts[BINANCE]
        await rest_pass(account)  # the history, which no stream replays
        connector = ExchangeConnector(account)
        connected = asyncio.Event()

        async def on_connect():
            connected.set()

        stream = asyncio.create_task(AccountStream(account, connector.new_client, on_connect, symbols=SYMBOLS).run())
        try:
            await asyncio.wait_for(connected.wait(), 60)
            await subscribed(simulator)
            await simulator.apost_trades(*overlapping_trades())
            await wait_for_count(account, len(await simulator.atruth(account=BINANCE)))
        finally:
            stream.cancel()
            await asyncio.gather(stream, return_exceptions=True)
            await connector.close()

        await assert_stored_once_without_alarm(simulator, account)

    async def test_rest_and_stream_at_once_store_each_trade_once(self, simulator, simulated_accounts):
        account = simulated_accounts[BINANCE]
        connector = ExchangeConnector(account)
        synchronizer = TradeSynchronizer({BINANCE: connector}, exchange_id_map={BINANCE: account.id}, interval_seconds=1)
        await synchronizer.start({BINANCE: account.symbols})
        try:
            for _ in range(3):
                await simulator.apost_trades(*overlapping_trades())
                await asyncio.sleep(0.5)
            await wait_for_count(account, len(await simulator.atruth(account=BINANCE)))
        finally:
            await synchronizer.stop()

        # Every trade read once more by REST: each is found already stored under the same id.
        assert (await rest_pass(account)).new == 0
        await assert_stored_once_without_alarm(simulator, account)
