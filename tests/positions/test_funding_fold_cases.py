"""Every worked example of funding_cases.json and hedge_cases.json, through the pure fold: each leg a
book of its own, its trades and payments folded by `positions.fold.fold_book`."""

from decimal import Decimal

import pytest

from positions.fold import Fill, Payment, fold_book

from .cases import PERPETUAL_CASES, assert_position_as_expected, legs_of, parse_time
from .test_fold_cases import deltas_of, trade_ids_between


def payments_of(case, leg):
    return [Payment(f["id"], parse_time(f["timestamp"]), Decimal(f["amount"])) for f in case["funding"] if f.get("leg", "") == leg]


def fills_of(case, leg):
    fills = [
        Fill(t["id"], parse_time(t["timestamp"]), deltas_of(t, case["market"])) for t in case["trades"] if t.get("leg", "") == leg
    ]
    return sorted(fills, key=lambda fill: fill.order_key)


@pytest.mark.parametrize("case", PERPETUAL_CASES, ids=[case["name"] for case in PERPETUAL_CASES])
def test_positions_with_funding(case):
    unattached = []
    for leg in legs_of(case):
        fills = fills_of(case, leg)
        book = fold_book(fills, payments_of(case, leg), Decimal(case["market"]["amount_step"]))
        expected_positions = [p for p in case["expected_positions"] if p.get("leg", "") == leg]
        assert len(book.positions) == len(expected_positions)
        for position, expected in zip(book.positions, expected_positions):
            assert_position_as_expected(position, expected, trade_ids_between(fills, position))
            assert position.funding.total == Decimal(expected["funding"])
            assert position.funding.paid == Decimal(expected["funding_paid"])
            assert position.funding.received == Decimal(expected["funding_received"])
            assert position.funding.count == expected["funding_count"]
        unattached += [p.payment_id for p in book.unattached]
    assert sorted(unattached) == sorted(case["expected_unattached_funding"])
