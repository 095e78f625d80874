"""Storing trades: normalise, insert once, tell the positions app. The one door every trade comes in by."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from decimal import Decimal

from django.db import connection, transaction
import psycopg
from psycopg.types.json import Jsonb

from exchanges.models import ExchangeAccount, Market
from positions.fold import trade_deltas

from .models import FOLD_ORDER, RejectedTrade, Trade
from .normalize import ExactTrade, RejectedPayload, exact_trade
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
_ARRAYS = ", ".join(f"%b::{kind}[]" for _, kind in _COLUMNS)
# One statement per batch: rows arrive as arrays, duplicates of stored trades are skipped, and
# RETURNING names only the rows this statement inserted. Rows go in as processed: the fold runs in the
# same transaction, and only if it fails does its receiver mark them unprocessed. (Inserting them
# unprocessed and updating them after the fold would write every row twice.)
_INSERT = (
    f"INSERT INTO {Trade._meta.db_table} ({_NAMES}, processed, received_at) "
    f"SELECT {_NAMES}, %b, now() FROM unnest({_ARRAYS}) AS batch({_NAMES}) "
    f"ON CONFLICT (exchange_id, exchange_trade_id) DO NOTHING RETURNING id, exchange_trade_id"
)


def _contract_size(account: ExchangeAccount, market_symbol: str, markets: dict[str, Decimal]) -> Decimal:
    if market_symbol not in markets:
        found = Market.objects.filter(account=account, market_symbol=market_symbol).values_list(
            "contract_size", flat=True
        )
        markets[market_symbol] = found.first() or Decimal(1)
    return markets[market_symbol]


_FIELD_ORDER = [f.attname for f in Trade._meta.concrete_fields]


def build_trade(account: ExchangeAccount, exact: ExactTrade, raw: dict, contract_size: Decimal, bot_instance_id=None) -> Trade:
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
    values = {
        "id": None,
        "exchange_id": account.pk,
        "bot_instance_id": bot_instance_id,
        "exchange_trade_id": exact.exchange_trade_id,
        "order_id": exact.order_id,
        "symbol": exact.symbol,
        "market_symbol": exact.market_symbol,
        "side": exact.side,
        "taker_or_maker": exact.taker_or_maker,
        "amount": exact.amount,
        "contract_size": contract_size,
        "price": exact.price,
        "cost": exact.cost,
        "fee_cost": exact.fee_cost,
        "fee_currency": exact.fee_currency,
        "timestamp": exact.timestamp,
        "p1_delta": deltas.p1_delta,
        "p2_delta": deltas.p2_delta,
        "processed": False,
        "raw": raw,
        "received_at": None,
    }
    # Positional arguments take Model.__init__'s fast path; keywords cost more than the rest of
    # normalising a trade.
    return Trade(*(values[name] for name in _FIELD_ORDER))


def raw_payload(trade: dict) -> dict:
    """What ccxt gave, for the record, with its floats dropped: the exact strings are in `info`."""
    return {key: value for key, value in trade.items() if key not in ("price", "amount", "cost", "fee", "fees")}


def _reject(account: ExchangeAccount, trade, reason: str) -> RejectedTrade:
    logger.warning("rejected a trade payload from %s: %s", account.name, reason)
    raw = raw_payload(trade) if isinstance(trade, dict) else {"payload": repr(trade)}
    trade_id = str(trade.get("id") or "")[:64] if isinstance(trade, dict) else ""
    return RejectedTrade(exchange=account, exchange_trade_id=trade_id, reason=reason, raw=_json_safe(raw))


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


def normalise_batch(account: ExchangeAccount, trades: Iterable[dict], bot_instance_id=None):
    """Split a batch into storable `Trade`s and `RejectedTrade`s."""
    storable: dict[str, Trade] = {}
    rejected: list[RejectedTrade] = []
    markets: dict[str, Decimal] = {}
    for payload in trades:
        try:
            if not isinstance(payload, dict):
                raise RejectedPayload("not a trade object")
            exact = exact_trade(account.ccxt_id, payload)
        except RejectedPayload as reason:
            rejected.append(_reject(account, payload, str(reason)))
            continue
        contract_size = _contract_size(account, exact.market_symbol, markets)
        storable[exact.exchange_trade_id] = build_trade(account, exact, raw_payload(payload), contract_size, bot_instance_id)
    return list(storable.values()), rejected


def insert_new_trades(trades: list[Trade], *, processed: bool = True) -> list[Trade]:
    """Insert in one statement, skipping trades already stored; returns the ones that were new."""
    if not trades:
        return []
    trades = sorted(trades, key=lambda t: (t.exchange_id, t.exchange_trade_id))
    columns = [[] for _ in _COLUMNS]
    for trade in trades:
        for values, (name, _) in zip(columns, _COLUMNS):
            value = getattr(trade, name)
            values.append(Jsonb(value) if name == "raw" else value)
    connection.ensure_connection()
    # A server-side-binding cursor sends the arrays in binary; Django's client-side cursor would
    # quote every element into the SQL text, which costs more than the insert itself.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(_INSERT, [processed, *columns], binary=True)
        inserted = dict((trade_id, pk) for pk, trade_id in cursor.fetchall())
    new = []
    for trade in trades:
        pk = inserted.get(trade.exchange_trade_id)
        if pk is not None:
            trade.id = pk
            trade.processed = processed
            trade._state.adding = False
            trade._state.db = connection.alias
            new.append(trade)
    return new


_IDENTITY = ("market_symbol", "side", "amount", "price", "cost", "fee_cost", "fee_currency", "timestamp")


def conflicting_duplicates(account: ExchangeAccount, skipped: list[Trade]) -> list[tuple[Trade, str]]:
    """Skipped trades whose id is stored with different content: an exchange reusing an id, or a
    corrupted payload. Either way an alarm, never a silent overwrite."""
    if not skipped:
        return []
    stored = {
        row[0]: row[1:]
        for row in Trade.objects.filter(exchange=account, exchange_trade_id__in=[t.exchange_trade_id for t in skipped]).values_list(
            "exchange_trade_id", *_IDENTITY
        )
    }
    conflicts = []
    for trade in skipped:
        before = stored.get(trade.exchange_trade_id)
        now = tuple(getattr(trade, field) for field in _IDENTITY)
        if before is not None and before != now:
            changed = ", ".join(f"{f} {a} -> {b}" for f, a, b in zip(_IDENTITY, before, now) if a != b)
            conflicts.append((trade, f"trade id reused with different content: {changed}"))
    return conflicts


def ingest_trades(
    account: ExchangeAccount, trades: Iterable[dict], *, bot_instance_id: int | None = None, fold: bool = True
) -> list[Trade]:
    """Store ccxt unified trades of one account exactly once and fold the new ones into positions.

    Payloads that cannot be stored are kept aside as `RejectedTrade`s with the reason. Returns the
    trades that were new; a trade already stored (by this path or the other) is skipped silently.
    With `fold=False` the new trades are stored unprocessed and not folded yet: for a caller that
    receives history newest first and has it folded once, in order, afterwards (`release_unfolded`),
    since folding each older page as it comes would replay the book every time.
    """
    storable, rejected = normalise_batch(account, trades, bot_instance_id)
    with transaction.atomic():
        if rejected:
            RejectedTrade.objects.bulk_create(rejected)
        new = insert_new_trades(storable, processed=fold)
        new_ids = {t.exchange_trade_id for t in new}
        conflicts = conflicting_duplicates(account, [t for t in storable if t.exchange_trade_id not in new_ids])
        for trade, reason in conflicts:
            logger.error("ALARM %s %s: %s", account.name, trade.exchange_trade_id, reason)
        RejectedTrade.objects.bulk_create(
            RejectedTrade(exchange=account, exchange_trade_id=t.exchange_trade_id, reason=reason, raw=t.raw) for t, reason in conflicts
        )
        if new and fold:
            trades_inserted.send(sender=Trade, trades=new)
    return new


def release_unfolded(account: ExchangeAccount, market_symbol: str, batch_size: int = 5000) -> int:
    """Send `trades_inserted` for a market's stored-but-unfolded trades, oldest first, so they fold in
    order; in the caller's transaction. Returns how many."""
    released = 0
    while True:
        batch = list(
            Trade.objects.filter(exchange=account, market_symbol=market_symbol, processed=False).order_by(*FOLD_ORDER)[:batch_size]
        )
        if not batch:
            return released
        trades_inserted.send(sender=Trade, trades=batch)
        if any(not t.processed for t in batch):
            return released  # the fold failed and said why; the sweeper retries
        released += len(batch)
