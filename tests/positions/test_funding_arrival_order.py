"""Stored positions and their funding equal the pure fold of the stored trades and payments, whatever
order and batches they came in, and a payment stored again changes nothing."""

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from positions.fold import Fill, Payment, fold_book, trade_deltas
from positions.models import Position

from ..factories import funding_payment, make_account, make_market, store_funding, store_trades, stored_trade

counter = itertools.count()
T0 = datetime(2024, 1, 1, tzinfo=UTC)
# (id, side, amount, price, hour): a long, a cross to short at the same hour as a payment, a close, a reopen
TRADES = [
    ("1", "buy", "2", "100", 0),
    ("2", "sell", "3", "101", 8),
    ("3", "buy", "1", "99", 12),
    ("4", "buy", "1", "102", 20),
    ("5", "sell", "1", "103", 30),
]
# (id, amount, hour): before the first trade, at a trade's time, while flat, while open
PAYMENTS = [("F0", "-0.01", -8), ("F1", "-0.02", 8), ("F2", "0.01", 16), ("F3", "-0.01", 24), ("F4", "0.03", 32)]
ITEMS = [("trade", t) for t in TRADES] + [("funding", p) for p in PAYMENTS]


def at(hour):
    return T0 + timedelta(hours=hour)


def expected_positions():
    fills = sorted(
        (
            Fill(i, at(h), trade_deltas(side=side, amount=Decimal(a), cost=Decimal(a) * Decimal(p), base="BTC", quote="USDT"))
            for i, side, a, p, h in TRADES
        ),
        key=lambda f: f.order_key,
    )
    book = fold_book(fills, [Payment(i, at(h), Decimal(a)) for i, a, h in PAYMENTS])
    return [(s.p1, s.p2, s.is_open, s.first_trade_id, s.last_trade_id, s.funding.total, s.funding.count, s.realized_pnl) for s in book.positions]


def stored_positions(account):
    return [
        (p.p1, p.p2, p.is_open, p.first_trade_id, p.last_trade_id, p.funding, p.funding_count, p.realized_pnl)
        for p in Position.objects.filter(exchange=account).order_by("entry_time", "last_update_time", "id")
    ]


def store(account, batch):
    trades = [
        stored_trade(account, i, side=side, amount=a, price=p, cost=str(Decimal(a) * Decimal(p)), timestamp=at(h))
        for kind, (i, side, a, p, h) in ((k, item) for k, item in batch if k == "trade")
    ]
    payments = [funding_payment(account, i, amount=a, timestamp=at(h)) for kind, (i, a, h) in ((k, item) for k, item in batch if k == "funding")]
    if trades:
        store_trades(trades)
    if payments:
        store_funding(payments)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(ITEMS), cuts=st.lists(st.integers(1, len(ITEMS) - 1), max_size=4), again=st.sets(st.sampled_from(PAYMENTS)))
def test_any_arrival_order_gives_the_folds_positions_and_funding(order, cuts, again):
    account = make_account(f"funding-order-{next(counter)}", venue="bybit_linear")
    make_market(account, "BTC/USDT:USDT")

    bounds = [0, *sorted(set(cuts)), len(order)]
    for start, end in itertools.pairwise(bounds):
        store(account, order[start:end])
    store(account, [("funding", p) for p in sorted(again)])

    assert stored_positions(account) == expected_positions()
