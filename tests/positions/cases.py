"""The worked examples of DESIGN.md (a copy of shared/position_cases.json), as test inputs."""

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

CASES = json.loads((Path(__file__).with_name("position_cases.json")).read_text())["cases"]


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def decimal_or_none(text):
    return None if text is None else Decimal(text)


def assert_position_as_expected(position, expected: dict, trade_ids: list[str]) -> None:
    """`position` (a fold state or a stored Position) against one of a case's expected positions."""
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
    assert {coin: Decimal(v) for coin, v in position.other_fees.items()} == {c: Decimal(v) for c, v in expected["other_fees"].items()}
    assert position.realized_pnl == decimal_or_none(expected.get("realized_pnl"))
    assert sorted(trade_ids) == sorted(expected["trade_ids"])


def _cases(name: str) -> list[dict]:
    return json.loads((Path(__file__).with_name(name)).read_text())["cases"]


FUNDING_CASES = _cases("funding_cases.json")
HEDGE_CASES = _cases("hedge_cases.json")
PERPETUAL_CASES = FUNDING_CASES + HEDGE_CASES


def legs_of(case) -> list[str]:
    """The legs a case's trades and payments name, net ("") for a one-way case."""
    return sorted({item.get("leg", "") for item in case["trades"] + case["funding"]})


def arrival_of(case) -> list[tuple[str, dict]]:
    """The case's trades and payments in the order they reach the tracker: ("trade" | "funding", item)."""
    by_key = {f"trade:{t['id']}": ("trade", t) for t in case["trades"]} | {f"funding:{f['id']}": ("funding", f) for f in case["funding"]}
    return [by_key[key] for key in case.get("arrival", list(by_key))]


def assert_funding_as_expected(position, expected: dict) -> None:
    """The funding fields of `position` (a stored Position) against an expected position of a case."""
    assert position.funding == Decimal(expected["funding"])
    assert position.funding_paid == Decimal(expected["funding_paid"])
    assert position.funding_received == Decimal(expected["funding_received"])
    assert position.funding_count == expected["funding_count"]
