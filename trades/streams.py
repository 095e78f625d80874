"""WebSocket streams: each account's `watch_my_trades`, every trade to ingest the moment it arrives."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from exchanges.models import ExchangeAccount

from . import metrics
from .backoff import ACCOUNT_FAULTS, AccountStopped, Backoff
from .db import DatabaseThread, db_sync_to_async
from .funding import ingest_funding
from .ingest import ingest_trades
from .models import StreamHealth
from .sync import scrub

logger = logging.getLogger(__name__)

HEALTH_WRITE_SECONDS = 1.0  # `ws_last_message_at` is written at most this often, not once per message


def _set_health(account: ExchangeAccount, **fields) -> None:
    StreamHealth.objects.update_or_create(account=account, defaults=fields)


def _count_reconnect(account: ExchangeAccount) -> None:
    health, _ = StreamHealth.objects.get_or_create(account=account)
    StreamHealth.objects.filter(pk=health.pk).update(ws_reconnects=F("ws_reconnects") + 1)


def account_fault_in(error: BaseException) -> BaseException | None:
    """The exchange's refusal of the account, if that is what lies behind `error`: ccxt.pro can
    surface a rejected WebSocket login as another exception (a KeyError raised while handling the
    AuthenticationError, say)."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, ACCOUNT_FAULTS):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def is_connected(client) -> bool:
    """Whether any of the client's WebSocket connections is open."""
    for ws in getattr(client, "clients", {}).values():
        connected = getattr(ws, "connected", None)
        if connected is not None and connected.done() and not connected.cancelled() and connected.exception() is None:
            return True
    return False


def unclaimed_trades(client, last: dict | None, cache_key: str) -> list[dict]:
    """The trades ccxt.pro cached after `last` (the newest handed over) while no `watch_my_trades`
    was waiting for them, claimed the way a watch claims them (its count of new updates), so that no
    later watch returns them again. None while a watch holds a message it has not returned yet.
    `cache_key`: the venue's `stream_cache_key`, the client attribute and the futures' key."""
    cache = getattr(client, cache_key, None)
    futures = [ws.futures.get(cache_key) for ws in getattr(client, "clients", {}).values()]
    if not cache or not any(future is not None and not future.done() for future in futures):
        return []
    cached = list(cache)
    after = next((n + 1 for n in range(len(cached) - 1, -1, -1) if cached[n] is last), 0)
    if after < len(cached):
        cache.getLimit(None, None)
    return cached[after:]


