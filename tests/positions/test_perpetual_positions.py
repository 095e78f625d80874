"""Perpetual positions end to end: the simulator books fills, liquidations and funding, the real ccxt
client reads them by REST and the stream, and the stored positions carry each funding payment once,
in the position open at its time, on its leg; they equal the independent fold of the ground truth."""

import asyncio
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from exchanges.connectors import ExchangeConnector
from exchanges.models import ExchangeAccount
from positions.models import Position
from trades.models import FundingPayment, RejectedTrade, Trade
from trades.synchronizer import TradeSynchronizer

from ..ground_truth import assert_funding_matches_truth, assert_positions_match_truth, assert_trades_match_truth
from ..passes import rest_pass as one_rest_pass

pytestmark = pytest.mark.django_db(transaction=True)
ONE_WAY, HEDGE = "bybit_perp", "bybit_hedge"
BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


@pytest.fixture
def simulator_config():
    return {
        "seed": 11,
        "accounts": [
            {"name": ONE_WAY, "protocol": "bybit", "markets": [BTC, ETH]},
            {"name": HEDGE, "protocol": "bybit", "position_mode": "hedge", "markets": [BTC]},
        ],
    }


def trade(account, symbol, side, amount, price, **more) -> dict:
    return {"account": account, "symbol": symbol, "side": side, "amount": amount, "price": price, **more}


def rest_pass(account: ExchangeAccount) -> None:
    """One pass, which must not fail."""
    result = one_rest_pass(account)
    assert not result.failed, result.errors or result.stopped


def positions(account_name: str, symbol: str, leg: str = "") -> list[Position]:
    return list(Position.objects.filter(exchange__name=account_name, symbol=symbol, leg=leg).order_by("entry_time", "id"))


def funding_of(position: Position) -> tuple:
    return (position.funding, position.funding_paid, position.funding_received, position.funding_count)


def assert_all_match_truth(simulator, accounts: dict[str, ExchangeAccount]) -> None:
    for name, account in accounts.items():
        truth, funding = simulator.truth(account=name), simulator.funding_truth(account=name)
        assert_trades_match_truth(account, truth)
        assert_funding_matches_truth(account, funding)
        assert_positions_match_truth(account, truth, funding)


async def wait_for(condition, timeout=90.0, message="condition"):
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{message} not reached within {timeout:.0f}s")
        await asyncio.sleep(0.2)


async def everything_stored(simulator) -> bool:
    trades, funding = await simulator.atruth(), await simulator.afunding_truth()
    stored = await Trade.objects.acount() == len(trades) and await FundingPayment.objects.acount() == len(funding)
    folded = not await Trade.objects.filter(processed=False).aexists() and not await FundingPayment.objects.filter(processed=False).aexists()
    return stored and folded


class Running:
    """The tracker's REST passes (every 2 s) and streams for every account, as `manage.py track` runs them."""

    def __init__(self, accounts: dict[str, ExchangeAccount]):
        self.accounts = accounts
        self.synchronizer = TradeSynchronizer({n: ExchangeConnector(a) for n, a in accounts.items()}, interval_seconds=2)

    async def __aenter__(self):
        await self.synchronizer.start({name: account.symbols for name, account in self.accounts.items()})
        return self

    async def __aexit__(self, *exc):
        await self.synchronizer.stop()


