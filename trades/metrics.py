"""Metrics for operations, in Prometheus' format (`/metrics`; `metrics_text`).

Two kinds, because the tracker is several processes (`track` or the streams worker, Celery
workers, each web server worker) and a scrape reaches only one of them:

- **What happens** (trades stored by each path, REST passes, requests the venue refused, the time
  from a streamed trade to its commit) is counted where it happens, with prometheus_client's
  multiprocess mode: each process writes its counters and histograms to its own file in
  `PROMETHEUS_MULTIPROC_DIR` (a memory-mapped write, no round trip on the stream's path), and a
  scrape of any web worker adds up every process's files. Counters of a process that exited stay
  counted. The processes must share the directory: one machine (another machine's processes
  would need their own).
- **What is** (stream up, REST lag, payloads kept aside, alarms) is read from the database at each
  scrape (`StateCollector`): the tables every process already writes, so any process answers
  the same and nothing is lost with a process.
"""

from __future__ import annotations

import re
import time

import ccxt
from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from exchanges.models import ExchangeAccount

from .models import RejectedTrade, StreamHealth, SyncCursor

STREAM, REST, AUDIT = "stream", "rest", "audit"
# What ingest's callers say for `path`; a conflicting id reused by the venue starts its reason so.
REUSED_ID_REASON = "trade id reused"

