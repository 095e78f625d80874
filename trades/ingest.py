"""Storing trades: normalise, insert once, tell the positions app. The one door every trade comes in by."""

from __future__ import annotations

import json
import logging
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models.base import ModelState
import orjson
import psycopg
from psycopg.types.json import Jsonb

from exchanges.markets import market_facts
from exchanges.models import ExchangeAccount, PositionMode

from .deltas import trade_deltas
from .models import FOLD_ORDER, RejectedTrade, Trade
from .normalize import ExactTrade, RejectedPayload, exact_trade, stored_trade_id
from .signals import trades_inserted

logger = logging.getLogger(__name__)

_COLUMNS = (
    ("exchange_id", "bigint"),
    ("bot_instance_id", "bigint"),
    ("exchange_trade_id", "text"),
    ("order_id", "text"),
    ("symbol", "text"),
    ("market_symbol", "text"),
    ("side", "text"),
    ("kind", "text"),
    ("leg", "text"),
    ("taker_or_maker", "text"),
    ("amount", "numeric"),
    ("contract_size", "numeric"),
    ("price", "numeric"),
    ("cost", "numeric"),
    ("fee_cost", "numeric"),
    ("fee_currency", "text"),
    ("timestamp", "timestamptz"),
    ("p1_delta", "numeric"),
    ("p2_delta", "numeric"),
    ("raw", "jsonb"),
)
_NAMES = ", ".join(f'"{name}"' for name, _ in _COLUMNS)
# Per row: every column but the account and bot instance, which are the batch's. The rows travel as
# one JSON document, `[[exchange_trade_id, order_id, ..., raw], ...]`, with numbers as decimal strings
# (cast to numeric by the database: exact, never a float) and times in ISO 8601: one encoding call
# for the batch, where arrays would be encoded element by element in Python.
_ROW_COLUMNS = _COLUMNS[2:]
_ROW_NAMES = ", ".join(f'"{name}"' for name, _ in _ROW_COLUMNS)
_ROW_FIELDS = ", ".join(
    f"row->{n}" if kind == "jsonb" else f"(row->>{n})::{kind}" for n, (_, kind) in enumerate(_ROW_COLUMNS)
)
_IDENTITY = ("market_symbol", "side", "kind", "leg", "amount", "price", "cost", "fee_cost", "fee_currency", "timestamp")
_TABLE = Trade._meta.db_table
# One statement per batch: rows arrive as arrays, duplicates of stored trades are skipped, and the
# answer names the rows this statement inserted (with their ids) and, for each skipped row stored
# before the statement began, whether the stored trade has the same content. Rows go in as processed:
# the fold runs in the same transaction, and only if it fails does its receiver mark them unprocessed.
# (Inserting them unprocessed and updating them after the fold would write every row twice.)
# The statement's read of the table sees it as it was when the statement began, so the two parts of
# the answer never overlap; a row stored meanwhile by another transaction is in neither part.
_INSERT = f"""
WITH batch ({_ROW_NAMES}) AS (
    SELECT {_ROW_FIELDS} FROM jsonb_array_elements(%(rows)b::jsonb) AS row
), inserted AS (
    INSERT INTO {_TABLE} ({_NAMES}, processed, received_at)
    SELECT %(exchange_id)b::bigint, %(bot_instance_id)b::bigint, {_ROW_NAMES}, %(processed)b, now() FROM batch
    ON CONFLICT (exchange_id, exchange_trade_id) DO NOTHING
    RETURNING id, exchange_trade_id
)
SELECT exchange_trade_id, id, NULL FROM inserted
UNION ALL
SELECT batch.exchange_trade_id, NULL, stored.same
FROM batch CROSS JOIN LATERAL (
    SELECT ({", ".join(f'"{f}"' for f in _IDENTITY)}) IS NOT DISTINCT FROM ({", ".join(f'batch."{f}"' for f in _IDENTITY)}) AS same
    FROM {_TABLE}
    WHERE exchange_id = %(exchange_id)b::bigint AND exchange_trade_id = batch.exchange_trade_id
    LIMIT 1  -- (one at most: the unique key) keeps it a lookup per row in the unique index
) stored
"""


