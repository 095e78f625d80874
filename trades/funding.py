"""The funding ledger: a perpetual venue's funding payments stored once each, exact, beside the
trades (a payment changes no position's size, so it is never a trade).

`ingest_funding` is the one door payments come in by, from REST pages and the stream alike: each
payload (a ccxt dict, `info` holding the venue's row) is normalised to exact `Decimal`s from the
venue's own strings (where `Venue.funding_fields` says they are; never ccxt's floats), inserted once
per (account, venue id) by one statement that says which rows were new, and the new ones are sent
with `funding_inserted` in the same transaction, for the positions app to fold. A payload that cannot
be stored is logged and kept aside as a `RejectedTrade` of the funding feed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.db import connection, transaction

from exchanges.models import ExchangeAccount, PositionMode, canonical_symbol
from exchanges.venues import Venue

from .ingest import FoldFailed, raw_payload
from .models import FundingPayment, RejectedTrade
from .normalize import RejectedPayload, exact_decimal
from .signals import funding_inserted

logger = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FUNDING_ORDER = ("timestamp", "exchange_funding_id")


class ExactPayment(NamedTuple):
    exchange_funding_id: str
    market_symbol: str
    symbol: str
    leg: str
    timestamp: datetime
    amount: Decimal  # in the settle coin: + received, - paid
    currency: str
    rate: Decimal | None
    position_size: Decimal | None


def _optional_decimal(info: dict, keys: tuple[str, ...], name: str) -> Decimal | None:
    if not keys or all(info.get(key) in (None, "") for key in keys):
        return None
    return exact_decimal(info, tuple(key for key in keys if info.get(key) not in (None, "")), name)


def exact_payment(venue: Venue, payment: dict, *, hedge: bool = False) -> ExactPayment:
    """A funding payload's exact fields, or `RejectedPayload` saying what is wrong with it."""
    fields = venue.funding_fields
    info = payment.get("info")
    if not isinstance(info, dict):
        raise RejectedPayload("no raw exchange payload in info")
    payment_id = payment.get("id")
    if not payment_id or not isinstance(payment_id, str):
        raise RejectedPayload("no funding payment id")
    market_symbol = payment.get("symbol")
    if not isinstance(market_symbol, str) or "/" not in market_symbol or ":" not in market_symbol:
        raise RejectedPayload(f"{market_symbol!r} is not a perpetual's symbol")
    timestamp = payment.get("timestamp")
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or timestamp <= 0:
        raise RejectedPayload(f"timestamp {timestamp!r} is not milliseconds since the epoch")
    amount = exact_decimal(info, fields["amount"], "amount")
    if venue.funding_paid_positive:
        amount = -amount
    rate = _optional_decimal(info, fields.get("rate", ()), "rate")
    position_size = _optional_decimal(info, fields.get("position_size", ()), "position size")
    if position_size is not None and position_size < 0:
        raise RejectedPayload(f"position size {position_size} is negative")
    named = next((info[key] for key in fields.get("currency", ()) if isinstance(info.get(key), str) and info[key]), "")
    return ExactPayment(
        exchange_funding_id=payment_id[:64],
        market_symbol=market_symbol,
        symbol=canonical_symbol(market_symbol),
        leg=venue.funding_leg(payment) if hedge else "",
        timestamp=_EPOCH + timedelta(milliseconds=timestamp),
        amount=amount,
        currency=named or market_symbol.rsplit(":", 1)[1],
        rate=rate,
        position_size=position_size,
    )


def _reject(account: ExchangeAccount, payment, reason: str) -> RejectedTrade:
    logger.warning("rejected a funding payload from %s: %s", account.name, reason)
    raw = raw_payload(payment) if isinstance(payment, dict) else {"payload": repr(payment)}
    payment_id = str(payment.get("id") or "")[:64] if isinstance(payment, dict) else ""
    return RejectedTrade(exchange=account, feed=RejectedTrade.Feed.FUNDING, exchange_trade_id=payment_id, reason=reason, raw=_json_safe(raw))


def _json_safe(value):
    return json.loads(json.dumps(value, default=str))


def normalise_payments(account: ExchangeAccount, payments: Iterable[dict]) -> tuple[list[tuple[ExactPayment, dict]], list[RejectedTrade]]:
    """Split payloads into storable payments (one per venue id, with the raw payload kept) and rejects."""
    venue = account.venue_object
    hedge = account.position_mode == PositionMode.HEDGE
    storable: dict[str, tuple[ExactPayment, dict]] = {}
    rejected: list[RejectedTrade] = []
    for payload in payments:
        try:
            if not isinstance(payload, dict):
                raise RejectedPayload("not a funding payment object")
            exact = exact_payment(venue, payload, hedge=hedge)
        except RejectedPayload as reason:
            rejected.append(_reject(account, payload, str(reason)))
            continue
        storable[exact.exchange_funding_id] = (exact, _json_safe(raw_payload(payload)))
    return list(storable.values()), rejected


