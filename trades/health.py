"""Sync health for the API, the operator pages and the admin: per account, its WebSocket stream, the
REST sync of each symbol, and whether the account is down and why. The down state is written here
too (`mark_down`, `mark_up`), beside what reads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from exchanges.models import ExchangeAccount

from . import stream_events
from .models import RejectedTrade, StreamHealth, SyncCursor
from .progress import share_read, to_ms


OK, DOWN = "ok", "down"
CADENCE_SLACK_SECONDS = 1.0  # a tick that comes a little early is not skipped for it


@dataclass(frozen=True)
class SymbolHealth:
    symbol: str
    last_trade_id: str
    last_trade_time: datetime | None
    last_sync_at: datetime | None
    lag_seconds: float | None
    last_pass_fetched: int
    last_pass_new: int
    last_error: str
    last_error_at: datetime | None
    pass_from: datetime | None = None
    pass_until: datetime | None = None
    pass_reached: datetime | None = None
    pass_trades: int = 0
    pass_eta: datetime | None = None

    @property
    def backfilling(self) -> bool:
        """Its first pass has begun reading and not yet reached the present."""
        return self.last_sync_at is None and self.pass_from is not None

    @property
    def share_read(self) -> float:
        """Of its first pass's time range, 0 to 1 (1 once it has ended)."""
        if self.last_sync_at is not None:
            return 1.0
        if self.pass_from is None or self.pass_until is None:
            return 0.0
        return share_read(to_ms(self.pass_from), to_ms(self.pass_reached) if self.pass_reached else None, to_ms(self.pass_until))


@dataclass(frozen=True)
class Backfill:
    """An account's first backfill while it runs: the share of its symbols' time ranges read (each
    symbol counts alike; one not begun counts as nothing read), trades read so far, when the symbol
    being read will be done at the venue's limit, and the symbols not begun yet (read after it, one
    at a time)."""

    share: float
    trades: int
    eta: datetime | None
    symbols_waiting: int


@dataclass(frozen=True)
class AccountHealth:
    account_id: int
    account: str
    enabled: bool
    ws_connected: bool
    ws_connected_since: datetime | None
    ws_last_message_at: datetime | None
    ws_reconnects: int
    stopped_reason: str
    last_error: str
    last_error_at: datetime | None
    symbols: list[SymbolHealth]
    rejected_trades: int = 0  # payloads kept aside (RejectedTrade): bad ones and reused ids
    last_audit_at: datetime | None = None
    last_audit_checked: int = 0
    last_audit_missing: int = 0
    last_audit_differing: int = 0  # stored trades whose content differs from the exchange's copy
    down_reason: str = ""
    down_since: datetime | None = None
    rest_interval_seconds: float | None = None
    rest_planned_interval_seconds: float | None = None
    symbols_configured: int = 0

    @property
    def backfill(self) -> Backfill | None:
        """None unless a symbol's first pass is under way, or some have ended and others not begun."""
        done = [s for s in self.symbols if s.last_sync_at is not None]
        reading = [s for s in self.symbols if s.backfilling]
        waiting = max(self.symbols_configured - len(done) - len(reading), 0)
        if not reading and not (done and waiting):
            return None
        count = max(self.symbols_configured, len(done) + len(reading))
        return Backfill(
            share=sum(s.share_read for s in done + reading) / count,
            trades=sum(s.pass_trades for s in done + reading),
            eta=max((s.pass_eta for s in reading if s.pass_eta), default=None),
            symbols_waiting=waiting,
        )

    @property
    def state(self) -> str:
        """"down" while the venue refused the account (`stopped_reason`) or its sync cannot run
        (`down_reason`); "ok" otherwise."""
        return DOWN if self.reason else OK

    @property
    def reason(self) -> str:
        """Why the account is down, one line; empty while it is not."""
        return self.stopped_reason or self.down_reason

    @property
    def last_rest_sync(self) -> datetime | None:
        """The most recent successful REST pass over any symbol."""
        return max((s.last_sync_at for s in self.symbols if s.last_sync_at), default=None)

    @property
    def lag_seconds(self) -> float | None:
        """Age of the stalest symbol's last successful REST pass; none while a symbol never synced."""
        lags = [s.lag_seconds for s in self.symbols]
        if not lags or None in lags:
            return None
        return max(lags)