def _json_value(value):
    """What the JSON encoders cannot write themselves: decimals as their exact strings, times in ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _json_dumps(value) -> bytes:
    """orjson (which ccxt installs) where it can, else the standard library; decimals never as numbers."""
    try:
        return orjson.dumps(value, default=_json_value)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, default=_json_value, separators=(",", ":")).encode()


def _contract_size(account: ExchangeAccount, market_symbol: str) -> Decimal:
    facts = market_facts(account.pk, market_symbol)
    return facts.contract_size if facts is not None else Decimal(1)


_FIELD_ORDER = [f.attname for f in Trade._meta.concrete_fields]


def trade_values(account: ExchangeAccount, exact: ExactTrade, raw: dict, contract_size: Decimal, bot_instance_id=None) -> list:
    """A trade's field values, in `Trade`'s field order."""
    base, quote = exact.symbol.split("/", 1)
    deltas = trade_deltas(
        side=exact.side,
        amount=exact.amount,
        cost=exact.cost,
        base=base,
        quote=quote,
        contract_size=contract_size,
        fee_cost=exact.fee_cost,
        fee_currency=exact.fee_currency,
    )
    # Listed in _FIELD_ORDER (checked below): the id, then the columns, processed, raw, received_at.
    return [
        None,
        account.pk,
        bot_instance_id,
        exact.exchange_trade_id,
        exact.order_id,
        exact.symbol,
        exact.market_symbol,
        exact.side,
        exact.kind,
        exact.leg,
        exact.taker_or_maker,
        exact.amount,
        contract_size,
        exact.price,
        exact.cost,
        exact.fee_cost,
        exact.fee_currency,
        exact.timestamp,
        deltas.p1_delta,
        deltas.p2_delta,
        False,
        raw,
        None,
    ]


_VALUE_NAMES = ["id", *(name for name, _ in _COLUMNS[:-1]), "processed", "raw", "received_at"]
if _VALUE_NAMES != _FIELD_ORDER:
    raise RuntimeError("trade_values lists the fields in another order than Trade has them")
_AT = {name: index for index, name in enumerate(_FIELD_ORDER)}
_json_row = operator.itemgetter(*(_AT[name] for name, _ in _ROW_COLUMNS))  # a row of the batch document


def build_trade(account: ExchangeAccount, exact: ExactTrade, raw: dict, contract_size: Decimal, bot_instance_id=None) -> Trade:
    # Positional arguments take Model.__init__'s fast path; keywords cost more than the rest of
    # normalising a trade.
    return Trade(*trade_values(account, exact, raw, contract_size, bot_instance_id))


def raw_payload(trade: dict) -> dict:
    """What ccxt gave, for the record, with its floats dropped: the exact strings are in `info`."""
    return {key: value for key, value in trade.items() if key not in ("price", "amount", "cost", "fee", "fees")}


def _reject(account: ExchangeAccount, trade, reason: str) -> RejectedTrade:
    logger.warning("rejected a trade payload from %s: %s", account.name, reason)
    raw = raw_payload(trade) if isinstance(trade, dict) else {"payload": repr(trade)}
    trade_id = _rejected_trade_id(account, trade)
    return RejectedTrade(exchange=account, exchange_trade_id=trade_id, reason=reason, raw=_json_safe(raw))


def _rejected_trade_id(account: ExchangeAccount, trade) -> str:
    """The id a rejected payload would have been stored under, or what it says its id is."""
    if not isinstance(trade, dict):
        return ""
    try:
        return stored_trade_id(account.venue_object, trade)[:64]
    except (RejectedPayload, TypeError, AttributeError):
        return str(trade.get("id") or "")[:64]


def _json_safe(value):
    """Floats become their repr strings, so a kept-aside payload round-trips without a float."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float):
        return repr(value)
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def normalise_rows(account: ExchangeAccount, trades: Iterable[dict], bot_instance_id=None) -> tuple[list[list], list[RejectedTrade]]:
    """Split a batch into storable trades (as `trade_values` lists, one per trade id) and `RejectedTrade`s."""
    storable: dict[str, list] = {}
    rejected: list[RejectedTrade] = []
    venue = account.venue_object
    hedge = account.position_mode == PositionMode.HEDGE
    contract_sizes: dict[str, Decimal] = {}  # per market, looked up once a batch
    for payload in trades:
        try:
            if not isinstance(payload, dict):
                raise RejectedPayload("not a trade object")
            exact = exact_trade(venue, payload, hedge=hedge)
        except RejectedPayload as reason:
            rejected.append(_reject(account, payload, str(reason)))
            continue
        contract_size = contract_sizes.get(exact.market_symbol)
        if contract_size is None:
            contract_size = contract_sizes[exact.market_symbol] = _contract_size(account, exact.market_symbol)
        storable[exact.exchange_trade_id] = trade_values(account, exact, raw_payload(payload), contract_size, bot_instance_id)
    return list(storable.values()), rejected


