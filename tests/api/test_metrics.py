"""`/metrics`: Prometheus' text format behind an API token, with every listed series after known
activity against the simulator (a REST pass, refusals, a streamed trade, an audit's repair) and
known state in the database (stream up, lag, payloads kept aside, alarms).

Counters and histograms live in files shared by every process of the deployment (and of this test
run), so the tests compare them before and after; the database's state is the test's own."""

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import ccxt
import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from api.models import ApiToken
from exchanges.connectors import ExchangeConnector
from exchanges.simulator.testing import BINANCE, BYBIT, TEST_CONFIG
from trades.audit import audit_account
from trades.backoff import Backoff
from trades.metrics import refusal_status
from trades.models import RejectedTrade, StreamHealth, SyncCursor, Trade
from trades.streams import AccountStream

from ..passes import rest_pass

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def simulator_config():
    config = {**TEST_CONFIG, "accounts": [dict(a) for a in TEST_CONFIG["accounts"]]}
    for account in config["accounts"]:
        account["history"] = {"trades": 40, "days": 1}
        account["generator"] = {"orders_per_minute": 0}
    return config


def token_for(*permissions: str) -> str:
    user = get_user_model().objects.create_user(f"prometheus-{len(permissions)}")
    for name in permissions:
        app, codename = name.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    return ApiToken.issue(user, name="prometheus")[1]


@pytest.fixture
def token(db):
    return token_for("trades.view_streamhealth", "trades.view_synccursor")


