"""The position arithmetic of DESIGN.md as pure functions over Decimals. Knows nothing of storage.

A trade becomes `Deltas` (the real changes of the base and quote balances, fees included); a sorted
run of them folds into `PositionState`s. A position opens on the first trade from flat, sums deltas and
fees while it is open, and closes when `p1` returns to zero within the market's amount step. A trade
that takes `p1` across zero is split: the closing part moves `p1` exactly to zero, the quote amount and
the fees go pro rata (rounded to 18 places), and the opening part takes the remainder.

Funding payments (perpetuals) change no position's size; each is added to one position of its book
(`assign_funding`): the latest position that opened strictly before the payment's time. So a payment
goes to the position open at its time; a payment at exactly a trade's time counts as before that trade
(the venue charges the position held up to the instant), so it never lands in a position that trade
opens; a payment while the book is flat goes to the position that closed last before it; a payment
before the book's first position is unattached: it stays in the ledger and in the account's totals,
but in no position. `pnl = p2 + p1 * mark + funding`; realised on close `p2 + funding`.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from exchanges.decimals import EXACT, STORED_PLACES, average_price
from trades.deltas import Deltas, trade_deltas  # noqa: F401  (the fold's input, made at ingest)
from trades.fold_order import fold_order_key

ZERO = Decimal(0)

LONG, SHORT, NONE = "long", "short", "none"


@dataclass(frozen=True)
class Fill:
    """A trade as the fold sees it."""

    trade_id: str
    timestamp: datetime
    deltas: Deltas

    @property
    def order_key(self) -> tuple:
        return fold_order_key(self.timestamp, self.trade_id)


def pnl_at_price(p1: Decimal, p2: Decimal, price: Decimal, funding: Decimal = ZERO) -> Decimal:
    """Profit of a position at `price`: what it holds sold there, fees in quote and base included,
    plus the funding folded into it (received minus paid)."""
    return p2 + p1 * price + funding


def realised_pnl(p2: Decimal, funding: Decimal = ZERO) -> Decimal:
    """Profit of a closed position: its quote balance change plus its funding."""
    return p2 + funding


@dataclass(frozen=True)
class Payment:
    """A funding payment as the fold sees it: `amount` positive when received, negative when paid."""

    payment_id: str
    timestamp: datetime
    amount: Decimal


@dataclass(frozen=True)
class Funding:
    """The funding of one position: the sum (received minus paid), each side, and how many payments."""

    total: Decimal = ZERO
    paid: Decimal = ZERO
    received: Decimal = ZERO
    count: int = 0

    @classmethod
    def of(cls, payments) -> Funding:
        paid = sum((-p.amount for p in payments if p.amount < 0), ZERO)
        received = sum((p.amount for p in payments if p.amount > 0), ZERO)
        return cls(total=received - paid, paid=paid, received=received, count=len(payments))


@dataclass
class PositionState:
    p1: Decimal = ZERO
    p2: Decimal = ZERO
    p1_fee: Decimal = ZERO
    p2_fee: Decimal = ZERO
    other_fees: dict[str, Decimal] = field(default_factory=dict)
    side: str = NONE
    is_open: bool = True
    entry_time: datetime | None = None
    last_update_time: datetime | None = None
    closed_time: datetime | None = None
    first_trade_id: str = ""
    last_trade_id: str = ""
    trade_count: int = 0
    funding: Funding = Funding()

    @property
    def size(self) -> Decimal:
        return abs(self.p1)

    @property
    def avg_price(self) -> Decimal | None:
        """Break-even price of what is held, quote fees excluded; none once closed."""
        if not self.is_open or not self.p1:
            return None
        return break_even_price(self.p1, self.p2, self.p2_fee)

    @property
    def realized_pnl(self) -> Decimal | None:
        return None if self.is_open else realised_pnl(self.p2, self.funding.total)

    def pnl_at(self, mark_price: Decimal) -> Decimal:
        """Profit at a mark, funding included."""
        return pnl_at_price(self.p1, self.p2, mark_price, self.funding.total)

    def pnl_without_funding_at(self, mark_price: Decimal) -> Decimal:
        return pnl_at_price(self.p1, self.p2, mark_price)

    @property
    def last_order_key(self) -> tuple | None:
        if self.last_update_time is None:
            return None
        return fold_order_key(self.last_update_time, self.last_trade_id)


def is_dust(p1: Decimal, amount_step: Decimal) -> bool:
    return abs(p1) < amount_step if amount_step else p1 == 0


def break_even_price(p1: Decimal, p2: Decimal, p2_fee: Decimal) -> Decimal | None:
    """`avg_price = -(p2 + p2_fee) / p1` (DESIGN.md): of a position, or of a net of positions (their
    sums); none while `p1` is zero."""
    return average_price(-(p2 + p2_fee), p1)


def side_of(p1: Decimal) -> str:
    return LONG if p1 > 0 else SHORT if p1 < 0 else NONE


def _add_fees(into: dict[str, Decimal], more: dict[str, Decimal]) -> dict[str, Decimal]:
    merged = dict(into)
    for coin, cost in more.items():
        merged[coin] = merged.get(coin, ZERO) + cost
    return merged


def _pro_rata(value: Decimal, numerator: Decimal, denominator: Decimal) -> Decimal:
    return EXACT.divide(EXACT.multiply(value, numerator), denominator).quantize(STORED_PLACES, context=EXACT)


def split_deltas(deltas: Deltas, closing_p1: Decimal) -> tuple[Deltas, Deltas]:
    """Split a trade at `closing_p1` (the part of `p1_delta` that brings the position to zero).

    The parts sum exactly to the trade: each quote-side figure of the closing part is rounded to 18
    places, and the opening part is the remainder.
    """
    share = lambda value: _pro_rata(value, closing_p1, deltas.p1_delta)  # noqa: E731
    closing = Deltas(
        p1_delta=closing_p1,
        p2_delta=share(deltas.p2_delta),
        p1_fee=share(deltas.p1_fee),
        p2_fee=share(deltas.p2_fee),
        other_fees={coin: share(cost) for coin, cost in deltas.other_fees.items()},
    )
    opening = Deltas(
        p1_delta=deltas.p1_delta - closing.p1_delta,
        p2_delta=deltas.p2_delta - closing.p2_delta,
        p1_fee=deltas.p1_fee - closing.p1_fee,
        p2_fee=deltas.p2_fee - closing.p2_fee,
        other_fees={coin: cost - closing.other_fees[coin] for coin, cost in deltas.other_fees.items()},
    )
    return closing, opening


def _open_with(fill: Fill, deltas: Deltas, amount_step: Decimal) -> PositionState:
    return _add(
        PositionState(entry_time=fill.timestamp, first_trade_id=fill.trade_id), fill, deltas, amount_step
    )


def _add(state: PositionState, fill: Fill, deltas: Deltas, amount_step: Decimal) -> PositionState:
    p1 = state.p1 + deltas.p1_delta
    closes = is_dust(p1, amount_step)
    # Every field spelt out (dataclasses.replace would cost more than the arithmetic).
    return PositionState(
        p1=p1,
        p2=state.p2 + deltas.p2_delta,
        p1_fee=state.p1_fee + deltas.p1_fee,
        p2_fee=state.p2_fee + deltas.p2_fee,
        other_fees=_add_fees(state.other_fees, deltas.other_fees),
        side=state.side if closes and state.side != NONE else side_of(p1),
        is_open=not closes,
        entry_time=state.entry_time,
        last_update_time=fill.timestamp,
        closed_time=fill.timestamp if closes else None,
        first_trade_id=state.first_trade_id,
        last_trade_id=fill.trade_id,
        trade_count=state.trade_count + 1,
        funding=state.funding,
    )


def apply_fill(state: PositionState | None, fill: Fill, amount_step: Decimal = ZERO) -> list[PositionState]:
    """Fold one trade into the open position (or none). Returns the positions it touched, oldest first:
    the updated one, or a closed one and the one the rest of a crossing trade opened."""
    if state is None or not state.is_open:
        return [_open_with(fill, fill.deltas, amount_step)]
    after = state.p1 + fill.deltas.p1_delta
    crosses = (state.p1 > 0 > after or state.p1 < 0 < after) and not is_dust(after, amount_step)
    if not crosses:
        return [_add(state, fill, fill.deltas, amount_step)]
    closing, opening = split_deltas(fill.deltas, -state.p1)
    return [_add(state, fill, closing, amount_step), _open_with(fill, opening, amount_step)]


def fold_fills(
    fills: list[Fill], amount_step: Decimal = ZERO, start: PositionState | None = None
) -> list[PositionState]:
    """Fold trades, already in fold order, onto `start` (the open position, or none).

    Returns every position touched, oldest first: closed ones, then the open one if any.
    """
    positions: list[PositionState] = [start] if start is not None else []
    for fill in fills:
        current = positions.pop() if positions and positions[-1].is_open else None
        positions.extend(apply_fill(current, fill, amount_step))
    return positions


def assign_funding(entry_times: list[datetime], payments: list[Payment]) -> tuple[list[list[Payment]], list[Payment]]:
    """Which position of a book each payment belongs to: the latest that opened strictly before it.

    `entry_times` are the book's positions' entry times in fold order (from some position to the
    book's latest). Returns each position's payments, and those before the first position (unattached,
    when that first position is the book's first).
    """
    per_position: list[list[Payment]] = [[] for _ in entry_times]
    unattached: list[Payment] = []
    for payment in payments:
        index = bisect_left(entry_times, payment.timestamp) - 1
        (per_position[index] if index >= 0 else unattached).append(payment)
    return per_position, unattached


def with_funding(state: PositionState, payments: list[Payment]) -> PositionState:
    """The position with exactly these payments as its funding."""
    return replace(state, funding=Funding.of(payments))


@dataclass(frozen=True)
class BookFold:
    positions: list[PositionState]
    unattached: list[Payment]


def fold_book(fills: list[Fill], payments: list[Payment], amount_step: Decimal = ZERO) -> BookFold:
    """A whole book from scratch: its trades (in fold order) into positions, and its funding payments
    into them by `assign_funding`."""
    positions = fold_fills(fills, amount_step)
    per_position, unattached = assign_funding([p.entry_time for p in positions], payments)
    return BookFold([with_funding(s, mine) for s, mine in zip(positions, per_position)], unattached)
