"""Reads of positions for the API and the operator pages: a position's trades and funding, its
history, marks, totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Length

from trades.models import FOLD_ORDER, FundingPayment, Trade

from . import fold
from .models import MarkPrice, Position
from trades.fold_order import fold_order_by

from .services import Book, amount_step_of, fill_of
from .totals import Booked, base_coin, quote_coin


def _from_key(timestamp: datetime, trade_id: str) -> Q:
    """Trades at or after (timestamp, trade id) in fold order."""
    return Q(timestamp__gt=timestamp) | Q(timestamp=timestamp, id_length__gt=len(trade_id)) | Q(
        timestamp=timestamp, id_length=len(trade_id), exchange_trade_id__gte=trade_id
    )


def _to_key(timestamp: datetime, trade_id: str) -> Q:
    """Trades at or before (timestamp, trade id) in fold order."""
    return Q(timestamp__lt=timestamp) | Q(timestamp=timestamp, id_length__lt=len(trade_id)) | Q(
        timestamp=timestamp, id_length=len(trade_id), exchange_trade_id__lte=trade_id
    )


def trades_between(book: Book, first: tuple[datetime, str], last: tuple[datetime, str]) -> QuerySet[Trade]:
    return (
        Trade.objects.filter(**book.filter(), timestamp__gte=first[0], timestamp__lte=last[0])
        .defer("raw")
        .annotate(id_length=Length("exchange_trade_id"))
        .filter(_from_key(*first), _to_key(*last))
        .order_by(*FOLD_ORDER)
    )


def position_trades(position: Position) -> QuerySet[Trade]:
    """The trades a position was folded from, in fold order. A trade split across zero belongs to
    both the position it closed and the one it opened."""
    return trades_between(
        Book.of(position),
        (position.entry_time, position.first_trade_id),
        (position.last_update_time, position.last_trade_id),
    )


def latest_marks(account_ids=None) -> dict[tuple[int, str], MarkPrice]:
    """The newest mark per (account, canonical symbol)."""
    marks = MarkPrice.objects.order_by("fetched_at", "id")
    if account_ids is not None:
        marks = marks.filter(account_id__in=account_ids)
    return {(m.account_id, m.symbol): m for m in marks}


def mark_of(position: Position, marks: dict[tuple[int, str], MarkPrice]) -> MarkPrice | None:
    return marks.get((position.exchange_id, position.symbol)) if position.is_open else None


def pnl_at_mark(position: Position, mark: MarkPrice | None, *, with_funding: bool = True) -> Decimal | None:
    """Profit of an open position at the mark: `p2 + p1 * mark + funding` (fees included), or without
    its funding."""
    if mark is None or not position.is_open:
        return None
    return fold.pnl_at_price(position.p1, position.p2, mark.price, position.funding if with_funding else fold.ZERO)


def realised_without_funding(position: Position) -> Decimal | None:
    """What a closed position's trades alone made: its realised PnL less its funding."""
    return None if position.realized_pnl is None else position.realized_pnl - position.funding


def position_funding(position: Position) -> QuerySet[FundingPayment]:
    """The funding payments folded into `position`, in time order: its book's, after its entry and up
    to the next position's entry (the rule of `positions.fold.assign_funding`)."""
    book = Book.of(position)
    payments = FundingPayment.objects.filter(**book.filter(), timestamp__gt=position.entry_time).defer("raw")
    later = (
        Position.objects.filter(**book.filter(), entry_time__gte=position.entry_time)
        .exclude(pk=position.pk)
        .order_by(*fold_order_by("entry_time", "first_trade_id"), "id")
    )
    mine = fold.fold_order_key(position.entry_time, position.first_trade_id)
    following = next((p.entry_time for p in later if fold.fold_order_key(p.entry_time, p.first_trade_id) > mine), None)
    if following is not None:
        payments = payments.filter(timestamp__lte=following)
    return payments.order_by("timestamp", "id")


_OTHER_FEES = f"""
SELECT p.exchange_id, p.symbol, fee.key, SUM(fee.value::numeric)
FROM {Position._meta.db_table} p, jsonb_each_text(p.other_fees) fee
GROUP BY p.exchange_id, p.symbol, fee.key
"""


