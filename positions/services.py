"""Folding stored trades and funding payments into stored positions.

Positions are kept per book: one (account, bot instance, symbol, leg). A book's folds are serialised by
a PostgreSQL advisory lock held to the end of the transaction, so two processes ingesting at once take
turns per book. New trades that come after everything folded so far extend the open position; a trade
older than the last one folded makes the book replay from the position it falls in.

A position's funding is always recounted from the ledger (`FundingPayment`), never added to: whenever
positions are written that can change which payments fall in which position (a new position, a replay,
a payment that arrives), the funding of every position from the one before them to the book's latest
is recomputed by `fold.assign_funding`. So a payment that arrives twice, late, or before the trades
around it is counted once, in the position `positions.fold` says.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction

from exchanges.markets import market_facts_by_symbol
from trades.fold_order import fold_order_by
from trades.models import FOLD_ORDER, FundingPayment, Trade

from . import fold
from .events import positions_changed
from .models import Position
from .storage import lock_book_and_read_latest, update_position

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Book:
    """One run of positions: an account's bot instance (or its external bucket) in one symbol, on one
    leg (`""` for a one-way account's net position, `long`/`short` for a hedge-mode account's)."""

    exchange_id: int
    bot_instance_id: int | None
    symbol: str
    leg: str = ""

    @classmethod
    def of(cls, row) -> Book:
        """The book of a Trade, a FundingPayment or a Position."""
        return cls(row.exchange_id, row.bot_instance_id, row.symbol, row.leg)

    def filter(self) -> dict:
        return {"exchange_id": self.exchange_id, "bot_instance_id": self.bot_instance_id, "symbol": self.symbol, "leg": self.leg}

    @property
    def sort_key(self) -> tuple:
        """The fixed order books are locked in, so that concurrent folds cannot deadlock."""
        return (self.exchange_id, self.bot_instance_id or 0, self.symbol, self.leg)


def fill_of(trade: Trade, base: str, quote: str) -> fold.Fill:
    deltas = fold.trade_deltas(
        side=trade.side,
        amount=trade.amount,
        cost=trade.cost,
        base=base,
        quote=quote,
        contract_size=trade.contract_size,
        fee_cost=trade.fee_cost,
        fee_currency=trade.fee_currency,
    )
    return fold.Fill(trade.exchange_trade_id, trade.timestamp, deltas)


def trade_order_key(trade: Trade) -> tuple:
    return fold.fold_order_key(trade.timestamp, trade.exchange_trade_id)


def amount_step_of(book: Book) -> Decimal:
    facts = market_facts_by_symbol(book.exchange_id, book.symbol)
    return facts.amount_step if facts is not None and facts.amount_step else fold.ZERO


def state_of(position: Position) -> fold.PositionState:
    return fold.PositionState(
        p1=position.p1,
        p2=position.p2,
        p1_fee=position.p1_fee,
        p2_fee=position.p2_fee,
        other_fees={coin: Decimal(cost) for coin, cost in position.other_fees.items()},
        side=position.side,
        is_open=position.is_open,
        entry_time=position.entry_time,
        last_update_time=position.last_update_time,
        closed_time=position.closed_time,
        first_trade_id=position.first_trade_id,
        last_trade_id=position.last_trade_id,
        trade_count=position.trade_count,
        funding=funding_of(position),
    )


def funding_of(position: Position) -> fold.Funding:
    return fold.Funding(
        total=position.funding, paid=position.funding_paid, received=position.funding_received, count=position.funding_count
    )


def store_state(position: Position, state: fold.PositionState) -> Position:
    position.p1 = state.p1
    position.p2 = state.p2
    position.p1_fee = state.p1_fee
    position.p2_fee = state.p2_fee
    position.other_fees = {coin: str(cost) for coin, cost in state.other_fees.items()}
    position.avg_price = state.avg_price
    position.size = state.size
    position.side = state.side
    position.is_open = state.is_open
    position.entry_time = state.entry_time
    position.last_update_time = state.last_update_time
    position.closed_time = state.closed_time
    position.realized_pnl = state.realized_pnl
    position.first_trade_id = state.first_trade_id
    position.last_trade_id = state.last_trade_id
    position.trade_count = state.trade_count
    position.funding = state.funding.total
    position.funding_paid = state.funding.paid
    position.funding_received = state.funding.received
    position.funding_count = state.funding.count
    return position


def _book_positions(book: Book):
    return Position.objects.filter(**book.filter()).order_by(
        *fold_order_by("last_update_time", "last_trade_id"), "id"
    )


def _last_key(position: Position) -> tuple:
    return fold.fold_order_key(position.last_update_time, position.last_trade_id)


def _first_key(position: Position) -> tuple:
    return fold.fold_order_key(position.entry_time, position.first_trade_id)


def book_payments(book: Book, after: datetime | None = None) -> list[fold.Payment]:
    """The book's funding payments from the ledger (those after `after`), in time order."""
    payments = FundingPayment.objects.filter(**book.filter())
    if after is not None:
        payments = payments.filter(timestamp__gt=after)
    rows = payments.order_by("timestamp", "id").values_list("exchange_funding_id", "timestamp", "amount")
    return [fold.Payment(payment_id, timestamp, amount) for payment_id, timestamp, amount in rows]