class AccountStream:
    """Holds one account's trade stream. Reconnects with backoff; each (re)connect calls `on_connect`
    (the REST catch-up that fills the gap); a stream silent for `idle_seconds` is torn down and
    rebuilt, since a half-dead connection can look alive."""

    def __init__(
        self,
        account: ExchangeAccount,
        make_client: Callable[[], object],
        on_connect: Callable[[], Awaitable[None]],
        *,
        symbols: list[str] | None = None,
        idle_seconds: float | None = None,
        backoff: Backoff | None = None,
    ):
        self.account = account
        self.make_client = make_client
        self.on_connect = on_connect
        self.symbols = set(symbols or [])
        self.idle_seconds = idle_seconds or settings.STREAM_IDLE_SECONDS
        self.backoff = backoff or Backoff(max_seconds=30)
        self.delivered = 0
        self._health_written = 0.0
        self._health_write: asyncio.Task | None = None
        self._connected = False

    async def run(self) -> None:
        self.storing = DatabaseThread(f"stream-{self.account.name}")
        try:
            await self._run()
        finally:
            await self.storing.close()

    async def _run(self) -> None:
        attempt = 0
        last_logged = ""  # a stream that keeps failing the same way says so once, not at every attempt
        while True:
            client = None
            self._connected = False
            try:
                client = self.make_client()
                await self._watch(client)
                attempt = 0
            except AccountStopped:
                raise
            except Exception as error:  # a stream must outlive whatever its connection throws
                refused = account_fault_in(error)
                if refused is not None:
                    raise AccountStopped(scrub(f"{type(refused).__name__}: {refused}", self.account)) from error
                message = scrub(f"{type(error).__name__}: {error}", self.account)
                if self._connected or message != last_logged:
                    logger.warning("stream of %s dropped: %s", self.account.name, message)
                    last_logged = message
                else:
                    logger.debug("stream of %s dropped again: %s", self.account.name, message)
                await db_sync_to_async(_set_health)(self.account, ws_connected_since=None, last_error=message[:2000], last_error_at=timezone.now())
                # Back off while connecting fails; a connection that was up reconnects at once.
                attempt = 1 if self._connected else attempt + 1
            finally:
                if client is not None:
                    await _close_quietly(client)
            await db_sync_to_async(_count_reconnect)(self.account)
            await asyncio.sleep(self.backoff.delay(min(attempt, 6)))

    async def _watch(self, client) -> None:
        watch = asyncio.ensure_future(client.watch_my_trades())
        catch_up = asyncio.ensure_future(self._catch_up_once_connected(client, watch))
        last = None  # the newest trade this client's stream has handed over
        try:
            while True:
                done, _ = await asyncio.wait({watch}, timeout=self.idle_seconds)
                if not done:
                    logger.info("stream of %s silent for %.0fs; rebuilding it", self.account.name, self.idle_seconds)
                    return
                trades = watch.result()
                watch = asyncio.ensure_future(client.watch_my_trades())
                await asyncio.sleep(0)  # let the next watch register before messages are handled
                await self._ingest(trades)
                last = trades[-1] if trades else last
                # Messages that came after the next watch was resolved, while this ingest ran, sit in
                # ccxt.pro's cache until yet another message resolves a watch: take them now.
                while not watch.done() and (waiting := unclaimed_trades(client, last, self.account.venue_object.stream_cache_key)):
                    await self._ingest(waiting)
                    last = waiting[-1]
        finally:
            watch.cancel()
            catch_up.cancel()

    async def _catch_up_once_connected(self, client, watch: asyncio.Future) -> None:
        while not is_connected(client) and not watch.done():
            await asyncio.sleep(0.05)
        if watch.done() and watch.exception() is not None:
            return
        self._connected = True
        await db_sync_to_async(_set_health)(self.account, ws_connected_since=timezone.now())
        await self.on_connect()

    async def _ingest(self, trades: list[dict]) -> None:
        """Store what the stream pushed: trades by ingest, and (where the venue pushes them with the
        trades) funding payments in the funding ledger, never as trades."""
        venue = self.account.venue_object
        wanted = [t for t in trades if venue.is_own_streamed_trade(t) and (not self.symbols or t.get("symbol") in self.symbols)]
        funding = [t for t in wanted if venue.is_funding(t)]
        if funding:
            wanted = [t for t in wanted if not venue.is_funding(t)]
            await self.storing.run(ingest_funding, self.account, funding)
        if wanted:
            await self.storing.run(self._store, wanted)
            self.delivered += len(wanted)
        now = time.monotonic()
        if now - self._health_written >= HEALTH_WRITE_SECONDS and (self._health_write is None or self._health_write.done()):
            # Off the storing thread and not waited for: the next trade must not queue behind it.
            self._health_written = now
            self._health_write = asyncio.create_task(db_sync_to_async(_set_health)(self.account, ws_last_message_at=timezone.now()))
            self._health_write.add_done_callback(self._warn_if_health_failed)

    def _store(self, trades: list[dict]) -> None:
        """Ingest on the storing thread, and time each new trade from its push to the commit just made."""
        new = ingest_trades(self.account, trades)
        metrics.streamed_trades_committed(self.account, new)
        metrics.trades_stored(self.account, metrics.STREAM, len(new))

    def _warn_if_health_failed(self, write: asyncio.Task) -> None:
        if not write.cancelled() and write.exception() is not None:
            logger.warning("could not record %s's stream health: %s", self.account.name, write.exception())


async def _close_quietly(client) -> None:
    try:
        await client.close()
    except Exception:
        logger.debug("closing a ccxt client failed", exc_info=True)
