"""Checking stored trades and positions against the simulator's ground truth, independently of the
code under test: positions are re-folded here from the simulator's own records."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
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
        assert payment.timestamp == _when(record["timestamp"])


def _when(ms: int) -> datetime:
    return datetime.fromtimestamp(ms // 1000, tz=UTC) + timedelta(milliseconds=ms % 1000)


def positions_from_truth(account: ExchangeAccount, truth: list[dict], funding: list[dict] = ()) -> dict[tuple[str, str], fold.BookFold]:
    """(canonical symbol, leg) -> the book's positions, folded from the simulator's trades and its
    funding payments (`GET /_sim/funding`) by the pure functions of `positions.fold`."""
    markets = {m.market_symbol: m for m in Market.objects.filter(account=account)}
    fills: dict[tuple[str, str], list[fold.Fill]] = defaultdict(list)
    payments: dict[tuple[str, str], list[fold.Payment]] = defaultdict(list)
    for record in truth:
        market = markets[record["symbol"]]
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
        book = (market.symbol, record.get("leg", ""))
        fills[book].append(fold.Fill(truth_id(account, record), _when(record["timestamp"]), deltas))
    for record in funding:
        book = (markets[record["symbol"]].symbol, record["leg"])
        payments[book].append(fold.Payment(record["id"], _when(record["timestamp"]), Decimal(record["amount"])))
    steps = {m.symbol: m.amount_step for m in markets.values()}
    return {
        book: fold.fold_book(
            sorted(fills.get(book, []), key=lambda f: f.order_key),
            sorted(payments.get(book, []), key=lambda p: (p.timestamp, p.payment_id)),
            steps[book[0]],
        )
        for book in set(fills) | set(payments)
    }


def assert_positions_match_truth(account: ExchangeAccount, truth: list[dict], funding: list[dict] = ()) -> None:
    """The account's stored positions are exactly the independent fold of the truth: the same books,
    the same number of positions in each, each with the same sums, fees, funding and state."""
    expected = positions_from_truth(account, truth, funding)
    assert Position.objects.filter(exchange=account).count() == sum(len(b.positions) for b in expected.values())
    for (symbol, leg), book in expected.items():
        stored = list(Position.objects.filter(exchange=account, symbol=symbol, leg=leg).order_by("entry_time", "id"))
        assert len(stored) == len(book.positions), (symbol, leg)
        for position, state in zip(stored, book.positions):
            assert (position.p1, position.p2, position.p1_fee, position.p2_fee) == (state.p1, state.p2, state.p1_fee, state.p2_fee)
            assert (position.is_open, position.first_trade_id, position.last_trade_id) == (state.is_open, state.first_trade_id, state.last_trade_id)
            assert (position.side, position.entry_time, position.closed_time) == (state.side, state.entry_time, state.closed_time)
            assert {c: Decimal(v) for c, v in position.other_fees.items()} == state.other_fees
            stored_funding = (position.funding, position.funding_paid, position.funding_received, position.funding_count)
            assert stored_funding == (state.funding.total, state.funding.paid, state.funding.received, state.funding.count), (symbol, leg)
            assert position.realized_pnl == state.realized_pnl
