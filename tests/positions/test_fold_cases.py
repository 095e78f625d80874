"""Every worked example of position_cases.json, through the pure fold."""

from decimal import Decimal

import pytest

from positions.fold import Fill, fold_fills, trade_deltas

from .cases import CASES, assert_position_as_expected, parse_time


def deltas_of(trade, market):
    return trade_deltas(
        side=trade["side"],
        amount=Decimal(trade["amount"]),
        cost=Decimal(trade["cost"]),
        base=market["base"],
        quote=market["quote"],
        contract_size=Decimal(market["contract_size"]),
        fee_cost=Decimal(trade.get("fee_cost", "0")),
        fee_currency=trade.get("fee_currency", ""),
    )


def fills_of(case):
    fills = [Fill(t["id"], parse_time(t["timestamp"]), deltas_of(t, case["market"])) for t in case["trades"]]
    return sorted(fills, key=lambda fill: fill.order_key)


def trade_ids_between(fills, position):
    first = next(f.order_key for f in fills if f.trade_id == position.first_trade_id)
    last = next(f.order_key for f in fills if f.trade_id == position.last_trade_id)
    return sorted(f.trade_id for f in fills if first <= f.order_key <= last)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_trade_deltas(case):
    for trade, expected in zip(case["trades"], case["expected_trade_deltas"], strict=True):
        deltas = deltas_of(trade, case["market"])
        assert trade["id"] == expected["id"]
        assert deltas.p1_delta == Decimal(expected["p1_delta"])
        assert deltas.p2_delta == Decimal(expected["p2_delta"])


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_positions(case):
    fills = fills_of(case)
    positions = fold_fills(fills, Decimal(case["market"]["amount_step"]))

    assert len(positions) == len(case["expected_positions"])
    for position, expected in zip(positions, case["expected_positions"]):
        assert_position_as_expected(position, expected, trade_ids_between(fills, position))
