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
from .funding import ingest_funding, release_unfolded_funding
from .ingest import ingest_trades, release_unfolded
from .models import FundingCursor, StreamHealth, SyncCursor

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (market symbol, trades fetched so far, new so far)


@dataclass
class SymbolResult:
    symbol: str
    fetched: int = 0
    new: int = 0
    pages: int = 0
    funding_new: int = 0  # funding payments stored by the pass, where the venue lists them with the trades


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


def _ms_time(ms: int) -> datetime:
    return datetime.fromtimestamp(ms // 1000, tz=UTC) + timedelta(milliseconds=ms % 1000)


def _store_funding(account: ExchangeAccount, market_symbol: str, page: Page) -> int:
    """A page's funding payments and their cursor (the page's own resume state: the one list both
    walk), in the caller's transaction; folded, like the trades, once the run's last page is in."""
    new = ingest_funding(account, page.funding, fold=False) if page.funding else []
    if not page.newest_first:
        release_unfolded_funding(account, market_symbol)
    cursor, _ = FundingCursor.objects.get_or_create(account=account, symbol=market_symbol)
    newest = max(new, key=lambda p: (p.timestamp, p.exchange_funding_id), default=None)
    if newest is not None and (cursor.last_funding_time is None or newest.timestamp >= cursor.last_funding_time):
        cursor.last_funding_time, cursor.last_funding_id = newest.timestamp, newest.exchange_funding_id
    cursor.resume = page.resume
    cursor.save(update_fields=["resume", "last_funding_time", "last_funding_id"])
    return len(new)


def _store_page(account: ExchangeAccount, cursor: SyncCursor, page: Page) -> tuple[int, int]:
    """Store a page's trades (and, on a venue that lists them together, its funding payments) and
    the cursors that follow them in one transaction; returns how many trades and payments were new.
    A page with older ones still to come is stored unfolded; the run's last page folds them all, in order."""
    trades, resume = page.trades, page.resume
    with transaction.atomic():
        new = ingest_trades(account, trades, fold=not page.newest_first)
        if not page.newest_first:
            release_unfolded(account, cursor.symbol)
        funding_new = _store_funding(account, cursor.symbol, page) if account.venue_object.has_funding else 0
        newest = max(trades, key=lambda t: (t.get("timestamp") or 0, len(str(t.get("id"))), str(t.get("id"))), default=None)
        if newest is not None and newest.get("timestamp"):
            newest_time = _ms_time(newest["timestamp"])
            if cursor.last_trade_time is None or newest_time >= cursor.last_trade_time:
                cursor.last_trade_time = newest_time
                cursor.last_trade_id = str(newest["id"])[:64]
        cursor.resume = resume
        cursor.save(update_fields=["resume", "last_trade_time", "last_trade_id"])
    return len(new), funding_new


def _finish_pass(account: ExchangeAccount, cursor: SyncCursor, result: SymbolResult) -> None:
    cursor.last_sync_at = timezone.now()
    cursor.last_pass_fetched = result.fetched
    cursor.last_pass_new = result.new
    cursor.last_error = ""
    cursor.save(update_fields=["last_sync_at", "last_pass_fetched", "last_pass_new", "last_error"])
    if account.venue_object.has_funding:
        FundingCursor.objects.filter(account=account, symbol=cursor.symbol).update(last_sync_at=cursor.last_sync_at, last_error="")


def _funding_never_read(account: ExchangeAccount, market_symbol: str) -> bool:
    """A perpetual market whose trades were read before the tracker kept funding (or liquidations):
    its history is read again from the start once, duplicates skipped, so neither is missing."""
    return account.venue_object.has_funding and not FundingCursor.objects.filter(account=account, symbol=market_symbol).exists()


def _store_position_mode(account: ExchangeAccount, mode: str) -> None:
    ExchangeAccount.objects.filter(pk=account.pk).update(position_mode=mode)


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
        if not since and cursor.resume and await db_sync_to_async(_funding_never_read)(account, market_symbol):
            resume = self.pager.initial(start_ms(account))
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
                new, funding_new = await db_sync_to_async(_store_page)(account, cursor, page)
                metrics.trades_stored(account, metrics.REST, new)
                result.new += new
                result.funding_new += funding_new
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
        await db_sync_to_async(_finish_pass)(account, cursor, result)
        metrics.rest_pass_finished(account, time.monotonic() - started)
        return result

    async def load_markets(self) -> None:
        """Load the markets (ccxt asks the exchange once per client) and keep them as `Market` rows,
        which ingest and the fold read for contract sizes and amount steps."""
        markets = await self.backoff.call(self.client, self.client.load_markets, f"{self.account.name} markets")
        if not self._markets_stored:
            await db_sync_to_async(upsert_markets)(self.account, markets)
            self._markets_stored = True
            await self.read_position_mode()

    async def read_position_mode(self) -> None:
        """Where the venue reports it, the account's position mode, read once a pass (one call, before
        any page: the legs of its trades follow from it, and an operator may switch it between
        passes). A venue that cannot say leaves the operator's setting."""
        account, venue = self.account, self.account.venue_object
        if len(venue.position_modes) < 2:
            return
        symbols = [account.market_symbol(s) for s in account.symbols]
        try:
            mode = await self.backoff.call(self.client, lambda: venue.read_position_mode(self.client, symbols), f"{account.name} position mode")
        except AccountStopped:
            raise
        except Exception as error:  # the sync goes on in the mode the account says
            logger.warning("could not read the position mode of %s: %s", account.name, scrub(one_line_error(error), account))
            return
        if mode and mode != account.position_mode:
            logger.info("%s is in %s mode on the venue (was %s)", account.name, mode, account.position_mode)
            account.position_mode = mode
            await db_sync_to_async(_store_position_mode)(account, mode)

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
