"""Both paths for every account: periodic REST passes and a WebSocket stream whose (re)connects
trigger an immediate REST catch-up. Runs inside any asyncio process: `track`, the Channels worker, or
a bot's own process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from exchanges.budgets import CATCH_UP, ROUTINE, priority
from exchanges.connectors import ExchangeConnector, one_line_error
from exchanges.models import ExchangeAccount, UnknownAccount
from exchanges.throttle import pass_interval
from exchanges.validation import account_errors, one_line

from .backoff import AccountStopped
from .db import db_sync_to_async, share_the_interpreter_finely
from .health import last_rest_pass_at, mark_down, mark_up, note_rest_cadence
from .models import StreamHealth, Trade
from .progress import ProgressDisplay
from .streams import AccountStream
from .sync import RestSync, SyncResult, _record_error, scrub

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0  # after a REST pass that failed as a whole


async def with_rest_client(account: ExchangeAccount, work):
    """`await work(client, market_symbols)` on a REST client of the account's own, closed afterwards:
    for a pass outside any running synchronizer (a command, a Celery task)."""
    connector = ExchangeConnector(account)
    try:
        return await work(connector.rest_client(), [account.market_symbol(s) for s in account.symbols])
    finally:
        await connector.close()


async def budgeted_rest_pass(account: ExchangeAccount, client, symbols: list[str]) -> SyncResult:
    """A REST pass outside a running synchronizer (a Celery task, on a client of its own) that notes
    what it spent as the account's demand on its request budgets, and the cadence it got."""
    previous = await db_sync_to_async(last_rest_pass_at)(account)
    result = await RestSync(account, client).run(symbols)
    if previous is not None and not result.failed:  # a first pass is a backfill: its weight says nothing of a routine one
        planned = await pass_interval(account.name, client.budget_hook.spent, settings.SYNC_INTERVAL_SECONDS)
        await _write_health(note_rest_cadence, account, (timezone.now() - previous).total_seconds(), planned)
    return result


@dataclass
class AccountSync:
    """The running sync of one account."""

    connector: object
    symbols: list[str]
    rest_due: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task] = field(default_factory=list)
    passes: int = 0
    last_result: SyncResult | None = None
    backfilled: bool = False
    first_pass_ended: asyncio.Event = field(default_factory=asyncio.Event)  # synced to the present, or failed
    down: str | None = None  # why the last REST pass could not sync the account; "" while it can; None before a pass
    catch_up_due: bool = False  # the next pass catches up after a stream (re)connect: its requests go first
    last_pass_started: float | None = None  # time.monotonic()

    @property
    def account(self) -> ExchangeAccount:
        return self.connector.account


