"""Perpetuals against the simulator with the real ccxt client: liquidation and ADL fills read by REST,
funding stored once in its own ledger (REST and the stream both running), hedge-mode legs, and the
gap audit over both. Asserted on the ledger and the trades (the fold of funding is the positions app's)."""

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.utils import timezone

from exchanges.connectors import ExchangeConnector
from exchanges.models import ExchangeAccount
from trades.audit import audit_account
from trades.funding import ingest_funding
from trades.models import FundingCursor, FundingPayment, RejectedTrade, Trade
from trades.synchronizer import TradeSynchronizer

from ..ground_truth import assert_funding_matches_truth, assert_trades_match_truth, truth_id
from ..passes import rest_pass as one_rest_pass

pytestmark = pytest.mark.django_db(transaction=True)
ONE_WAY, HEDGE = "bybit_perp", "bybit_hedge"
BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


@pytest.fixture
def simulator_config():
    return {
        "seed": 7,
        "accounts": [
            {"name": ONE_WAY, "protocol": "bybit", "markets": [BTC, ETH]},
            {"name": HEDGE, "protocol": "bybit", "position_mode": "hedge", "markets": [BTC]},
        ],
    }


def rest_pass(account: ExchangeAccount):
    """One pass, which must not fail."""
    result = one_rest_pass(account)
    assert not result.failed, result.errors or result.stopped
    return result


def trade(account, symbol, side, amount, price, **more) -> dict:
    return {"account": account, "symbol": symbol, "side": side, "amount": amount, "price": price, **more}


def stored(account, record) -> Trade:
    return Trade.objects.get(exchange=account, exchange_trade_id=truth_id(account, record))


def test_a_liquidation_and_an_adl_fill_are_stored_by_rest_with_their_kind(simulator, simulated_accounts):
    account = simulated_accounts[ONE_WAY]
    simulator.post_trades(trade(ONE_WAY, BTC, "buy", "0.5", "60000"))
    rest_pass(account)
    # made while no stream listens: only REST can read them
    liquidation, adl = simulator.post_trades(
        trade(ONE_WAY, BTC, "sell", "0.2", "55000.5", kind="liquidation"),
        trade(ONE_WAY, BTC, "sell", "0.1", "55010", kind="adl", fee="0"),
    )

    rest_pass(account)

    assert (stored(account, liquidation).kind, stored(account, liquidation).amount) == ("liquidation", Decimal("0.2"))
    assert (stored(account, adl).kind, stored(account, adl).price) == ("adl", Decimal("55010"))
    assert_trades_match_truth(account, simulator.truth(account=ONE_WAY))
    assert not FundingPayment.objects.exists()


def open_positions(simulator):
    """A long and a short on the one-way account, a long and a short leg on the hedge-mode one."""
    simulator.post_trades(
        trade(ONE_WAY, BTC, "buy", "0.5", "60000"),
        trade(ONE_WAY, ETH, "sell", "2", "3000"),
        trade(HEDGE, BTC, "buy", "0.3", "60000"),
        trade(HEDGE, BTC, "sell", "0.1", "60000"),
    )


async def wait_for(condition, timeout=90.0, message="condition"):
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{message} not reached within {timeout:.0f}s")
        await asyncio.sleep(0.2)


@pytest.mark.usefixtures("async_db")
async def test_funding_paid_and_received_is_stored_once_by_the_stream_and_rest(simulator, simulated_accounts):
    await sync_to_async(open_positions)(simulator)
    connectors = {name: ExchangeConnector(account) for name, account in simulated_accounts.items()}
    synchronizer = TradeSynchronizer(connectors, interval_seconds=2)
    await synchronizer.start({name: account.symbols for name, account in simulated_accounts.items()})
    try:

        async def all_stored():
            truth = await simulator.afunding_truth()
            return bool(truth) and await FundingPayment.objects.acount() == len(truth)

        async def settle(rate, btc_mark, eth_mark):
            return await simulator.apost_funding(symbol=BTC, rate=rate, mark_price=btc_mark) + await simulator.apost_funding(
                symbol=ETH, rate=rate, mark_price=eth_mark
            )

        await wait_for(lambda: Trade.objects.filter(exchange__name=HEDGE).aexists(), message="the first pass")
        first = await settle("0.0001", "61000", "3050")  # longs pay, shorts receive
        await wait_for(all_stored, message="the first funding")
        await simulator.afaults({"action": "disconnect"})  # the reconnect's catch-up reads it all again
        second = await settle("-0.00025", "59000", "2950")  # shorts pay, longs receive
        await wait_for(all_stored, message="the second funding")
        await asyncio.sleep(3)  # another REST pass and the stream have both had their go
    finally:
        await synchronizer.stop()

    assert len(first) == len(second) == 4
    by_id = {p.exchange_funding_id: p async for p in FundingPayment.objects.all()}
    signs = {(p["account"], p["symbol"], p["leg"], p["rate"]): by_id[p["id"]].amount for p in first + second}
    assert signs == {
        (ONE_WAY, BTC, "", "0.0001"): Decimal("-3.05"),  # long 0.5 at 61000 pays
        (ONE_WAY, ETH, "", "0.0001"): Decimal("0.61"),  # short 2 at 3050 receives
        (HEDGE, BTC, "long", "0.0001"): Decimal("-1.83"),
        (HEDGE, BTC, "short", "0.0001"): Decimal("0.61"),
        (ONE_WAY, BTC, "", "-0.00025"): Decimal("7.375"),
        (ONE_WAY, ETH, "", "-0.00025"): Decimal("-1.475"),
        (HEDGE, BTC, "long", "-0.00025"): Decimal("4.425"),
        (HEDGE, BTC, "short", "-0.00025"): Decimal("-1.475"),
    }
    for name, account in simulated_accounts.items():
        await sync_to_async(assert_funding_matches_truth)(account, await simulator.afunding_truth(account=name))
        await sync_to_async(assert_trades_match_truth)(account, await simulator.atruth(account=name))
    assert not await RejectedTrade.objects.aexists()
    assert await FundingCursor.objects.filter(last_funding_id__gt="").acount() == 3  # one per market with payments