def normalise_batch(account: ExchangeAccount, trades: Iterable[dict], bot_instance_id=None):
    """Split a batch into storable `Trade`s and `RejectedTrade`s."""
    rows, rejected = normalise_rows(account, trades, bot_instance_id)
    return [Trade(*values) for values in rows], rejected


def _stored_trade(values: list, alias: str) -> Trade:
    """A `Trade` as loaded from the database, built the way `Model.from_db` leaves one but without
    `Model.__init__`'s per-field work (nothing listens to Trade's pre_init or post_init)."""
    trade = Trade.__new__(Trade)
    trade.__dict__.update(zip(_FIELD_ORDER, values))
    trade._state = ModelState()
    trade._state.adding, trade._state.db = False, alias
    return trade


@dataclass
class Inserted:
    new: list[Trade]  # stored by this statement, with their ids
    unchecked: list[list]  # skipped rows whose stored trade differs, or was stored meanwhile: compare them


def insert_new_trades(account: ExchangeAccount, rows: list[list], *, bot_instance_id=None, processed: bool = True) -> Inserted:
    """Insert one account's rows in one statement, skipping trades already stored."""
    if not rows:
        return Inserted([], [])
    rows = sorted(rows, key=lambda values: values[_AT["exchange_trade_id"]])
    params = {
        "rows": Jsonb([_json_row(values) for values in rows], dumps=_json_dumps),
        "exchange_id": account.pk,
        "bot_instance_id": bot_instance_id,
        "processed": processed,
    }
    connection.ensure_connection()
    # A server-side-binding cursor sends the document in binary; Django's client-side cursor would
    # quote it into the SQL text. In a pipeline, the transaction's BEGIN goes with the statement.
    raw = connection.connection
    with raw.pipeline(), psycopg.Cursor(raw) as cursor:
        cursor.execute(_INSERT, params, binary=True)
        answer = cursor.fetchall()
    inserted = {trade_id: pk for trade_id, pk, _ in answer if pk is not None}
    unchanged = {trade_id for trade_id, pk, same in answer if pk is None and same}
    result = Inserted([], [])
    at_id, at_pk, at_processed = _AT["exchange_trade_id"], _AT["id"], _AT["processed"]
    alias = connection.alias  # (a lookup in asgiref's thread-local storage: once, not per trade)
    for values in rows:
        pk = inserted.get(values[at_id])
        if pk is None:
            if values[at_id] not in unchanged:
                result.unchecked.append(values)
            continue
        values = list(values)
        values[at_pk], values[at_processed] = pk, processed
        result.new.append(_stored_trade(values, alias))
    return result


Difference = tuple[str, object, object]  # (field, stored value, value in the trade compared)


def differences_from_stored(account: ExchangeAccount, trades: list[Trade]) -> list[tuple[Trade, list[Difference]]]:
    """The trades whose id is stored with other content, and what differs: the one rule for "the same
    trade" (market, side, amount, price, cost, fee, fee coin, time). Trades not stored are left out."""
    if not trades:
        return []
    stored: dict[str, tuple] = {}
    ids = [t.exchange_trade_id for t in trades]
    for start in range(0, len(ids), 5000):
        rows = Trade.objects.filter(exchange=account, exchange_trade_id__in=ids[start : start + 5000]).values_list("exchange_trade_id", *_IDENTITY)
        stored.update((row[0], row[1:]) for row in rows)
    differing = []
    for trade in trades:
        before = stored.get(trade.exchange_trade_id)
        now = tuple(getattr(trade, field) for field in _IDENTITY)
        if before is not None and before != now:
            differing.append((trade, [(f, a, b) for f, a, b in zip(_IDENTITY, before, now) if a != b]))
    return differing