def with_ledger_funding(book: Book, states: list[fold.PositionState], *, first_of_book: bool) -> list[fold.PositionState]:
    """`states` (the book's positions from one of them to its latest, in fold order) with their funding
    recounted from the ledger. Payments at or before the first one's entry belong to earlier positions,
    or to none when `first_of_book`; they are not read."""
    if not states:
        return states
    after = None if first_of_book else states[0].entry_time
    per_position, _unattached = fold.assign_funding([s.entry_time for s in states], book_payments(book, after))
    return [fold.with_funding(state, mine) for state, mine in zip(states, per_position)]


def _write(book: Book, prior: Position | None, states: list[fold.PositionState]) -> list[Position]:
    """Store `states`: the first as `prior` when it is given, the rest as new positions."""
    written = []
    if prior is not None:
        if states[0] != state_of(prior):
            update_position(store_state(prior, states[0]))
            written.append(prior)
        states = states[1:]
    return written + Position.objects.bulk_create([store_state(Position(**book.filter()), s) for s in states])


def _extend_book(book: Book, latest: Position | None, trades: list[Trade], step: Decimal) -> list[Position]:
    base, quote = book.symbol.split("/", 1)
    start = state_of(latest) if latest is not None and latest.is_open else None
    states = fold.fold_fills([fill_of(t, base, quote) for t in trades], step, start)
    if start is not None and len(states) == 1:
        update_position(store_state(latest, states[0]))
        return [latest]
    if start is None and latest is not None:
        states = [state_of(latest), *states]
    return _write(book, latest, with_ledger_funding(book, states, first_of_book=latest is None))


def replay_book(book: Book, from_key: tuple, step: Decimal) -> list[Position]:
    """Refold a book from the position that `from_key` falls in (or the first after it); the funding
    of the refolded positions, and of the one before them, is recounted from the ledger."""
    positions = list(_book_positions(book))
    kept = [p for p in positions if _last_key(p) < from_key]
    dropped = positions[len(kept) :]
    # A position opened by the rest of a split trade starts mid-trade: refold from the one it split from.
    while kept and dropped and _first_key(dropped[0]) == _last_key(kept[-1]):
        dropped.insert(0, kept.pop())
    start_key = min(from_key, _first_key(dropped[0])) if dropped else from_key
    trades = [
        t
        for t in Trade.objects.filter(**book.filter(), timestamp__gte=start_key[0]).order_by(*FOLD_ORDER)
        if trade_order_key(t) >= start_key
    ]
    Position.objects.filter(id__in=[p.id for p in dropped]).delete()
    base, quote = book.symbol.split("/", 1)
    states = fold.fold_fills([fill_of(t, base, quote) for t in trades], step)
    prior = kept[-1] if kept else None
    if prior is not None:
        states = [state_of(prior), *states]
    return _write(book, prior, with_ledger_funding(book, states, first_of_book=prior is None))