class TradeSynchronizer:
    def __init__(
        self,
        exchange_connectors: dict,
        trade_repository=None,
        position_repository=None,
        exchange_id_map: dict[str, int] | None = None,
        *,
        interval_seconds: float | None = None,
        streams: bool = True,
        periodic_rest: bool = True,
        account_loops: tuple = (),
    ):
        """`exchange_connectors`: account name -> its `ExchangeConnector` (or its `ExchangeAccount`
        row); an account started without one gets one of its own. `exchange_id_map`: account name ->
        account id (the `exchange_id` the repositories take); an account it names is looked up by that
        id, and a connector of another account under its name is refused.
        `account_loops`: more work per running account, each `await loop(account, connector)`,
        started and cancelled with the account's REST and stream loops (`track` adds the mark refresh
        there; trades know nothing of it)."""
        self.exchange_connectors = exchange_connectors
        self.trade_repository = trade_repository
        self.position_repository = position_repository
        self.exchange_id_map = exchange_id_map or {}
        self.interval_seconds = interval_seconds or settings.SYNC_INTERVAL_SECONDS
        self.streams = streams
        self.periodic_rest = periodic_rest
        self.account_loops = tuple(account_loops)
        self.running: dict[str, AccountSync] = {}
        self.not_started: dict[str, str] = {}  # account name -> why it cannot start
        # Each account's passes until its first reaches the present: bars on a terminal, else a log
        # line per symbol.
        self.backfill_display = ProgressDisplay()

    async def start(self, symbols_by_account: dict[str, list[str]], *, wait: bool = True) -> None:
        """Start each account's sync. With `wait`, return once every started account's first REST
        pass has ended (read to the present, or failed: see sync health), so that reads right after
        it see the history that existed when it began."""
        for name, symbols in symbols_by_account.items():
            await self.start_account(name, symbols)
        if wait:
            started = [self.running[name] for name in symbols_by_account if name in self.running]
            await asyncio.gather(*(state.first_pass_ended.wait() for state in started))

    async def _connector(self, name: str):
        """The account's connector, as given or made here (see `__init__`)."""
        connector = self.exchange_connectors.get(name)
        if isinstance(connector, ExchangeAccount):
            connector = ExchangeConnector(connector)
        elif connector is None:
            account_id = self.exchange_id_map.get(name)
            if account_id is None:
                account = await db_sync_to_async(ExchangeAccount.objects.named)(name)
            else:
                account = await ExchangeAccount.objects.filter(pk=account_id).afirst()
                if account is None:
                    raise UnknownAccount(f"exchange_id_map names account {account_id} for {name!r}, and there is no account {account_id}")
            connector = ExchangeConnector(account)
        expected_id = self.exchange_id_map.get(name)
        if expected_id is not None and connector.account.id != expected_id:
            raise ValueError(
                f"exchange_id_map names account {expected_id} for {name!r}, but its connector is account "
                f"{connector.account.id} ({connector.account.name})"
            )
        self.exchange_connectors[name] = connector
        return connector

    async def start_account(self, name: str, symbols: list[str]) -> None:
        """Start both paths for the account; one that cannot start (an unsupported venue, missing
        credentials: see `exchanges.validation`) is marked down with the reason instead, logged once
        however often it is asked to start."""
        if name in self.running:
            return
        connector = await self._connector(name)
        account = connector.account
        problems = cannot_start(account, symbols)
        if problems:
            if self.not_started.get(name) != problems:
                logger.error("account %s is down: it cannot start: %s", name, problems)
                await _write_health(mark_down, account, f"cannot start: {problems}")
            self.not_started[name] = problems
            return
        self.not_started.pop(name, None)
        state = AccountSync(connector, [account.market_symbol(s) for s in symbols])
        self.running[name] = state
        state.rest_due.set()
        state.tasks.append(asyncio.create_task(self._rest_loop(state), name=f"rest:{name}"))
        if self.streams:
            state.tasks.append(asyncio.create_task(self._stream_loop(state), name=f"stream:{name}"))
        for loop in self.account_loops:
            state.tasks.append(asyncio.create_task(loop(account, connector), name=f"{loop.__name__}:{name}"))
        logger.info("sync started for %s: %s", name, ", ".join(state.symbols))

    async def stop_account(self, name: str) -> None:
        state = self.running.pop(name, None)
        if state is None:
            return
        for task in state.tasks:
            task.cancel()
        await asyncio.gather(*state.tasks, return_exceptions=True)
        await state.connector.close()
        await db_sync_to_async(StreamHealth.objects.filter(account=state.account).update)(ws_connected_since=None)
        logger.info("sync stopped for %s", name)

    async def stop(self) -> None:
        """Stop every account at once: closing one's clients takes a while, and `track` has seconds."""
        await asyncio.gather(*(self.stop_account(name) for name in list(self.running)))

    async def sync_now(self, name: str) -> SyncResult:
        """One REST pass for an account now, outside the schedule."""
        state = self.running[name]
        return await RestSync(state.account, state.connector.rest_client()).run(state.symbols)

    async def _rest_loop(self, state: AccountSync) -> None:
        interval = self.interval_seconds
        while True:
            try:
                await asyncio.wait_for(state.rest_due.wait(), timeout=interval if self.periodic_rest else None)
            except TimeoutError:
                pass
            state.rest_due.clear()
            level, state.catch_up_due = (CATCH_UP if state.catch_up_due else ROUTINE), False
            started = time.monotonic()
            spent_before = state.connector.rest_spent()
            backfill = None if state.backfilled else self.backfill_display
            try:
                with priority(level), backfill or contextlib.nullcontext():
                    result = await RestSync(state.account, state.connector.rest_client(), progress=backfill and backfill.update).run(state.symbols)
            except Exception as error:  # the venue or the database unreachable, say: the next pass resumes from the cursors
                await self._went_down(state, scrub(one_line_error(error), state.account), error)
                state.first_pass_ended.set()
                await asyncio.sleep(RETRY_SECONDS)
                state.rest_due.set()
                continue
            if state.backfilled:  # a backfill's weight says nothing of what a routine pass costs
                interval = await state.connector.rest_pass_interval(spent_before, self.interval_seconds)
            if state.last_pass_started is not None:
                await _write_health(note_rest_cadence, state.account, started - state.last_pass_started, interval)
            state.last_pass_started = started
            state.passes += 1
            state.last_result = result
            state.first_pass_ended.set()
            if not state.backfilled and not result.stopped and len(result.symbols) == len(state.symbols):
                state.backfilled = True
                await self._report_backfilled(state)
            if result.stopped:
                logger.error("%s stopped: %s", state.account.name, result.stopped)
                await self._halt(state)
                return
            if result.down_reason:
                await self._went_down(state, result.down_reason)
            elif state.down != "":  # up again, or up for the first time in this process (a down state left by an earlier one)
                if state.down:
                    logger.info("account %s is up again: its REST pass went through", state.account.name)
                state.down = ""
                await _write_health(mark_up, state.account)

    async def _went_down(self, state: AccountSync, reason: str, error: BaseException | None = None) -> None:
        """Logged and stored once per change of reason (the traceback, if any, with the first)."""
        if reason == state.down:
            return
        if not state.down:
            logger.error("account %s is down: %s; trying again", state.account.name, reason, exc_info=error)
        else:
            logger.error("account %s is still down, now: %s", state.account.name, reason)
        state.down = reason
        await _write_health(mark_down, state.account, reason)

    async def _stream_loop(self, state: AccountSync) -> None:
        async def catch_up():
            state.catch_up_due = True
            state.rest_due.set()

        stream = AccountStream(state.account, state.connector.new_client, catch_up, symbols=state.symbols)
        try:
            with priority(CATCH_UP):  # a reconnect's requests go before routine passes'
                # A pushed trade's leg follows from the account's mode: know it before the first push,
                # not only once the first REST pass (perhaps a long backfill) has read it.
                await RestSync(state.account, state.connector.rest_client()).read_position_mode()
                await stream.run()
        except AccountStopped as stop:
            await db_sync_to_async(_record_error)(state.account, None, str(stop), stop=True)
            await self._halt(state)

    async def _report_backfilled(self, state: AccountSync) -> None:
        """Once per start of an account: its first REST pass that read every symbol to the present."""
        stored = await db_sync_to_async(Trade.objects.filter(exchange=state.account).count)()
        logger.info("%s: backfill complete, %d trades", state.account.name, stored)

    async def _halt(self, state: AccountSync) -> None:
        """An account the exchange refused: stop both paths until an operator clears it."""
        state.first_pass_ended.set()
        current = asyncio.current_task()
        for task in state.tasks:
            if task is not current:
                task.cancel()