def booked_totals() -> list[Booked]:
    """Per account and symbol, over all its positions: the closed ones' realised PnL (funding
    included) and every fee; and its funding to date from the ledger per coin, with what of it is in
    no position (unattached)."""
    sums = (
        Position.objects.values_list("exchange_id", "exchange__name", "exchange__venue", "symbol")
        .annotate(
            realised=Sum("realized_pnl", filter=Q(is_open=False)),
            base_fee=Sum("p1_fee"),
            quote_fee=Sum("p2_fee"),
            folded=Sum("funding"),
        )
        .order_by()
    )
    ledger = (
        FundingPayment.objects.values_list("exchange_id", "exchange__name", "exchange__venue", "symbol", "currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    with connection.cursor() as cursor:
        cursor.execute(_OTHER_FEES)
        other_fees = cursor.fetchall()
    fees: dict[tuple[int, str], dict[str, Decimal]] = {}
    for account_id, symbol, coin, cost in other_fees:
        fees.setdefault((account_id, symbol), {})[coin] = cost
    funding: dict[tuple[int, str], dict[str, Decimal]] = {}
    names: dict[tuple[int, str], tuple[str, str]] = {}
    for account_id, account, venue, symbol, coin, total in ledger:
        funding.setdefault((account_id, symbol), {})[coin] = total
        names[account_id, symbol] = (account, venue)
    booked = []
    for account_id, account, venue, symbol, realised, base_fee, quote_fee, folded in sums:
        paid = dict(fees.get((account_id, symbol), {}))
        for coin, cost in ((base_coin(symbol), base_fee), (quote_coin(symbol), quote_fee)):
            if cost:
                paid[coin] = paid.get(coin, Decimal(0)) + cost
        received = funding.pop((account_id, symbol), {})
        unattached = sum(received.values(), Decimal(0)) - (folded or Decimal(0))
        booked.append(Booked(account, symbol, realised or Decimal(0), paid, venue, received, unattached))
    for (account_id, symbol), received in funding.items():
        account, venue = names[account_id, symbol]
        booked.append(Booked(account, symbol, Decimal(0), {}, venue, received, sum(received.values(), Decimal(0))))
    return booked


@dataclass(frozen=True)
class HistoryPoint:
    time: datetime
    size: Decimal
    p1: Decimal
    pnl: Decimal
    price: Decimal
    trade_id: str
    avg_price: Decimal | None  # the break-even price after the trade; none once closed


def _replay_start(position: Position) -> tuple[datetime, str]:
    """Where a fold must start to reproduce `position`: its own first trade, or, when that trade was
    split from the position before, the start of the run of split-linked positions it belongs to."""
    start = (position.entry_time, position.first_trade_id)
    earlier = (
        Position.objects.filter(**Book.of(position).filter(), last_update_time__lte=position.entry_time)
        .exclude(pk=position.pk)
        .values_list("entry_time", "first_trade_id", "last_update_time", "last_trade_id")
    )
    ends = {(end, end_id): (begin, begin_id) for begin, begin_id, end, end_id in earlier}
    while start in ends:
        start = ends.pop(start)
    return start


def position_history(position: Position) -> list[HistoryPoint]:
    """The position after each of its trades: size and profit at that trade's price."""
    book = Book.of(position)
    base, quote = position.symbol.split("/", 1)
    step = amount_step_of(book)
    trades = trades_between(book, _replay_start(position), (position.last_update_time, position.last_trade_id))
    mine = fold.fold_order_key(position.entry_time, position.first_trade_id)
    current: fold.PositionState | None = None
    points = []
    for trade in trades:
        touched = fold.apply_fill(current, fill_of(trade, base, quote), step)
        current = touched[-1]
        for state in touched:
            if fold.fold_order_key(state.entry_time, state.first_trade_id) == mine:
                points.append(
                    HistoryPoint(
                        trade.timestamp, state.size, state.p1, state.pnl_at(trade.price), trade.price, trade.exchange_trade_id, state.avg_price
                    )
                )
    return points
