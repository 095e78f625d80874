"""Stored positions equal the fold of the stored trades, whatever order and batches the trades came in."""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from positions.models import Position
from trades.ingest import ingest_trades

from ..factories import binance_trade, make_account, make_market

counter = itertools.count()

TRADES = [
    binance_trade(i, side=side, amount=amount, price=price, fee="0.01", timestamp=1_704_067_200_000 + ts)
    for i, (side, amount, price, ts) in enumerate(
        [
            ("buy", "1", "100", 0),
            ("buy", "2", "101", 1000),
            ("sell", "4", "103", 2000),
            ("sell", "1", "99", 2000),
            ("buy", "5", "98", 3000),
            ("sell", "3", "104", 5000),
            ("buy", "0.5", "102", 6000),
        ],
        start=1,
    )
]


def position_rows(account):
    return [
        (p.p1, p.p2, p.p1_fee, p.p2_fee, p.is_open, p.side, p.first_trade_id, p.last_trade_id, p.entry_time)
        for p in Position.objects.filter(exchange=account).order_by("entry_time", "last_update_time", "id")
    ]


def fresh_account():
    account = make_account(f"order-{next(counter)}")
    make_market(account, "BTC/USDT")
    return account


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(TRADES), cuts=st.lists(st.integers(1, len(TRADES) - 1), max_size=4))
def test_any_arrival_order_and_batching_gives_the_same_positions(order, cuts):
    in_order = fresh_account()
    ingest_trades(in_order, TRADES)

    shuffled = fresh_account()
    bounds = [0, *sorted(set(cuts)), len(order)]
    for start, end in itertools.pairwise(bounds):
        ingest_trades(shuffled, order[start:end])

    assert position_rows(shuffled) == position_rows(in_order)
