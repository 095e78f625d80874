"""REST sync: read each symbol's trades from its saved cursor until the exchange has nothing newer."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from exchanges.connectors import one_line_error, upsert_markets
from exchanges.models import ExchangeAccount
from exchanges.venues.pagers import Page

from . import metrics
from .backoff import AccountStopped, Backoff
from .db import db_sync_to_async
from .ingest import ingest_trades, release_unfolded
from .models import StreamHealth, SyncCursor

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (market symbol, trades fetched so far, new so far)


@dataclass
class SymbolResult:
    symbol: str
    fetched: int = 0
    new: int = 0
    pages: int = 0


@dataclass
class SyncResult:
    account: str
    symbols: list[SymbolResult] = field(default_factory=list)
    stopped: str = ""
    errors: dict[str, str] = field(default_factory=dict)  # market symbol -> why its pass failed

    @property
    def failed(self) -> bool:
        return bool(self.stopped or self.errors)

    @property
    def down_reason(self) -> str:
        """Why the account did not sync at all: every symbol of the pass failed. Empty otherwise."""
        if self.stopped or self.symbols or not self.errors:
            return self.stopped
        return "; ".join(f"{symbol}: {message}" for symbol, message in self.errors.items())[:500]

    @property
    def new(self) -> int:
        return sum(s.new for s in self.symbols)

    @property
    def fetched(self) -> int:
        return sum(s.fetched for s in self.symbols)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def scrub(text: str, account: ExchangeAccount) -> str:
    """Take the account's credentials out of an error text before it is stored or logged."""
    for secret in (account.api_key, account.api_secret):
        if secret and len(secret) >= 4:
            text = text.replace(str(secret), "****")
    return text


def start_ms(account: ExchangeAccount, since: datetime | None = None) -> int:
    start = since or account.backfill_since or timezone.now() - timedelta(days=settings.SYNC_BACKFILL_DAYS)
    return int(start.timestamp() * 1000)


def _load_cursor(account: ExchangeAccount, market_symbol: str) -> SyncCursor:
    cursor, _ = SyncCursor.objects.get_or_create(account=account, symbol=market_symbol)
    return cursor


