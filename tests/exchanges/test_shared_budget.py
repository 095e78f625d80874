"""Six Binance accounts behind one IP, backfilling at once from two processes that share one request
budget through Redis, against the simulator at Binance's real limit (6,000 weight a minute)."""

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from exchanges.models import ExchangeAccount
from tests import processes
from trades.models import Trade

ACCOUNTS = [f"binance_{n}" for n in range(6)]
LIMIT, WINDOW_MS, HEAVIEST = 6000, 60_000, 20  # Binance's REQUEST_WEIGHT; myTrades and exchangeInfo weigh 20
REDIS_URL = "redis://127.0.0.1:6379/9"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def simulator_config():
    # Backfilled from 80 days back, two of them with 3,000 trades: about 83 calls each (the markets, 78
    # empty days, a few pages), 10,000 weight for six: more than one minute's limit.
    account = {"protocol": "binance", "markets": ["BTC/USDT"], "history": {"trades": 3000, "days": 2}, "generator": {"orders_per_minute": 0}}
    return {"seed": 3, "accounts": [{"name": name, **account} for name in ACCOUNTS]}


def go_time() -> int:
    """When the workers start: in 4 s (they load Django meanwhile), or early in the minute after, so that
    the first window has time for its whole limit whatever the per-client pacing (about 30 calls a
    second for six clients)."""
    go = int(time.time() * 1000) + 4000
    if go % WINDOW_MS > 25_000:
        go = go - go % WINDOW_MS + WINDOW_MS + 1000
    return go


def fewest_windows(total: int) -> int:
    return -(-total // LIMIT)


def test_six_accounts_in_two_processes_backfill_within_the_ips_limit(simulator, simulated_accounts):
    ExchangeAccount.objects.update(backfill_since=timezone.now() - timedelta(days=80))
    go = go_time()
    env = {"REDIS_URL": REDIS_URL, "LOG_LEVEL": "WARNING"}
    workers = [processes.start_python("-m", "tests.exchanges.budget_worker", str(go), *names, env=env) for names in (ACCOUNTS[:3], ACCOUNTS[3:])]
    reports = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))

    stats = simulator.stats()
    assert stats["rate_limited"] == {}  # no 429, no 418
    windows = [w["used"] for w in stats["binance_weight"]["windows"] if w["start_ms"] + WINDOW_MS > go]
    total = sum(windows)
    assert len(windows) == fewest_windows(total)  # the floor, counted in the venue's windows
    assert all(used > LIMIT - HEAVIEST for used in windows[:-1])  # every window before the last was spent to its limit

    for name in ACCOUNTS:
        assert Trade.objects.filter(exchange=simulated_accounts[name]).count() == len(simulator.truth(account=name))

    began, ended = min(r["began"] for r in reports), max(r["ended"] for r in reports)
    floor = (go - go % WINDOW_MS + (len(windows) - 1) * WINDOW_MS) / 1000 - began  # the last window's start
    print(f"weight {total} in {len(windows)} windows {windows}; backfill {ended - began:.1f} s, the limit's floor {floor:.1f} s")