def fold_book(book: Book, trades: list[Trade]) -> list[Position]:
    """Fold a book's new trades (sorted in fold order) into its positions; returns the positions written."""
    latest = lock_book_and_read_latest(book.exchange_id, book.bot_instance_id, book.symbol, book.leg)
    step = amount_step_of(book)
    if latest is None or trade_order_key(trades[0]) > _last_key(latest):
        return _extend_book(book, latest, trades, step)
    return replay_book(book, trade_order_key(trades[0]), step)


def _after_commit_tell(written: list[Position]) -> None:
    if written:
        changed = sorted({Book.of(p) for p in written}, key=lambda b: b.sort_key)
        transaction.on_commit(lambda: positions_changed(changed))


def fold_trades(trades: Iterable[Trade]) -> list[Position]:
    """Fold stored trades into positions and mark those not yet marked processed, in the caller's
    transaction. Books are taken in a fixed order so that concurrent folds cannot deadlock."""
    books: dict[Book, list[Trade]] = defaultdict(list)
    for trade in trades:
        books[Book.of(trade)].append(trade)
    written: list[Position] = []
    for book in sorted(books, key=lambda b: b.sort_key):
        written += fold_book(book, sorted(books[book], key=trade_order_key))
    unprocessed = [t.id for trades in books.values() for t in trades if not t.processed]
    if unprocessed:
        Trade.objects.filter(id__in=unprocessed).update(processed=True)
    _after_commit_tell(written)
    return written


def fold_book_funding(book: Book, since: datetime) -> list[Position]:
    """Recount the funding of the book's positions that payments at or after `since` can fall in: the
    latest that opened before `since`, and every one after it. Returns the positions written."""
    latest = lock_book_and_read_latest(book.exchange_id, book.bot_instance_id, book.symbol, book.leg)
    if latest is None:
        return []
    if latest.entry_time < since:
        positions = [latest]
    else:
        positions = list(_book_positions(book))
        before = [n for n, p in enumerate(positions) if p.entry_time < since]
        positions = positions[before[-1] :] if before else positions
    states = with_ledger_funding(book, [state_of(p) for p in positions], first_of_book=positions[0].entry_time >= since)
    written = []
    for position, state in zip(positions, states):
        if state != state_of(position):
            update_position(store_state(position, state))
            written.append(position)
    return written


def fold_funding(payments: Iterable[FundingPayment]) -> list[Position]:
    """Fold stored funding payments into the positions open at their times (see `positions.fold`) and
    mark them processed, in the caller's transaction. A payment before its book's first position is
    unattached: marked processed, kept in the ledger and in the account's totals, in no position."""
    books: dict[Book, list[FundingPayment]] = defaultdict(list)
    for payment in payments:
        books[Book.of(payment)].append(payment)
    written: list[Position] = []
    for book in sorted(books, key=lambda b: b.sort_key):
        written += fold_book_funding(book, min(p.timestamp for p in books[book]))
    unprocessed = [p.id for payments in books.values() for p in payments if not p.processed]
    if unprocessed:
        FundingPayment.objects.filter(id__in=unprocessed).update(processed=True)
    _after_commit_tell(written)
    return written


def sweep_unprocessed(*, batch_size: int = 5000, older_than: datetime | None = None) -> int:
    """Fold trades, then funding payments, that were stored but never folded (a receiver that failed).
    Returns how many of both."""
    return _sweep(Trade, fold_trades, batch_size, older_than) + _sweep(FundingPayment, fold_funding, batch_size, older_than)


def _sweep(model, fold_rows, batch_size: int, older_than: datetime | None) -> int:
    swept = 0
    while True:
        with transaction.atomic():
            query = model.objects.filter(processed=False)
            if older_than is not None:
                query = query.filter(received_at__lt=older_than)
            batch = list(query.order_by("id")[:batch_size])
            if not batch:
                return swept
            fold_rows(batch)
            swept += len(batch)

