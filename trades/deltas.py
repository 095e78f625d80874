"""What one trade does to the account's balances (DESIGN.md, Positions: the arithmetic): `p1_delta`
and `p2_delta` are the real changes of the base and quote balances, fees included. Ingest stores them
on each trade; the positions fold sums them."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(frozen=True)
class Deltas:
    p1_delta: Decimal
    p2_delta: Decimal
    p1_fee: Decimal = ZERO
    p2_fee: Decimal = ZERO
    other_fees: dict[str, Decimal] = field(default_factory=dict)


def trade_deltas(
    *,
    side: str,
    amount: Decimal,
    cost: Decimal,
    base: str,
    quote: str,
    contract_size: Decimal = Decimal(1),
    fee_cost: Decimal = ZERO,
    fee_currency: str = "",
) -> Deltas:
    """The balance changes one trade makes. `amount` is in contracts; `cost` in the quote coin."""
    if side not in ("buy", "sell"):
        raise ValueError(f"side must be buy or sell, not {side!r}")
    base_amount = amount * contract_size
    p1_delta, p2_delta = (base_amount, -cost) if side == "buy" else (-base_amount, cost)
    if not fee_cost:
        return Deltas(p1_delta, p2_delta)
    if fee_currency == base:
        return Deltas(p1_delta - fee_cost, p2_delta, p1_fee=fee_cost)
    if fee_currency == quote:
        return Deltas(p1_delta, p2_delta - fee_cost, p2_fee=fee_cost)
    return Deltas(p1_delta, p2_delta, other_fees={fee_currency: fee_cost})