def scrape(client, token: str) -> dict[tuple, float]:
    """Every sample of /metrics: (name, sorted labels) -> value."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def no_sleep(seconds):
    pass


def test_metrics_need_a_token_that_may_read_sync_health(client, db):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nonsense").status_code == 401
    refused = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token_for('trades.view_trade')}")
    assert refused.status_code == 403 and "view_streamhealth" in refused.json()["detail"]
    assert client.post("/metrics").status_code == 405


def test_a_rest_pass_counts_its_trades_passes_and_the_venues_refusals(client, token, simulator, simulated_accounts):
    account = simulated_accounts[BINANCE]
    before = scrape(client, token)
    simulator.faults({"action": "429", "count": 2, "protocol": "binance"}, {"action": "5xx", "status": 418, "count": 1, "protocol": "binance"})

    result = rest_pass(account, backoff=Backoff(sleep=no_sleep))

    after = scrape(client, token)
    assert result.new == len(simulator.truth(account=BINANCE)) > 0
    stored = ("tracker_trades_stored_total", {"account": BINANCE, "path": "rest"})
    assert value(after, stored[0], **stored[1]) - value(before, stored[0], **stored[1]) == result.new
    passes = ("tracker_rest_passes_total", {"account": BINANCE})
    assert value(after, *passes[:1], **passes[1]) - value(before, *passes[:1], **passes[1]) == len(account.symbols)
    duration = ("tracker_rest_pass_seconds_count", {"account": BINANCE})
    assert value(after, duration[0], **duration[1]) - value(before, duration[0], **duration[1]) == len(account.symbols)
    for status, count in (("429", 2), ("418", 1)):
        name = "tracker_venue_refusals_total"
        assert value(after, name, exchange="binance", status=status) - value(before, name, exchange="binance", status=status) == count
    # the state after it: each symbol synced just now, at the configured period
    for symbol in account.symbols:
        assert 0 <= value(after, "tracker_rest_lag_seconds", account=BINANCE, symbol=symbol) < 60
    assert value(after, "tracker_rest_interval_seconds") > 0


def test_a_streamed_trade_is_counted_with_its_push_to_commit_time(client, token, simulator, simulated_accounts):
    account = simulated_accounts[BINANCE]
    rest_pass(account)
    before = scrape(client, token)

    async def stream_one_trade():
        connector = ExchangeConnector(account)
        connected = asyncio.Event()

        async def on_connect():
            connected.set()

        task = asyncio.create_task(AccountStream(account, connector.new_client, on_connect, symbols=account.symbols).run())
        try:
            await asyncio.wait_for(connected.wait(), 60)
            feed = simulator.simulator.feed
            while not simulator.thread.call(lambda: bool(feed.subscribers.get(BINANCE))):
                await asyncio.sleep(0.05)
            count = await Trade.objects.filter(exchange=account).acount()
            await simulator.apost_trades({"account": BINANCE, "symbol": "BTC/USDT", "side": "buy", "amount": "0.01", "price": "100"})
            for _ in range(600):  # a bound on waiting, not a timing assertion
                if await Trade.objects.filter(exchange=account).acount() > count:
                    break
                await asyncio.sleep(0.1)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await connector.close()

    async_to_sync(stream_one_trade)()

    after = scrape(client, token)
    assert value(after, "tracker_trades_stored_total", account=BINANCE, path="stream") - value(before, "tracker_trades_stored_total", account=BINANCE, path="stream") == 1
    observed = "tracker_push_to_commit_seconds_count"
    assert value(after, observed, account=BINANCE) - value(before, observed, account=BINANCE) == 1
    within_10s = ("tracker_push_to_commit_seconds_bucket", {"account": BINANCE, "le": "10.0"})
    assert value(after, within_10s[0], **within_10s[1]) - value(before, within_10s[0], **within_10s[1]) == 1


def test_an_audits_repair_is_counted_on_its_path(client, token, simulator, simulated_accounts):
    account = simulated_accounts[BINANCE]
    rest_pass(account)
    Trade.objects.filter(pk__in=Trade.objects.filter(exchange=account).order_by("timestamp").values("pk")[:3]).delete()
    before = scrape(client, token)

    async def audit():
        connector = ExchangeConnector(account)
        try:
            return await audit_account(account, connector.rest_client(), account.symbols, timezone.now() - timedelta(days=2), repair=True)
        finally:
            await connector.close()

    result = async_to_sync(audit)()

    after = scrape(client, token)
    assert result.repaired == 3
    assert value(after, "tracker_trades_stored_total", account=BINANCE, path="audit") - value(before, "tracker_trades_stored_total", account=BINANCE, path="audit") == 3


def test_the_state_is_read_from_the_database(client, token, simulated_accounts):
    up, down = simulated_accounts[BINANCE], simulated_accounts[BYBIT]
    now = timezone.now()
    StreamHealth.objects.create(account=up, ws_connected_since=now, ws_reconnects=3, last_audit_missing=1, last_audit_differing=2)
    StreamHealth.objects.create(account=down, ws_connected_since=None, stopped_reason="AuthenticationError: the key was refused")
    SyncCursor.objects.create(account=up, symbol="BTC/USDT", last_sync_at=now - timedelta(seconds=120), last_pass_new=7)
    RejectedTrade.objects.create(exchange=up, exchange_trade_id="1", reason="amount is not a number", raw={})
    RejectedTrade.objects.create(exchange=up, exchange_trade_id="2", reason="trade id reused with different content: price 1 -> 2", raw={})
    RejectedTrade.objects.create(exchange=up, feed=RejectedTrade.Feed.FUNDING, exchange_trade_id="3", reason="no amount", raw={})

    samples = scrape(client, token)

    assert value(samples, "tracker_stream_up", account=BINANCE) == 1
    assert value(samples, "tracker_stream_up", account=BYBIT) == 0
    assert ("tracker_stream_up", (("account", BYBIT),)) in samples
    assert value(samples, "tracker_stream_reconnects", account=BINANCE) == 3
    assert value(samples, "tracker_account_down", account=BINANCE) == 0
    assert value(samples, "tracker_account_down", account=BYBIT) == 1
    assert value(samples, "tracker_account_enabled", account=BINANCE, venue="binance_spot") == 1
    assert 120 <= value(samples, "tracker_rest_lag_seconds", account=BINANCE, symbol="BTC/USDT") < 180
    assert value(samples, "tracker_rest_last_pass_new_trades", account=BINANCE, symbol="BTC/USDT") == 7
    assert value(samples, "tracker_rejected_payloads", account=BINANCE, feed="trades") == 2
    assert value(samples, "tracker_rejected_payloads", account=BINANCE, feed="funding") == 1
    assert value(samples, "tracker_alarms", account=BINANCE, kind="reused_id") == 1
    assert value(samples, "tracker_alarms", account=BINANCE, kind="audit_missing") == 1
    assert value(samples, "tracker_alarms", account=BINANCE, kind="audit_differing") == 2
    assert value(samples, "tracker_alarms", account=BINANCE, kind="down") == 0
    assert value(samples, "tracker_alarms", account=BYBIT, kind="down") == 1


def test_a_ban_is_told_from_other_rate_refusals_by_the_status_in_ccxts_message():
    assert refusal_status(ccxt.DDoSProtection("binance 418 I'm a teapot {\"code\":-1003}")) == "418"
    assert refusal_status(ccxt.DDoSProtection("binance 429 Too Many Requests {\"code\":-1003}")) == "429"
    assert refusal_status(ccxt.RateLimitExceeded('bybit {"retCode":10006,"retMsg":"Too many visits!"}')) == "429"
    assert refusal_status(ccxt.ExchangeNotAvailable("binance 503 Service Unavailable")) is None


SERIES = (
    "tracker_trades_stored_total",
    "tracker_stream_up",
    "tracker_account_down",
    "tracker_rest_lag_seconds",
    "tracker_rest_interval_seconds",
    "tracker_rest_passes_total",
    "tracker_rest_pass_seconds_bucket",
    "tracker_venue_refusals_total",
    "tracker_push_to_commit_seconds_bucket",
    "tracker_rejected_payloads",
    "tracker_alarms",
)


def test_the_sample_grafana_dashboard_has_a_panel_for_each_series():
    dashboard = json.loads((Path(settings.BASE_DIR) / "docs" / "grafana-dashboard.json").read_text())
    queries = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    for series in SERIES:
        assert any(series in query for query in queries), f"no panel shows {series}"