@pytest.mark.usefixtures("async_db")
async def test_funding_paid_and_received_lands_once_in_the_position_open_at_its_time(simulator, simulated_accounts):
    await simulator.apost_trades(
        trade(ONE_WAY, BTC, "buy", "0.5", "60000"),
        trade(ONE_WAY, ETH, "sell", "2", "3000"),
        trade(HEDGE, BTC, "buy", "0.3", "60000"),
        trade(HEDGE, BTC, "sell", "0.1", "60000"),
    )
    async with Running(simulated_accounts):
        await wait_for(lambda: everything_stored(simulator), message="the opening fills")
        await simulator.apost_funding(rate="0.0001", symbol=BTC, mark_price="61000")  # longs pay, shorts receive
        await simulator.apost_funding(rate="0.0001", symbol=ETH, mark_price="3050")
        await wait_for(lambda: everything_stored(simulator), message="the first funding")
        await simulator.afaults({"action": "disconnect"})  # the reconnect's catch-up reads it all again
        # the BTC long closes and a new one opens: the next payment is the new position's
        await simulator.apost_trades(trade(ONE_WAY, BTC, "sell", "0.5", "60500"), trade(ONE_WAY, BTC, "buy", "0.2", "60400"))
        await wait_for(lambda: everything_stored(simulator), message="the new BTC position")
        await simulator.apost_funding(rate="-0.00025", symbol=BTC, mark_price="59000")  # shorts pay, longs receive
        await simulator.apost_funding(rate="-0.00025", symbol=ETH, mark_price="2950")
        await wait_for(lambda: everything_stored(simulator), message="the second funding")
        await asyncio.sleep(3)  # another REST pass and the stream have both had their go

    old_btc, new_btc = await sync_to_async(positions)(ONE_WAY, "BTC/USDT")
    (eth,) = await sync_to_async(positions)(ONE_WAY, "ETH/USDT")
    assert funding_of(old_btc) == (Decimal("-3.05"), Decimal("3.05"), 0, 1)  # 0.5 x 61000 x 0.0001 paid
    assert not old_btc.is_open and old_btc.realized_pnl == old_btc.p2 - Decimal("3.05")
    assert funding_of(new_btc) == (Decimal("2.95"), 0, Decimal("2.95"), 1)  # 0.2 x 59000 x 0.00025 received
    assert funding_of(eth) == (Decimal("-0.865"), Decimal("1.475"), Decimal("0.61"), 2)  # received 0.61, then paid 1.475
    (long_leg,) = await sync_to_async(positions)(HEDGE, "BTC/USDT", "long")
    (short_leg,) = await sync_to_async(positions)(HEDGE, "BTC/USDT", "short")
    assert funding_of(long_leg) == (Decimal("2.595"), Decimal("1.83"), Decimal("4.425"), 2)
    assert funding_of(short_leg) == (Decimal("-0.865"), Decimal("1.475"), Decimal("0.61"), 2)
    assert not await RejectedTrade.objects.aexists()
    await sync_to_async(assert_all_match_truth)(simulator, simulated_accounts)


@pytest.mark.usefixtures("async_db")
async def test_a_liquidation_the_stream_never_shows_closes_the_position_once_rest_stores_it(simulator, simulated_accounts):
    await simulator.apost_trades(trade(ONE_WAY, BTC, "buy", "0.5", "60000"))
    async with Running(simulated_accounts):
        await wait_for(lambda: everything_stored(simulator), message="the opening fill")
        await simulator.apost_funding(rate="0.0001", symbol=BTC, mark_price="58000")
        # the stream is cut, and what the feed pushes meanwhile is lost: only REST can read it
        await simulator.afaults({"action": "drop", "count": 10}, {"action": "disconnect"})
        (liquidation,) = await simulator.apost_trades(trade(ONE_WAY, BTC, "sell", "0.5", "50000", kind="liquidation", fee="0"))
        await wait_for(lambda: everything_stored(simulator), message="the liquidation")

    stored = await Trade.objects.aget(exchange_trade_id=liquidation["id"])
    assert (stored.kind, stored.amount) == ("liquidation", Decimal("0.5"))
    (position,) = await sync_to_async(positions)(ONE_WAY, "BTC/USDT")
    assert (position.is_open, position.p1, position.last_trade_id) == (False, 0, liquidation["id"])
    assert funding_of(position) == (Decimal("-2.9"), Decimal("2.9"), 0, 1)  # 0.5 x 58000 x 0.0001 paid
    assert position.realized_pnl == position.p2 - Decimal("2.9")
    await sync_to_async(assert_all_match_truth)(simulator, simulated_accounts)


def test_a_hedge_mode_accounts_legs_are_two_open_positions_each_with_its_own_funding(simulator, simulated_accounts):
    account = simulated_accounts[HEDGE]
    simulator.post_trades(
        trade(HEDGE, BTC, "buy", "0.3", "60000"),
        trade(HEDGE, BTC, "sell", "0.1", "60000"),
        trade(HEDGE, BTC, "sell", "0.1", "60100", leg="long"),  # reduces the long leg, not the net
    )
    rest_pass(account)
    simulator.post_funding(account=HEDGE, rate="0.0002", mark_price="60000")
    rest_pass(account)

    (long_leg,) = positions(HEDGE, "BTC/USDT", "long")
    (short_leg,) = positions(HEDGE, "BTC/USDT", "short")
    assert (long_leg.is_open, long_leg.side, long_leg.p1) == (True, "long", Decimal("0.2"))
    assert (short_leg.is_open, short_leg.side, short_leg.p1) == (True, "short", Decimal("-0.1"))
    assert funding_of(long_leg) == (Decimal("-2.4"), Decimal("2.4"), 0, 1)  # 0.2 x 60000 x 0.0002 paid
    assert funding_of(short_leg) == (Decimal("1.2"), 0, Decimal("1.2"), 1)  # 0.1 x 60000 x 0.0002 received
    assert not Position.objects.filter(exchange=account, leg="").exists()
    assert_all_match_truth(simulator, {HEDGE: account})