_TABLE = FundingPayment._meta.db_table
_COLUMNS = ("exchange_id", "exchange_funding_id", "symbol", "market_symbol", "leg", "timestamp", "amount", "currency", "rate", "position_size", "processed", "raw", "received_at")
_IDENTITY = ("market_symbol", "leg", "timestamp", "amount", "currency")


def _insert(account: ExchangeAccount, rows: list[tuple[ExactPayment, dict]], processed: bool) -> list[int]:
    """One statement: the rows not stored yet are inserted; returns the ids of those it inserted."""
    if not rows:
        return []
    values, params = [], []
    for exact, raw in sorted(rows, key=lambda row: row[0].exchange_funding_id):
        values.append("(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, now())")
        params += [
            account.pk, exact.exchange_funding_id, exact.symbol, exact.market_symbol, exact.leg, exact.timestamp,
            exact.amount, exact.currency, exact.rate, exact.position_size, processed, json.dumps(raw),
        ]
    names = ", ".join(f'"{name}"' for name in _COLUMNS)
    sql = (
        f"INSERT INTO {_TABLE} ({names}) VALUES {', '.join(values)} "
        "ON CONFLICT (exchange_id, exchange_funding_id) DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _conflicts(account: ExchangeAccount, skipped: list[tuple[ExactPayment, dict]]) -> list[RejectedTrade]:
    """Skipped payments whose id is stored with other content: an alarm, never an overwrite."""
    if not skipped:
        return []
    stored = {
        row[0]: row[1:]
        for row in FundingPayment.objects.filter(exchange=account, exchange_funding_id__in=[e.exchange_funding_id for e, _ in skipped]).values_list(
            "exchange_funding_id", *_IDENTITY
        )
    }
    conflicts = []
    for exact, raw in skipped:
        before, now = stored.get(exact.exchange_funding_id), tuple(getattr(exact, f) for f in _IDENTITY)
        if before is None or before == now:
            continue
        reason = "funding id reused with different content: " + ", ".join(f"{f} {a} -> {b}" for f, a, b in zip(_IDENTITY, before, now) if a != b)
        logger.error("ALARM %s %s: %s", account.name, exact.exchange_funding_id, reason)
        conflicts.append(RejectedTrade(exchange=account, feed=RejectedTrade.Feed.FUNDING, exchange_trade_id=exact.exchange_funding_id, reason=reason, raw=raw))
    return conflicts


def ingest_funding(account: ExchangeAccount, payments: Iterable[dict], *, fold: bool = True) -> list[FundingPayment]:
    """Store one account's funding payloads exactly once; returns the payments that were new, in
    time order. With `fold`, the new ones are sent with `funding_inserted` in the same transaction
    and stored processed; if a receiver fails, the transaction is undone and the batch stored again
    unprocessed (as trades are: see `trades.ingest.ingest_trades`). `fold=False`: stored unprocessed
    and not sent yet, for a caller reading history newest first (`release_unfolded_funding`)."""
    storable, rejected = normalise_payments(account, payments)
    if fold:
        try:
            return _store(account, storable, rejected, fold=True)
        except FoldFailed as failure:
            logger.error("folding new funding payments of %s failed; storing them unprocessed", account.name, exc_info=failure.__cause__)
    return _store(account, storable, rejected, fold=False)


def _store(account: ExchangeAccount, storable: list, rejected: list[RejectedTrade], *, fold: bool) -> list[FundingPayment]:
    with transaction.atomic():
        if rejected:
            RejectedTrade.objects.bulk_create(rejected)
        inserted = _insert(account, storable, processed=fold)
        new = list(FundingPayment.objects.filter(id__in=inserted).order_by(*FUNDING_ORDER)) if inserted else []
        new_ids = {p.exchange_funding_id for p in new}
        conflicts = _conflicts(account, [row for row in storable if row[0].exchange_funding_id not in new_ids])
        if conflicts:
            RejectedTrade.objects.bulk_create(conflicts)
        if new and fold:
            try:
                funding_inserted.send(sender=FundingPayment, payments=new)
            except Exception as error:
                raise FoldFailed from error
    return new


def release_unfolded_funding(account: ExchangeAccount, market_symbol: str, batch_size: int = 5000) -> int:
    """Send `funding_inserted` for a market's stored-but-unfolded payments, oldest first, in the
    caller's transaction (as `release_unfolded` does for trades; the receiver marks what it folded
    processed). Returns how many; a batch whose fold fails stays unprocessed and ends the release."""
    ids = list(
        FundingPayment.objects.filter(exchange=account, market_symbol=market_symbol, processed=False).order_by(*FUNDING_ORDER).values_list("id", flat=True)
    )
    released = 0
    for start in range(0, len(ids), batch_size):
        batch = list(FundingPayment.objects.filter(id__in=ids[start : start + batch_size]).order_by(*FUNDING_ORDER))
        try:
            with transaction.atomic():
                funding_inserted.send(sender=FundingPayment, payments=batch)
        except Exception:
            logger.exception("folding %d stored funding payments of %s %s failed; they stay unprocessed", len(batch), account.name, market_symbol)
            return released
        released += len(batch)
    return released