def cannot_start(account: ExchangeAccount, symbols: list[str]) -> str:
    """What keeps the account from syncing before any call to its venue, one line; empty if nothing."""
    errors = account_errors(
        venue=account.venue,
        symbols=list(symbols),
        api_key=account.api_key,
        api_secret=account.api_secret,
        base_url=account.base_url,
    )
    return one_line(errors)


async def _write_health(write, *args) -> None:
    """A health write that fails (the database gone for a moment) is logged, not raised: the
    account's loop goes on, and the next change of state writes again."""
    try:
        await db_sync_to_async(write)(*args)
    except Exception as error:
        logger.warning("could not record the sync health of %s: %s", args[0].name, one_line_error(error))


def _enabled_accounts(shard: tuple[int, int] | None) -> list[ExchangeAccount]:
    accounts = ExchangeAccount.objects.filter(enabled=True).exclude(health__stopped_reason__gt="").order_by("id")
    if shard is None:
        return list(accounts)
    index, count = shard
    return [a for a in accounts if a.id % count == index]


class AccountFollower:
    """Keeps a synchronizer running exactly the enabled accounts (of one shard), as the operator
    enables, disables or edits them; used by `track` and the exchange-streams worker."""

    def __init__(
        self,
        synchronizer_factory=TradeSynchronizer,
        *,
        shard: tuple[int, int] | None = None,
        reload_seconds: float | None = None,
        streams: bool = True,
        rest: bool = True,
        account_loops: tuple = (),
    ):
        """`rest=False`: REST passes only as stream catch-ups (Celery beat runs the periodic ones).
        `account_loops`: see `TradeSynchronizer`."""
        self.connector_class = ExchangeConnector
        self.shard = shard
        self.reload_seconds = reload_seconds or settings.ACCOUNT_RELOAD_SECONDS
        self.connectors: dict[str, object] = {}
        self.versions: dict[str, tuple] = {}
        self.synchronizer = synchronizer_factory(self.connectors, streams=streams, periodic_rest=rest, account_loops=account_loops)

    @staticmethod
    def _version(account: ExchangeAccount) -> tuple:
        return (account.venue, str(account.api_key), str(account.api_secret), account.base_url, tuple(account.symbols))

    async def reconcile(self) -> None:
        accounts = {a.name: a for a in await db_sync_to_async(_enabled_accounts)(self.shard)}
        for name in list(self.synchronizer.running):
            if name not in accounts or self._version(accounts[name]) != self.versions.get(name):
                await self.synchronizer.stop_account(name)
                self.connectors.pop(name, None)
        for name, account in accounts.items():
            if name not in self.synchronizer.running and account.symbols:
                self.connectors[name] = self.connector_class(account)
                self.versions[name] = self._version(account)
                await self.synchronizer.start_account(name, account.symbols)

    async def run(self) -> None:
        share_the_interpreter_finely()
        try:
            while True:
                try:
                    await self.reconcile()
                except Exception:  # the database unreachable for a moment: the accounts keep running
                    logger.exception("could not read the enabled accounts; trying again in %.0fs", self.reload_seconds)
                await asyncio.sleep(self.reload_seconds)
        finally:
            await self.synchronizer.stop()
