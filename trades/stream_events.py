"""The live stream's events: written by the transaction that made the change, numbered in commit order.

A change (trades stored, a position folded, a mark, a funding payment, an alarm) calls `emit` in its
own transaction. The events wait in the connection (`before_commit`, the project's database backend)
and are written by the transaction's last statement, which also takes their sequence numbers from
the one `StreamSequence` row. That statement's row lock is held until the commit, so a second
transaction numbering its events waits until the first has committed: sequence numbers become
visible in the order they were given, and a reader that has seen every event up to N will never
later find a smaller one committed. (Numbering by an identity column would not do: ids are taken
when rows are inserted, transactions commit in another order, and "after N" would skip a row that
committed late.) The lock is held for one statement and the commit, never for the work before it.

After the commit, one wake-up goes to the channel layer's `STREAM_GROUP`; it is only a hint (the
events are in the database), so one lost to a crash or a channel layer that is down delays readers
until their next poll, and loses nothing.

History is kept for `STREAM_HISTORY_HOURS` (`prune_history`); `pruned_through` says up to which
sequence events are gone, so a reader asking for older ones is told to re-read the state instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

import orjson
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

from exchanges.decimals import decimal_string

from .db import loop_of_database_thread
from .models import StreamEvent, StreamSequence, Trade

logger = logging.getLogger(__name__)

STREAM_GROUP = "stream-events"
KINDS = tuple(StreamEvent.Kind.values)


class Event(NamedTuple):
    """An event to emit: what it is about (for subscriptions and permissions) and its data."""

    kind: str
    account_id: int
    bot_instance_id: int | None
    symbol: str  # the pair; "" for the account as a whole
    market_symbol: str  # "" where the event is not about one market (a position: per pair)
    data: dict | None
    trade_id: int | None = None  # a trade event's trade: its data, read with the event (trades never change)


def _json_value(value):
    if isinstance(value, Decimal):
        return decimal_string(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    raise TypeError(f"{type(value).__name__} is not JSON")


def _json(value) -> str:
    """As the JSON API writes them: decimals as exact strings without trailing zeros (never JSON
    numbers), times in ISO 8601 UTC with a Z."""
    try:
        return orjson.dumps(value, default=_json_value).decode()
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, default=_json_value, separators=(",", ":"))


_WRITE = f"""
WITH counter AS (
    INSERT INTO {StreamSequence._meta.db_table} (id, last, pruned_through) VALUES (1, %(count)s, 0)
    ON CONFLICT (id) DO UPDATE SET last = {StreamSequence._meta.db_table}.last + EXCLUDED.last
    RETURNING last
), written AS (
    INSERT INTO {StreamEvent._meta.db_table} (sequence, kind, account_id, bot_instance_id, symbol, market_symbol, data, trade_id, committed_at)
    SELECT counter.last - %(count)s + e.n, e.doc->>0, (e.doc->>1)::bigint, (e.doc->>2)::bigint, e.doc->>3, e.doc->>4,
           NULLIF(e.doc->5, 'null'::jsonb), (e.doc->>6)::bigint, clock_timestamp()
    FROM counter, jsonb_array_elements(%(events)s::jsonb) WITH ORDINALITY AS e(doc, n)
)
SELECT last FROM counter
"""


def emit(events: list[Event]) -> None:
    """Have `events` written, numbered, by the current transaction just before it commits (and
    dropped with it if it rolls back). Outside a transaction, in one of their own."""
    if not events:
        return
    if not hasattr(connection, "before_commit"):
        raise ImproperlyConfigured("stream events need the project's database backend (ENGINE tracker_project.postgresql_backend)")
    if not connection.in_atomic_block:
        with transaction.atomic():
            emit(events)
        return
    connection.before_commit(_write, events)
    transaction.on_commit(_announce)


def _write(batches: list[list[Event]]) -> None:
    """The before-commit hook: every event of the transaction in one statement, numbered."""
    events = [event for batch in batches for event in batch]
    with connection.cursor() as cursor:
        cursor.execute(_WRITE, {"count": len(events), "events": _json([list(e) for e in events])})
        (last,) = cursor.fetchone()
    connection.stream_announcement = (last, sorted({e.account_id for e in events}))


def _announce() -> None:
    """After the commit: wake the stream's readers (once per transaction, whatever `emit` was called)."""
    announcement = getattr(connection, "stream_announcement", None)
    if announcement is None:
        return
    connection.stream_announcement = None
    last, accounts = announcement
    message = {"type": "stream.wake", "sequence": last, "accounts": accounts}
    layer = get_channel_layer()
    if layer is None:
        return
    loop = loop_of_database_thread()
    if loop is not None:
        sent = asyncio.run_coroutine_threadsafe(layer.group_send(STREAM_GROUP, message), loop)
        sent.add_done_callback(_warn_if_failed)
        return
    try:
        async_to_sync(layer.group_send)(STREAM_GROUP, message)
    except Exception:
        logger.warning("could not wake the stream's readers; they find the events at their next poll", exc_info=True)


