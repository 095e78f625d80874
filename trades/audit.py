"""The gap audit: read an account's trades back from the exchange over a time range and compare them
with what is stored: trades missing, and stored trades whose content differs from the exchange's copy
(by ingest's rule for the same trade). The cursor is left alone; with `repair`, missing trades are
ingested. A stored trade is never overwritten: a difference stays an alarm for a person to look into.

On a venue that lists funding payments with the trades, the payments read back are checked too:
those not in the funding ledger are missing (and, with `repair`, stored)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from exchanges.models import ExchangeAccount

from . import metrics
from .backoff import Backoff
from .db import db_sync_to_async
from .fold_order import trade_id_key
from .funding import ingest_funding
from .ingest import Difference, differences_from_stored, ingest_trades, normalise_batch
from .models import FundingPayment, StreamHealth, Trade
from .normalize import RejectedPayload, stored_trade_id
from .sync import now_ms

logger = logging.getLogger(__name__)


@dataclass
class AuditResult:
    account: str
    checked: int = 0
    missing: dict[str, list[str]] = field(default_factory=dict)  # market symbol -> stored ids of the missing trades
    repaired: int = 0
    # market symbol -> (stored id, [(field, stored value, the exchange's value)]) of stored trades that differ
    differing: dict[str, list[tuple[str, list[Difference]]]] = field(default_factory=dict)
    funding_checked: int = 0
    missing_funding: dict[str, list[str]] = field(default_factory=dict)  # market symbol -> venue ids of the missing payments
    funding_repaired: int = 0

    @property
    def missing_count(self) -> int:
        return sum(len(ids) for ids in self.missing.values())

    @property
    def missing_funding_count(self) -> int:
        return sum(len(ids) for ids in self.missing_funding.values())

    @property
    def differing_count(self) -> int:
        return sum(len(trades) for trades in self.differing.values())


def _shown(value) -> str:
    return f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)


def describe(changes: list[Difference]) -> str:
    """`amount stored 0.2188, exchange 0.1094; fee_cost ...`"""
    return "; ".join(f"{name} stored {_shown(stored)}, exchange {_shown(venue)}" for name, stored, venue in changes)


def _stored_ids(account: ExchangeAccount, ids: list[str]) -> set[str]:
    stored: set[str] = set()
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        stored.update(Trade.objects.filter(exchange=account, exchange_trade_id__in=chunk).values_list("exchange_trade_id", flat=True))
    return stored


def _stored_id(account: ExchangeAccount, trade: dict) -> str | None:
    try:
        return stored_trade_id(account.venue_object, trade)
    except RejectedPayload:
        return None


def _differing(account: ExchangeAccount, trades: list[dict]) -> list[tuple[str, list[Difference]]]:
    """The stored trades among `trades` (the exchange's copies) whose stored content differs."""
    venue_copies, _ = normalise_batch(account, trades)
    found = differences_from_stored(account, venue_copies)
    return sorted(((t.exchange_trade_id, changes) for t, changes in found), key=lambda item: trade_id_key(item[0]))


def _record(account: ExchangeAccount, result: AuditResult) -> None:
    StreamHealth.objects.update_or_create(
        account=account,
        defaults={
            "last_audit_at": timezone.now(),
            "last_audit_checked": result.checked,
            "last_audit_missing": result.missing_count + result.missing_funding_count,
            "last_audit_differing": result.differing_count,
        },
    )


def _stored_funding_ids(account: ExchangeAccount, ids: list[str]) -> set[str]:
    return set(FundingPayment.objects.filter(exchange=account, exchange_funding_id__in=ids).values_list("exchange_funding_id", flat=True))


async def read_back(client, account: ExchangeAccount, market_symbol: str, since: datetime, backoff: Backoff) -> tuple[list[dict], list[dict]]:
    """A market's trades and (where its pages list them) funding payments since `since`, as the venue has them now."""
    pager = account.venue_object.pager()
    resume = pager.initial(int(since.timestamp() * 1000))
    since_ms = int(since.timestamp() * 1000)
    trades: dict[str, dict] = {}
    funding: dict[str, dict] = {}
    while True:
        page = await backoff.call(client, lambda: pager.fetch(client, market_symbol, resume, now_ms()), f"audit {account.name} {market_symbol}")
        for read, kept in ((page.trades, trades), (page.funding, funding)):
            for item in read:
                if (item.get("timestamp") or 0) >= since_ms:
                    kept[str(item["id"])] = item  # one market's: its ids alone are unique
        resume = page.resume
        if page.done:
            return list(trades.values()), list(funding.values())


async def audit_account(account: ExchangeAccount, client, market_symbols: list[str], since: datetime, *, repair: bool = False, backoff: Backoff | None = None) -> AuditResult:
    backoff = backoff or Backoff()
    result = AuditResult(account.name)
    for market_symbol in market_symbols:
        trades, funding = await read_back(client, account, market_symbol, since, backoff)
        result.checked += len(trades)
        await _audit_funding(account, market_symbol, funding, result, repair)
        # Compared as stored (qualified by market where the venue says so: `BTCUSDT:123`); a payload without an id to store it under is
        # missing too, and repair keeps it aside as ingest does.
        ids = {id(t): _stored_id(account, t) for t in trades}
        stored = await db_sync_to_async(_stored_ids)(account, [i for i in ids.values() if i])
        missing = [t for t in trades if ids[id(t)] not in stored]
        differing = await db_sync_to_async(_differing)(account, [t for t in trades if ids[id(t)] in stored])
        if differing:
            result.differing[market_symbol] = differing
            for trade_id, changes in differing:
                logger.error("ALARM audit of %s %s: stored trade %s differs from the exchange's: %s", account.name, market_symbol, trade_id, describe(changes))
        if missing:
            result.missing[market_symbol] = sorted((ids[id(t)] or str(t.get("id")) for t in missing), key=trade_id_key)
            logger.warning("audit of %s %s: %d trades missing", account.name, market_symbol, len(missing))
            if repair:
                repaired = len(await db_sync_to_async(ingest_trades)(account, missing))
                metrics.trades_stored(account, metrics.AUDIT, repaired)
                result.repaired += repaired
    await db_sync_to_async(_record)(account, result)
    return result


async def _audit_funding(account: ExchangeAccount, market_symbol: str, payments: list[dict], result: AuditResult, repair: bool) -> None:
    result.funding_checked += len(payments)
    if not payments:
        return
    stored = await db_sync_to_async(_stored_funding_ids)(account, [str(p["id"]) for p in payments])
    missing = [p for p in payments if str(p["id"]) not in stored]
    if not missing:
        return
    result.missing_funding[market_symbol] = sorted(str(p["id"]) for p in missing)
    logger.warning("audit of %s %s: %d funding payments missing", account.name, market_symbol, len(missing))
    if repair:
        result.funding_repaired += len(await db_sync_to_async(ingest_funding)(account, missing))