def conflicting_duplicates(account: ExchangeAccount, skipped: list[Trade]) -> list[tuple[Trade, str]]:
    """Skipped trades whose id is stored with different content: an exchange reusing an id, or a
    corrupted payload. Either way an alarm, never a silent overwrite."""
    return [
        (trade, "trade id reused with different content: " + ", ".join(f"{f} {a} -> {b}" for f, a, b in changes))
        for trade, changes in differences_from_stored(account, skipped)
    ]


class FoldFailed(Exception):
    """A receiver of `trades_inserted` failed: the batch's transaction is undone and stored again unfolded."""


def ingest_trades(
    account: ExchangeAccount, trades: Iterable[dict], *, bot_instance_id: int | None = None, fold: bool = True
) -> list[Trade]:
    """Store ccxt unified trades of one account exactly once and fold the new ones into positions.

    Payloads that cannot be stored are kept aside as `RejectedTrade`s with the reason. Returns the
    trades that were new; a trade already stored (by this path or the other) is skipped silently.
    With `fold=False` the new trades are stored unprocessed and not folded yet: for a caller that
    receives history newest first and has it folded once, in order, afterwards (`release_unfolded`),
    since folding each older page as it comes would replay the book every time.

    If folding fails, the whole transaction is rolled back and the batch stored again unprocessed,
    for the sweeper: a stored trade is never lost to a failed fold. (Retrying the rare failure costs
    less than a savepoint around every fold, which is two more round trips on every trade.)
    """
    storable, rejected = normalise_rows(account, trades, bot_instance_id)
    if fold:
        try:
            return _store(account, storable, rejected, bot_instance_id, fold=True)
        except FoldFailed as failure:
            logger.error("folding new trades of %s failed; storing them unprocessed for the sweeper", account.name, exc_info=failure.__cause__)
    return _store(account, storable, rejected, bot_instance_id, fold=False)


def _store(account: ExchangeAccount, storable: list[list], rejected: list[RejectedTrade], bot_instance_id, *, fold: bool) -> list[Trade]:
    with transaction.atomic():
        if rejected:
            RejectedTrade.objects.bulk_create(rejected)
        inserted = insert_new_trades(account, storable, bot_instance_id=bot_instance_id, processed=fold)
        new = inserted.new
        conflicts = conflicting_duplicates(account, [Trade(*values) for values in inserted.unchecked])
        for trade, reason in conflicts:
            logger.error("ALARM %s %s: %s", account.name, trade.exchange_trade_id, reason)
        if conflicts:
            RejectedTrade.objects.bulk_create(
                RejectedTrade(exchange=account, exchange_trade_id=t.exchange_trade_id, reason=reason, raw=t.raw) for t, reason in conflicts
            )
        if new and fold:
            try:
                trades_inserted.send(sender=Trade, trades=new)
            except Exception as error:
                raise FoldFailed from error
    return new


def release_unfolded(account: ExchangeAccount, market_symbol: str, batch_size: int = 5000) -> int:
    """Send `trades_inserted` for a market's stored-but-unfolded trades, oldest first, so they fold in
    order; in the caller's transaction. Returns how many. A batch whose fold fails stays unprocessed
    (for the sweeper) and ends the release, since later trades must not fold before it."""
    released = 0
    while True:
        batch = list(
            Trade.objects.filter(exchange=account, market_symbol=market_symbol, processed=False).order_by(*FOLD_ORDER)[:batch_size]
        )
        if not batch:
            return released
        try:
            with transaction.atomic():
                trades_inserted.send(sender=Trade, trades=batch)
        except Exception:
            logger.exception("folding %d stored trades of %s %s failed; they stay unprocessed for the sweeper", len(batch), account.name, market_symbol)
            return released
        released += len(batch)
