"""The exchange-streams worker, a real process, through what the soak does to it: an idle Redis
channel layer, Redis restarting, its PostgreSQL connections terminated, WebSockets cut again and again."""

import os
import sys
import time

import psycopg
import pytest
from django.utils import timezone

from bench.soaking.deployment import APPLICATION_NAME, Redis, Service, with_query
from exchanges.models import ExchangeAccount
from exchanges.simulator.testing import BINANCE, BYBIT
from trades.models import StreamHealth, SyncCursor, Trade

from .. import processes
from ..ground_truth import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def streams_worker(tmp_path, **env) -> Service:
    environment = {
        **{name: value for name, value in os.environ.items() if name != "REDIS_URL"},
        "DJANGO_SETTINGS_MODULE": "tracker_project.settings",
        "DATABASE_URL": with_query(processes.test_database_url(), application_name=APPLICATION_NAME),
        "ACCOUNT_RELOAD_SECONDS": "0.5",
        **env,
    }
    worker = Service("streams", [sys.executable, "manage.py", "runworker", "exchange-streams"], environment, tmp_path)
    worker.start()
    return worker


def connected(count: int = 2) -> bool:
    return StreamHealth.objects.filter(ws_connected_since__isnull=False).count() == count


def stored_after(simulator, account: str, symbol: str, price: str) -> int:
    before = Trade.objects.count()
    simulator.post_trades({"account": account, "symbol": symbol, "side": "buy", "amount": "0.001" if account == BINANCE else "0.01", "price": price})
    return wait_until(lambda: Trade.objects.count() == before + 1, timeout=60, message=f"the trade at {price} stored")


def test_the_worker_outlives_an_idle_redis_channel_layer_and_a_redis_restart(simulator, simulated_accounts, tmp_path):
    redis = Redis(tmp_path)
    redis.start()
    worker = streams_worker(tmp_path, REDIS_URL=redis.url)
    try:
        wait_until(connected, timeout=60, message="both streams connected")
        # redis-py's default read timeout equals channels_redis's blocking receive: an idle worker
        # used to end after about five seconds.
        for _ in range(24):
            assert worker.alive, worker.log_text()[-3000:]
            time.sleep(0.5)
        assert "channel layer unavailable" not in worker.log_text()

        redis.restart()
        stored_after(simulator, BINANCE, "BTC/USDT", "60001")
        assert worker.alive, worker.log_text()[-3000:]
    finally:
        worker.stop()
        redis.stop()


def test_the_worker_carries_on_after_its_database_connections_are_terminated(simulator, simulated_accounts, tmp_path):
    ExchangeAccount.objects.update(backfill_since=timezone.now())
    worker = streams_worker(tmp_path)
    try:
        wait_until(connected, timeout=60, message="both streams connected")
        wait_until(lambda: SyncCursor.objects.filter(last_sync_at__isnull=False).count() == 4, timeout=60, message="catch-up passes done")
        time.sleep(2)  # quiet: no pass, no trade; the worker's only database work is following the accounts

        with psycopg.connect(processes.test_database_url(), autocommit=True) as admin:
            terminated = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
                [APPLICATION_NAME],
            ).fetchone()[0]
        assert terminated >= 1
        time.sleep(2)  # the worker's next database work is its follower looking for account changes

        stored_after(simulator, BYBIT, "ETH/USDT:USDT", "3001")
        stored_after(simulator, BINANCE, "ETH/USDT", "3002")
        # ... and it still follows the accounts: one disabled, its stream stops.
        simulated_accounts[BYBIT].enabled = False
        simulated_accounts[BYBIT].save()
        wait_until(lambda: connected(1), timeout=60, message="the disabled account's stream stopped")
        assert worker.alive
    finally:
        worker.stop()


def test_a_stream_cut_again_and_again_reloads_no_markets(simulator, simulated_accounts, tmp_path):
    worker = streams_worker(tmp_path)
    try:
        wait_until(connected, timeout=60, message="both streams connected")
        stored_after(simulator, BINANCE, "BTC/USDT", "60002")
        loads = {k: v for k, v in simulator.stats()["requests"].items() if "exchangeInfo" in k or "instruments-info" in k}

        for _ in range(3):
            reconnects = sum(StreamHealth.objects.values_list("ws_reconnects", flat=True))
            simulator.faults({"action": "disconnect"})
            wait_until(lambda: sum(StreamHealth.objects.values_list("ws_reconnects", flat=True)) >= reconnects + 2, timeout=30, message="reconnected")
            wait_until(connected, timeout=30, message="both streams connected again")
        stored_after(simulator, BYBIT, "BTC/USDT:USDT", "60003")

        assert {k: v for k, v in simulator.stats()["requests"].items() if k in loads} == loads
    finally:
        worker.stop()