TRADES_STORED = Counter("tracker_trades_stored", "Trades stored (new, not duplicates), by account and the path that stored them.", ["account", "path"])
REST_PASSES = Counter("tracker_rest_passes", "REST passes over one symbol that finished, by account.", ["account"])
REST_PASS_SECONDS = Histogram(
    "tracker_rest_pass_seconds",
    "How long one symbol's REST pass took, by account.",
    ["account"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
VENUE_REFUSALS = Counter(
    "tracker_venue_refusals",
    "Requests a venue refused for their rate, by exchange: status 418 (banned) or 429 (any other rate refusal: Bybit's retCode 10006 and 403 too).",
    ["exchange", "status"],
)
PUSH_TO_COMMIT = Histogram(
    "tracker_push_to_commit_seconds",
    "From a streamed trade's time on the venue (when it pushes it) to the commit of its row, by account.",
    ["account"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def trades_stored(account: ExchangeAccount, path: str, count: int) -> None:
    """Count new trades a path stored; its callers call this once the trades are committed."""
    if count:
        TRADES_STORED.labels(account=account.name, path=path).inc(count)


def streamed_trades_committed(account: ExchangeAccount, trades: list, now: float | None = None) -> None:
    """Each new streamed trade's push-to-commit time; `now` the commit's (defaults to the present)."""
    now = time.time() if now is None else now
    histogram = PUSH_TO_COMMIT.labels(account=account.name)
    for trade in trades:
        histogram.observe(max(now - trade.timestamp.timestamp(), 0.0))


def rest_pass_finished(account: ExchangeAccount, seconds: float) -> None:
    REST_PASSES.labels(account=account.name).inc()
    REST_PASS_SECONDS.labels(account=account.name).observe(seconds)


def refusal_status(error: BaseException) -> str | None:
    """"418" for a ban, "429" for any other rate refusal, None for an error that is not one.

    ccxt raises DDoSProtection or RateLimitExceeded for both (Binance: DDoSProtection for 429 and
    418 alike, with the status in the message; Bybit: RateLimitExceeded for its retCode 10006 and
    its 403 IP limit), so only the message tells a ban."""
    if not isinstance(error, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
        return None
    return "418" if re.search(r"(^|\s)418(\s|$)", str(error)) else "429"


def venue_refused(client, error: BaseException) -> None:
    """Count a request the venue refused for its rate (see `refusal_status`)."""
    status = refusal_status(error)
    if status is not None:
        VENUE_REFUSALS.labels(exchange=getattr(client, "id", "") or "unknown", status=status).inc()


class StateCollector:
    """The tracker's state from the database, at each scrape (see the module docstring)."""

    def collect(self):
        now = timezone.now()
        accounts = {a.pk: a for a in ExchangeAccount.objects.without_credentials().order_by("name")}
        streams = {h.account_id: h for h in StreamHealth.objects.filter(account__in=accounts)}

        enabled = GaugeMetricFamily("tracker_account_enabled", "1 while the account is enabled.", labels=["account", "venue"])
        stream_up = GaugeMetricFamily("tracker_stream_up", "1 while the account's WebSocket stream is connected, 0 while it is not.", labels=["account"])
        down = GaugeMetricFamily("tracker_account_down", "1 while the account is down (the venue refused it, or its sync cannot run).", labels=["account"])
        reconnects = GaugeMetricFamily("tracker_stream_reconnects", "Reconnects of the account's stream, as counted in its health.", labels=["account"])
        for account in accounts.values():
            health = streams.get(account.pk)
            enabled.add_metric([account.name, account.venue], 1 if account.enabled else 0)
            stream_up.add_metric([account.name], 1 if health and health.ws_connected_since else 0)
            down.add_metric([account.name], 1 if health and (health.stopped_reason or health.down_reason) else 0)
            reconnects.add_metric([account.name], health.ws_reconnects if health else 0)
        yield from (enabled, stream_up, down, reconnects)

        lag = GaugeMetricFamily("tracker_rest_lag_seconds", "Seconds since the symbol's last successful REST pass.", labels=["account", "symbol"])
        last_new = GaugeMetricFamily("tracker_rest_last_pass_new_trades", "New trades the symbol's last REST pass stored.", labels=["account", "symbol"])
        for cursor in SyncCursor.objects.filter(account__in=accounts).order_by("account_id", "symbol"):
            name = accounts[cursor.account_id].name
            if cursor.last_sync_at is not None:
                lag.add_metric([name, cursor.symbol], max((now - cursor.last_sync_at).total_seconds(), 0.0))
            last_new.add_metric([name, cursor.symbol], cursor.last_pass_new)
        yield lag
        yield last_new
        yield GaugeMetricFamily("tracker_rest_interval_seconds", "The period of the REST passes (SYNC_INTERVAL_SECONDS).", value=settings.SYNC_INTERVAL_SECONDS)

        rejected = GaugeMetricFamily("tracker_rejected_payloads", "Payloads kept aside (RejectedTrade), by account and feed.", labels=["account", "feed"])
        counts = (
            RejectedTrade.objects.filter(exchange__in=accounts)
            .values("exchange", "feed")
            .annotate(n=Count("id"), reused=Count("id", filter=Q(reason__startswith=REUSED_ID_REASON)))
            .order_by("exchange", "feed")
        )
        reused: dict[int, int] = {}
        for row in counts:
            rejected.add_metric([accounts[row["exchange"]].name, row["feed"]], row["n"])
            reused[row["exchange"]] = reused.get(row["exchange"], 0) + row["reused"]
        yield rejected

        alarms = GaugeMetricFamily(
            "tracker_alarms",
            "Open alarms by account and kind: reused_id (a trade id the venue sent again with other content), "
            "audit_missing and audit_differing (the last gap audit), down (the account is down).",
            labels=["account", "kind"],
        )
        for account in accounts.values():
            health = streams.get(account.pk)
            alarms.add_metric([account.name, "reused_id"], reused.get(account.pk, 0))
            alarms.add_metric([account.name, "audit_missing"], health.last_audit_missing if health else 0)
            alarms.add_metric([account.name, "audit_differing"], health.last_audit_differing if health else 0)
            alarms.add_metric([account.name, "down"], 1 if health and (health.stopped_reason or health.down_reason) else 0)
        yield alarms


def metrics_text() -> bytes:
    """Every process's counters and histograms and the state from the database, in Prometheus' text format."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(settings.METRICS_DIR))
    registry.register(StateCollector())
    return generate_latest(registry)