def _store_page(account: ExchangeAccount, cursor: SyncCursor, page: Page) -> int:
    """Store a page's trades and the cursor that follows them in one transaction. A page with older
    ones still to come is stored unfolded; the run's last page folds them all, in order."""
    trades, resume = page.trades, page.resume
    with transaction.atomic():
        new = ingest_trades(account, trades, fold=not page.newest_first)
        if not page.newest_first:
            release_unfolded(account, cursor.symbol)
        newest = max(trades, key=lambda t: (t.get("timestamp") or 0, len(str(t.get("id"))), str(t.get("id"))), default=None)
        if newest is not None and newest.get("timestamp"):
            newest_time = datetime.fromtimestamp(newest["timestamp"] // 1000, tz=UTC) + timedelta(milliseconds=newest["timestamp"] % 1000)
            if cursor.last_trade_time is None or newest_time >= cursor.last_trade_time:
                cursor.last_trade_time = newest_time
                cursor.last_trade_id = str(newest["id"])[:64]
        cursor.resume = resume
        cursor.save(update_fields=["resume", "last_trade_time", "last_trade_id"])
    return len(new)


def _finish_pass(cursor: SyncCursor, result: SymbolResult) -> None:
    cursor.last_sync_at = timezone.now()
    cursor.last_pass_fetched = result.fetched
    cursor.last_pass_new = result.new
    cursor.last_error = ""
    cursor.save(update_fields=["last_sync_at", "last_pass_fetched", "last_pass_new", "last_error"])


def _record_error(account: ExchangeAccount, market_symbol: str | None, message: str, stop: bool = False) -> str:
    """Store the error on the symbol's cursor and the account's health; returns the error the cursor
    held before (empty after a pass that went well), so that a repeated failure is logged once."""
    message = scrub(message, account)[:2000]
    now = timezone.now()
    previous = ""
    if market_symbol:
        cursor, _ = SyncCursor.objects.get_or_create(account=account, symbol=market_symbol)
        previous = cursor.last_error
        cursor.last_error, cursor.last_error_at = message, now
        cursor.save(update_fields=["last_error", "last_error_at"])
    health, _ = StreamHealth.objects.get_or_create(account=account)
    health.last_error, health.last_error_at = message, now
    if stop:
        health.stopped_reason = message
    health.save()
    return previous


def restart_pass(account: ExchangeAccount, market_symbol: str, since: datetime) -> None:
    """Make the next pass re-read a symbol from `since` (a re-check; duplicates are skipped)."""
    SyncCursor.objects.update_or_create(
        account=account, symbol=market_symbol, defaults={"resume": account.venue_object.pager().initial(start_ms(account, since))}
    )


class RestSync:
    """One REST pass over an account's symbols: each from its cursor to the present."""

    def __init__(self, account: ExchangeAccount, client, *, backoff: Backoff | None = None, progress: Progress | None = None):
        self.account = account
        self.client = client
        self.backoff = backoff or Backoff()
        self.progress = progress
        self.pager = account.venue_object.pager()
        self._markets_stored = False

    async def sync_symbol(self, market_symbol: str, *, since: datetime | None = None) -> SymbolResult:
        account = self.account
        cursor = await db_sync_to_async(_load_cursor)(account, market_symbol)
        resume = self.pager.initial(start_ms(account, since)) if since else cursor.resume or self.pager.initial(start_ms(account))
        result = SymbolResult(market_symbol)
        started = time.monotonic()

        def fetch(resume: dict) -> asyncio.Task:
            return asyncio.ensure_future(
                self.backoff.call(
                    self.client,
                    lambda: self.pager.fetch(self.client, market_symbol, resume, now_ms()),
                    f"{account.name} {market_symbol}",
                )
            )

        # The next page is asked for while this one is stored (the exchange's time and the
        # database's overlap); pages are still stored one after another, each with its cursor.
        pending = fetch(resume)
        try:
            while True:
                page = await pending
                pending = None if page.done else fetch(page.resume)
                stored = await db_sync_to_async(_store_page)(account, cursor, page)
                metrics.trades_stored(account, metrics.REST, stored)
                result.new += stored
                result.fetched += len(page.trades)
                result.pages += 1
                if self.progress:
                    self.progress(market_symbol, result.fetched, result.new)
                if page.done:
                    break
        finally:
            if pending is not None:  # storing failed, or this pass was cancelled: drop the next page
                pending.cancel()
                await asyncio.gather(pending, return_exceptions=True)
        await db_sync_to_async(_finish_pass)(cursor, result)
        metrics.rest_pass_finished(account, time.monotonic() - started)
        return result

    async def load_markets(self) -> None:
        """Load the markets (ccxt asks the exchange once per client) and keep them as `Market` rows,
        which ingest and the fold read for contract sizes and amount steps."""
        markets = await self.backoff.call(self.client, self.client.load_markets, f"{self.account.name} markets")
        if not self._markets_stored:
            await db_sync_to_async(upsert_markets)(self.account, markets)
            self._markets_stored = True

    async def _stopped(self, result: SyncResult, market_symbol: str | None, stop: AccountStopped) -> SyncResult:
        message = scrub(str(stop), self.account)
        logger.error("sync of %s stopped: %s", self.account.name, message)
        await db_sync_to_async(_record_error)(self.account, market_symbol, message, stop=True)
        result.stopped = message
        return result

    async def run(self, symbols: list[str] | None = None, *, since: datetime | None = None) -> SyncResult:
        """Sync the given symbols (ccxt market symbols; default: the account's). An account fault
        stops the pass and marks the account stopped; any other error is recorded per symbol."""
        result = SyncResult(self.account.name)
        try:
            await self.load_markets()
        except AccountStopped as stop:
            return await self._stopped(result, None, stop)
        for market_symbol in symbols or self.account.symbols:
            try:
                result.symbols.append(await self.sync_symbol(market_symbol, since=since))
            except AccountStopped as stop:
                return await self._stopped(result, market_symbol, stop)
            except Exception as error:  # recorded and shown in sync health; the other symbols go on
                message = scrub(one_line_error(error), self.account)
                result.errors[market_symbol] = message
                previous = await db_sync_to_async(_record_error)(self.account, market_symbol, message)
                if previous != message:  # logged once, with its traceback, not at every pass
                    logger.error("sync of %s %s failed: %s", self.account.name, market_symbol, message, exc_info=error)
        return result
