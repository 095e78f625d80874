"""Checking stored trades and positions against the simulator's ground truth, independently of the
code under test: positions are re-folded here from the simulator's own records."""

from __future__ import annotations

import time
from decimal import Decimal

from exchanges.models import ExchangeAccount, Market
from positions import fold
from positions.models import Position
from trades.models import FundingPayment, Trade


def wait_until(condition, timeout: float = 60.0, interval: float = 0.1, message: str = "condition"):
    """Poll until `condition()` is truthy; a generous bound on waiting, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not reached within {timeout:.0f}s")
        time.sleep(interval)


def truth_id(account: ExchangeAccount, record: dict) -> str:
    """The id a ground-truth trade is stored under (Binance's qualified by market: `BTCUSDT:123`)."""
    return account.venue_object.qualified_trade_id(record["market_id"], record["id"])


def stored_ids(account: ExchangeAccount) -> list[str]:
    return list(Trade.objects.filter(exchange=account).values_list("exchange_trade_id", flat=True))


def assert_trades_match_truth(account: ExchangeAccount, truth: list[dict]) -> None:
    """Every ground-truth trade stored exactly once, with exactly its numbers."""
    stored = {t.exchange_trade_id: t for t in Trade.objects.filter(exchange=account)}
    ids = stored_ids(account)
    assert len(ids) == len(set(ids))
    assert set(stored) == {truth_id(account, t) for t in truth}
    for record in truth:
        trade = stored[truth_id(account, record)]
        assert trade.market_symbol == record["symbol"]
        assert trade.side == record["side"]
        assert (trade.amount, trade.price, trade.cost) == (Decimal(record["amount"]), Decimal(record["price"]), Decimal(record["cost"]))
        assert (trade.fee_cost, trade.fee_currency) == (Decimal(record["fee"]), record["fee_coin"])
        if "kind" in record:  # a perpetual's: what made the execution, and its leg in hedge mode
            assert (trade.kind, trade.leg) == (TRUTH_KINDS[record["kind"]], record["leg"])


TRUTH_KINDS = {"trade": "fill", "liquidation": "liquidation", "adl": "adl", "settlement": "settlement", "delivery": "delivery"}


def assert_funding_matches_truth(account: ExchangeAccount, truth: list[dict]) -> None:
    """Every ground-truth funding payment stored exactly once, exactly, signed + received."""
    stored = {p.exchange_funding_id: p for p in FundingPayment.objects.filter(exchange=account)}
    assert FundingPayment.objects.filter(exchange=account).count() == len(stored)
    assert set(stored) == {record["id"] for record in truth}
    for record in truth:
        payment = stored[record["id"]]
        assert (payment.market_symbol, payment.leg, payment.currency) == (record["symbol"], record["leg"], record["currency"])
        assert (payment.amount, payment.rate, payment.position_size) == (Decimal(record["amount"]), Decimal(record["rate"]), Decimal(record["position_size"]))
        assert int(payment.timestamp.timestamp() * 1000) == record["timestamp"]


def positions_from_truth(account: ExchangeAccount, truth: list[dict]) -> dict[str, list[fold.PositionState]]:
    from datetime import UTC, datetime, timedelta

    markets = {m.market_symbol: m for m in Market.objects.filter(account=account)}
    by_symbol: dict[str, list[fold.Fill]] = {}
    for record in truth:
        market = markets[record["symbol"]]
        ms = record["timestamp"]
        deltas = fold.trade_deltas(
            side=record["side"],
            amount=Decimal(record["amount"]),
            cost=Decimal(record["cost"]),
            base=market.base,
            quote=market.quote,
            contract_size=market.contract_size,
            fee_cost=Decimal(record["fee"]),
            fee_currency=record["fee_coin"],
        )
        when = datetime.fromtimestamp(ms // 1000, tz=UTC) + timedelta(milliseconds=ms % 1000)
        by_symbol.setdefault(market.symbol, []).append(fold.Fill(truth_id(account, record), when, deltas))
    steps = {m.symbol: m.amount_step for m in markets.values()}
    return {
        symbol: fold.fold_fills(sorted(fills, key=lambda f: f.order_key), steps[symbol])
        for symbol, fills in by_symbol.items()
    }


def assert_positions_match_truth(account: ExchangeAccount, truth: list[dict]) -> None:
    expected = positions_from_truth(account, truth)
    for symbol, states in expected.items():
        stored = list(Position.objects.filter(exchange=account, symbol=symbol).order_by("entry_time", "id"))
        assert len(stored) == len(states), symbol
        for position, state in zip(stored, states):
            assert (position.p1, position.p2, position.p1_fee, position.p2_fee) == (state.p1, state.p2, state.p1_fee, state.p2_fee)
            assert (position.is_open, position.first_trade_id, position.last_trade_id) == (state.is_open, state.first_trade_id, state.last_trade_id)
            assert {c: Decimal(v) for c, v in position.other_fees.items()} == state.other_fees