def _warn_if_failed(sent) -> None:
    if not sent.cancelled() and sent.exception() is not None:
        logger.warning("could not wake the stream's readers; they find the events at their next poll", exc_info=sent.exception())


@dataclass(frozen=True)
class History:
    """What the stream keeps: events after `pruned_through` up to `last`."""

    pruned_through: int
    last: int


def history() -> History:
    row = StreamSequence.objects.filter(pk=1).values_list("pruned_through", "last").first()
    return History(*row) if row else History(0, 0)


@dataclass(frozen=True)
class Selection:
    """Which events a reader receives: for each part, one of the list's, or any (None)."""

    accounts: list[int] | None  # None only for a reader that may read every account
    kinds: list[str]
    bots: list[int] | None = None
    pairs: list[str] | None = None  # BASE/QUOTE: every market of the pair
    markets: list[str] | None = None  # full market symbols: that market only


def _selection_sql(selection: Selection) -> tuple[str, dict]:
    where = ["kind = ANY(%(kinds)s)"]
    params: dict = {"kinds": selection.kinds}
    if selection.accounts is not None:
        where.append("account_id = ANY(%(accounts)s)")
        params["accounts"] = selection.accounts
    if selection.bots is not None:
        # Marks and alarms belong to no bot: a bot's subscriber gets its account's and markets' own.
        where.append("(bot_instance_id = ANY(%(bots)s) OR kind IN ('mark', 'alarm'))")
        params["bots"] = selection.bots
    if selection.pairs is not None or selection.markets is not None:
        # An event about the account as a whole (symbol "") concerns every symbol of it; a position
        # (per pair, no market) is one of a market's pair.
        symbol = ["symbol = ''"]
        if selection.pairs:
            symbol.append("symbol = ANY(%(pairs)s)")
            params["pairs"] = selection.pairs
        if selection.markets:
            symbol.append("market_symbol = ANY(%(markets)s)")
            symbol.append("(market_symbol = '' AND symbol = ANY(%(market_pairs)s))")
            params["markets"] = selection.markets
            params["market_pairs"] = sorted({m.split(":", 1)[0] for m in selection.markets})
        where.append("(" + " OR ".join(symbol) + ")")
    return " AND ".join(where), params


@dataclass(frozen=True)
class Page:
    events: list[StreamEvent]
    read_through: int  # every event up to this sequence was read (those selected are in `events`)


_TRADE_FIELDS = (
    "exchange_trade_id", "order_id", "symbol", "market_symbol", "side", "kind", "leg", "taker_or_maker", "amount",
    "contract_size", "price", "cost", "fee_cost", "fee_currency", "timestamp", "p1_delta", "p2_delta",
)  # fmt: skip
_TRADE_COLUMNS = ", ".join(f't."{f}"' for f in _TRADE_FIELDS)