def _lag(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else max((now - then).total_seconds(), 0.0)


def sync_health(*, now: datetime, account_id: int | None = None) -> list[AccountHealth]:
    accounts = ExchangeAccount.objects.without_credentials().order_by("name")
    if account_id is not None:
        accounts = accounts.filter(pk=account_id)
    streams = {h.account_id: h for h in StreamHealth.objects.filter(account__in=accounts)}
    rejected = dict(
        RejectedTrade.objects.filter(exchange__in=accounts).values("exchange").annotate(n=Count("id")).values_list("exchange", "n")
    )
    cursors: dict[int, list[SyncCursor]] = {}
    for cursor in SyncCursor.objects.filter(account__in=accounts).order_by("symbol"):
        cursors.setdefault(cursor.account_id, []).append(cursor)
    result = []
    for account in accounts:
        stream = streams.get(account.pk) or StreamHealth(account=account)
        result.append(
            AccountHealth(
                account_id=account.pk,
                account=account.name,
                enabled=account.enabled,
                ws_connected=stream.ws_connected_since is not None,
                ws_connected_since=stream.ws_connected_since,
                ws_last_message_at=stream.ws_last_message_at,
                ws_reconnects=stream.ws_reconnects,
                stopped_reason=stream.stopped_reason,
                last_error=stream.last_error,
                last_error_at=stream.last_error_at,
                symbols=[
                    SymbolHealth(
                        symbol=c.symbol,
                        last_trade_id=c.last_trade_id,
                        last_trade_time=c.last_trade_time,
                        last_sync_at=c.last_sync_at,
                        lag_seconds=_lag(now, c.last_sync_at),
                        last_pass_fetched=c.last_pass_fetched,
                        last_pass_new=c.last_pass_new,
                        last_error=c.last_error,
                        last_error_at=c.last_error_at,
                        pass_from=c.pass_from,
                        pass_until=c.pass_until,
                        pass_reached=c.pass_reached,
                        pass_trades=c.pass_trades,
                        pass_eta=c.pass_eta,
                    )
                    for c in cursors.get(account.pk, [])
                ],
                rejected_trades=rejected.get(account.pk, 0),
                last_audit_at=stream.last_audit_at,
                last_audit_checked=stream.last_audit_checked,
                last_audit_missing=stream.last_audit_missing,
                last_audit_differing=stream.last_audit_differing,
                down_reason=stream.down_reason,
                down_since=stream.down_since,
                rest_interval_seconds=stream.rest_interval_seconds,
                rest_planned_interval_seconds=stream.rest_planned_interval_seconds,
                symbols_configured=len(account.symbols or []),
            )
        )
    return result


def mark_down(account: ExchangeAccount, reason: str) -> None:
    """The account's sync cannot run, for `reason` (one line, credentials already taken out); kept
    as its last error too. `down_since` stays where the account first went down, and going down
    (not staying down) raises the `account_down` alarm on the live stream."""
    now = timezone.now()
    with transaction.atomic():
        health, _ = StreamHealth.objects.select_for_update().get_or_create(account=account)
        if health.down_reason != reason:
            stream_events.emit([stream_events.alarm_event(account.pk, "account_down", stream_events.RAISED, reason)])
        health.down_reason, health.last_error, health.last_error_at = reason, reason, now
        health.down_since = health.down_since or now
        health.save(update_fields=["down_reason", "down_since", "last_error", "last_error_at"])


def note_rest_cadence(account: ExchangeAccount, seconds: float, planned_seconds: float) -> None:
    """The seconds between the starts of the account's last two REST passes, and the interval its
    request budgets plan for it (longer than SYNC_INTERVAL_SECONDS where its accounts do not fit)."""
    StreamHealth.objects.update_or_create(
        account=account, defaults={"rest_interval_seconds": round(seconds, 3), "rest_planned_interval_seconds": round(planned_seconds, 3)}
    )


def last_rest_pass_at(account: ExchangeAccount) -> datetime | None:
    """When the account's last REST pass ended (its newest symbol pass); none before its first."""
    return SyncCursor.objects.filter(account=account).aggregate(last=Max("last_sync_at"))["last"]


def rest_pass_due(account: ExchangeAccount, *, now: datetime) -> bool:
    """Whether a scheduled pass (Celery beat's, every SYNC_INTERVAL_SECONDS) should run: the account's
    last pass was at least its planned interval ago. The interval is longer than the schedule's
    where the accounts on one request budget do not all fit in it, so some ticks are skipped."""
    planned = StreamHealth.objects.filter(account=account).values_list("rest_planned_interval_seconds", flat=True).first()
    last = last_rest_pass_at(account)
    if not planned or last is None:
        return True
    return (now - last).total_seconds() >= planned - CADENCE_SLACK_SECONDS


def mark_up(account: ExchangeAccount) -> None:
    with transaction.atomic():
        if StreamHealth.objects.filter(account=account).exclude(down_reason="").update(down_reason="", down_since=None):
            stream_events.emit([stream_events.alarm_event(account.pk, "account_down", stream_events.CLEARED)])


def mark_stopped(health: StreamHealth, reason: str) -> None:
    """The venue refused the account (rejected keys): its sync stops until an operator clears
    `stopped_reason`. Raises the `account_stopped` alarm when it was not stopped already."""
    if not health.stopped_reason:
        stream_events.emit([stream_events.alarm_event(health.account_id, "account_stopped", stream_events.RAISED, reason)])
    health.stopped_reason = reason
