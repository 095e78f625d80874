"""Every worked example of position_cases.json, through the pure fold."""

from decimal import Decimal

import pytest

from positions.fold import Fill, fold_fills, trade_deltas

from .cases import CASES, decimal_or_none, parse_time


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
        assert position.p1 == Decimal(expected["p1"])
        assert position.p2 == Decimal(expected["p2"])
        assert position.p1_fee == Decimal(expected["p1_fee"])
        assert position.p2_fee == Decimal(expected["p2_fee"])
        assert position.avg_price == decimal_or_none(expected["avg_price"])
        assert position.size == Decimal(expected["size"])
        assert position.side == expected["side"]
        assert position.is_open == expected["is_open"]
        assert position.entry_time == parse_time(expected["entry_time"])
        assert position.last_update_time == parse_time(expected["last_update_time"])
        assert position.other_fees == {coin: Decimal(v) for coin, v in expected["other_fees"].items()}
        assert position.realized_pnl == decimal_or_none(expected.get("realized_pnl"))
        assert trade_ids_between(fills, position) == sorted(expected["trade_ids"])