def events_after(sequence: int, selection: Selection, *, limit: int = 500) -> Page:
    """The selected events after `sequence`, in order. `read_through` is where a reader goes on
    from: the last event returned when the page is full, else the last sequence given when the
    statement ran (read in the same snapshot: every sequence up to it had committed)."""
    where, params = _selection_sql(selection)
    sql = f"""
        SELECT counter.last, e.sequence, e.kind, e.account_id, e.bot_instance_id, e.symbol, e.market_symbol, e.data, e.committed_at,
               e.trade_id, {_TRADE_COLUMNS}
        FROM {StreamSequence._meta.db_table} counter LEFT JOIN LATERAL (
            SELECT * FROM {StreamEvent._meta.db_table}
            WHERE sequence > %(after)s AND {where} ORDER BY sequence LIMIT %(limit)s
        ) e ON true
        LEFT JOIN {Trade._meta.db_table} t ON t.id = e.trade_id
        WHERE counter.id = 1 ORDER BY e.sequence
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {**params, "after": sequence, "limit": limit})
        rows = cursor.fetchall()
    events = [
        StreamEvent(
            sequence=r[1], kind=r[2], account_id=r[3], bot_instance_id=r[4], symbol=r[5], market_symbol=r[6],
            data=_data(r[7]) if r[9] is None else _trade_data(r[3], r[4], r[9], r[10:]), committed_at=r[8], trade_id=r[9],
        )  # fmt: skip
        for r in rows
        if r[1] is not None
    ]
    if len(events) == limit:
        return Page(events, events[-1].sequence)
    last = rows[0][0] if rows else 0
    return Page(events, max(sequence, last))


def _data(value):
    return json.loads(value) if isinstance(value, str) else value


def _trade_data(account_id: int, bot_instance_id: int | None, trade_id: int, values) -> dict:
    """A trade event's data, with the fields the API's trades have, written as the API writes them."""
    fields = {f: _json_value(v) if isinstance(v, (Decimal, datetime)) else v for f, v in zip(_TRADE_FIELDS, values)}
    return {"id": trade_id, "account_id": account_id, "bot_instance_id": bot_instance_id, **fields}


def prune_history(now: datetime | None = None) -> int:
    """Drop the events older than `STREAM_HISTORY_HOURS`; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.STREAM_HISTORY_HOURS)
    through = StreamEvent.objects.filter(committed_at__lt=cutoff).order_by("-sequence").values_list("sequence", flat=True).first()
    if through is None:
        return 0
    with transaction.atomic():
        StreamSequence.objects.filter(pk=1, pruned_through__lt=through).update(pruned_through=through)
        deleted, _ = StreamEvent.objects.filter(sequence__lte=through).delete()
    return deleted


def trade_events(trades) -> list[Event]:
    """A "trade" event per stored trade. The event refers to the trade (whose data a reader reads
    with it) rather than copying it: the copy would double what ingest writes per trade."""
    kind = StreamEvent.Kind.TRADE
    return [Event(kind, t.exchange_id, t.bot_instance_id, t.symbol, t.market_symbol, None, t.id) for t in trades]


_FUNDING_FIELDS = ("exchange_funding_id", "symbol", "market_symbol", "leg", "timestamp", "amount", "currency", "rate", "position_size")


def funding_events(payments) -> list[Event]:
    """A "funding" event per stored funding payment."""
    return [
        Event(
            StreamEvent.Kind.FUNDING,
            p.exchange_id,
            p.bot_instance_id,
            p.symbol,
            p.market_symbol,
            {"id": p.id, "account_id": p.exchange_id, "bot_instance_id": p.bot_instance_id, **{f: getattr(p, f) for f in _FUNDING_FIELDS}},
        )
        for p in payments
    ]


RAISED, CLEARED = "raised", "cleared"


def alarm_event(account_id: int, alarm: str, state: str, reason: str = "", *, symbol: str = "", market_symbol: str = "", **details) -> Event:
    """An "alarm" event: `alarm` names what is wrong (account_down, trade_id_reused, audit_differs),
    `state` is RAISED or CLEARED."""
    data = {"account_id": account_id, "alarm": alarm, "state": state, "reason": reason, **details}
    return Event(StreamEvent.Kind.ALARM, account_id, None, symbol, market_symbol, data)


def emit_funding_inserted(sender, payments, **kwargs) -> None:
    """The live stream's receiver of `funding_inserted`: whatever stores funding payments and sends
    the signal (in its transaction) has them on the stream, numbered at its commit."""
    emit(funding_events(payments))