def test_a_malformed_funding_payment_is_kept_aside_and_logged(simulated_accounts, caplog):
    account = simulated_accounts[ONE_WAY]
    row = {"execId": "f-1", "symbol": "BTCUSDT", "execType": "Funding", "execFee": 0.12, "feeRate": "0.0001", "execQty": "0.5", "side": "Sell"}
    good = {"id": "f-2", "symbol": BTC, "timestamp": 1767225600000, "info": {**row, "execId": "f-2", "execFee": "0.12"}}

    new = ingest_funding(account, [{"id": "f-1", "symbol": BTC, "timestamp": 1767225600000, "info": row}, good])

    assert [p.exchange_funding_id for p in new] == ["f-2"]
    assert new[0].amount == Decimal("-0.12")  # Bybit's execFee is + paid; the ledger's + received
    rejected = RejectedTrade.objects.get()
    assert (rejected.feed, rejected.exchange_trade_id) == ("funding", "f-1")
    assert "amount: execFee=0.12 is not the exchange's string" in rejected.reason
    assert "rejected a funding payload" in caplog.text
    assert ingest_funding(account, [good]) == []  # once


def test_a_hedge_mode_accounts_trades_and_funding_carry_their_legs(simulator, simulated_accounts):
    account = simulated_accounts[HEDGE]
    assert account.position_mode == "one_way"  # as registered: the venue says otherwise
    opened = simulator.post_trades(trade(HEDGE, BTC, "buy", "0.3", "60000"), trade(HEDGE, BTC, "sell", "0.2", "60010"))
    closed = simulator.post_trades(
        trade(HEDGE, BTC, "sell", "0.1", "60100", leg="long"),
        trade(HEDGE, BTC, "buy", "0.05", "60200", leg="short"),
        trade(HEDGE, BTC, "buy", "0.1", "50000", leg="short", kind="liquidation"),
    )
    simulator.post_funding(account=HEDGE, rate="0.0001")

    rest_pass(account)

    account.refresh_from_db()
    assert account.position_mode == "hedge"
    legs = [stored(account, record).leg for record in opened + closed]
    assert legs == ["long", "short", "long", "short", "short"]
    assert stored(account, closed[2]).kind == "liquidation"
    assert_trades_match_truth(account, simulator.truth(account=HEDGE))
    assert sorted(FundingPayment.objects.filter(exchange=account).values_list("leg", "position_size")) == [("long", Decimal("0.2")), ("short", Decimal("0.05"))]


def test_the_audit_finds_a_missing_funding_payment_and_a_missing_liquidation(simulator, simulated_accounts):
    account = simulated_accounts[ONE_WAY]
    simulator.post_trades(trade(ONE_WAY, BTC, "buy", "0.5", "60000"))
    simulator.post_funding(account=ONE_WAY, symbol=BTC, rate="0.0001")
    (liquidation,) = simulator.post_trades(trade(ONE_WAY, BTC, "sell", "0.5", "50000", kind="liquidation"))
    rest_pass(account)
    payment = FundingPayment.objects.get(exchange=account)
    Trade.objects.filter(exchange=account, exchange_trade_id=liquidation["id"]).delete()
    payment.delete()

    async def audit(repair):
        connector = ExchangeConnector(account)
        try:
            return await audit_account(account, connector.rest_client(), [BTC, ETH], timezone.now() - timedelta(days=1), repair=repair)
        finally:
            await connector.close()

    found = async_to_sync(audit)(False)
    assert found.missing == {BTC: [liquidation["id"]]}
    assert found.missing_funding == {BTC: [payment.exchange_funding_id]}
    repaired = async_to_sync(audit)(True)
    assert (repaired.repaired, repaired.funding_repaired) == (1, 1)
    assert Trade.objects.get(exchange=account, exchange_trade_id=liquidation["id"]).kind == "liquidation"
    assert_funding_matches_truth(account, simulator.funding_truth(account=ONE_WAY))


def test_a_market_read_before_funding_was_kept_is_read_again_from_the_start_once(simulator, simulated_accounts):
    account = simulated_accounts[ONE_WAY]
    simulator.post_trades(trade(ONE_WAY, BTC, "buy", "0.5", "60000"))
    simulator.post_funding(account=ONE_WAY, symbol=BTC, rate="0.0001")
    (liquidation,) = simulator.post_trades(trade(ONE_WAY, BTC, "sell", "0.5", "50000", kind="liquidation"))
    # as an older tracker left it: its cursor past all of it, no funding cursor, only the fill stored
    rest_pass(account)
    Trade.objects.filter(exchange=account, kind="liquidation").delete()
    FundingPayment.objects.all().delete()
    FundingCursor.objects.all().delete()

    rest_pass(account)

    assert Trade.objects.get(exchange=account, exchange_trade_id=liquidation["id"]).kind == "liquidation"
    assert_funding_matches_truth(account, simulator.funding_truth(account=ONE_WAY))
    calls = simulator.stats()["requests"]["GET /v5/execution/list"]
    rest_pass(account)  # the funding cursors are there now: from the cursor on, as before
    assert simulator.stats()["requests"]["GET /v5/execution/list"] - calls == 2  # one page per market
