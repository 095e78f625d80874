"""Folding stored trades into stored positions.

Positions are kept per book: one (account, bot instance, symbol). A book's folds are serialised by a
PostgreSQL advisory lock held to the end of the transaction, so two processes ingesting at once take
turns per book. New trades that come after everything folded so far extend the open position; a trade
older than the last one folded makes the book replay from the position it falls in.
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
from trades.models import FOLD_ORDER, Trade

from . import fold
from .events import positions_changed
from .models import Position
from .storage import lock_book_and_read_latest, update_position
from .stream import emit_positions_removed, emit_positions_written

logger = logging.getLogger(__name__)


@dataclass(frozen=True, order=True)
class Book:
    exchange_id: int
    bot_instance_id: int | None
    symbol: str

    @classmethod
    def of(cls, row) -> Book:
        return cls(row.exchange_id, row.bot_instance_id, row.symbol)

    def filter(self) -> dict:
        return {"exchange_id": self.exchange_id, "bot_instance_id": self.bot_instance_id, "symbol": self.symbol}


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
    return position


def _book_positions(book: Book):
    return Position.objects.filter(**book.filter()).order_by(
        *fold_order_by("last_update_time", "last_trade_id"), "id"
    )


def _last_key(position: Position) -> tuple:
    return fold.fold_order_key(position.last_update_time, position.last_trade_id)


def _first_key(position: Position) -> tuple:
    return fold.fold_order_key(position.entry_time, position.first_trade_id)


def _extend_book(book: Book, latest: Position | None, trades: list[Trade], step: Decimal) -> list[Position]:
    base, quote = book.symbol.split("/", 1)
    start = state_of(latest) if latest is not None and latest.is_open else None
    states = fold.fold_fills([fill_of(t, base, quote) for t in trades], step, start)
    if start is not None:
        update_position(store_state(latest, states[0]))
        created = [store_state(Position(**book.filter()), s) for s in states[1:]]
        return [latest, *Position.objects.bulk_create(created)]
    return Position.objects.bulk_create([store_state(Position(**book.filter()), s) for s in states])


def replay_book(book: Book, from_key: tuple, step: Decimal) -> list[Position]:
    """Refold a book from the position that `from_key` falls in (or the first after it)."""
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
    emit_positions_removed(dropped)
    Position.objects.filter(id__in=[p.id for p in dropped]).delete()
    base, quote = book.symbol.split("/", 1)
    states = fold.fold_fills([fill_of(t, base, quote) for t in trades], step)
    return Position.objects.bulk_create([store_state(Position(**book.filter()), s) for s in states])


def fold_book(book: Book, trades: list[Trade]) -> list[Position]:
    """Fold a book's new trades (sorted in fold order) into its positions; returns the positions written."""
    latest = lock_book_and_read_latest(book.exchange_id, book.bot_instance_id, book.symbol)
    step = amount_step_of(book)
    if latest is None or trade_order_key(trades[0]) > _last_key(latest):
        return _extend_book(book, latest, trades, step)
    return replay_book(book, trade_order_key(trades[0]), step)


def fold_trades(trades: Iterable[Trade]) -> list[Position]:
    """Fold stored trades into positions and mark those not yet marked processed, in the caller's
    transaction. Books are taken in a fixed order so that concurrent folds cannot deadlock."""
    books: dict[Book, list[Trade]] = defaultdict(list)
    for trade in trades:
        books[Book.of(trade)].append(trade)
    written: list[Position] = []
    for book in sorted(books, key=lambda b: (b.exchange_id, b.bot_instance_id or 0, b.symbol)):
        written += fold_book(book, sorted(books[book], key=trade_order_key))
    unprocessed = [t.id for trades in books.values() for t in trades if not t.processed]
    if unprocessed:
        Trade.objects.filter(id__in=unprocessed).update(processed=True)
    if written:
        emit_positions_written(written)
        changed = sorted({Book.of(p) for p in written}, key=lambda b: (b.exchange_id, b.bot_instance_id or 0, b.symbol))
        transaction.on_commit(lambda: positions_changed(changed))
    return written


def sweep_unprocessed(*, batch_size: int = 5000, older_than: datetime | None = None) -> int:
    """Fold trades that were stored but never folded (a receiver that failed). Returns how many."""
    swept = 0
    while True:
        with transaction.atomic():
            query = Trade.objects.filter(processed=False)
            if older_than is not None:
                query = query.filter(received_at__lt=older_than)
            batch = list(query.order_by("id")[:batch_size])
            if not batch:
                return swept
            fold_trades(batch)
            swept += len(batch)

