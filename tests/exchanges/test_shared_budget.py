"""Binance accounts behind one IP spend one request budget: six backfilling at once from two processes
that share it through Redis, against the simulator at Binance's real limit (6,000 weight a minute);
and the clients of one process, corrected by the venue's headers and closed by its refusals."""

import asyncio
import json
import time
import urllib.request
from datetime import timedelta

import ccxt
import pytest
from django.utils import timezone

from exchanges.connectors import build_client
from exchanges.models import ExchangeAccount
from tests import processes
from trades.models import Trade

ACCOUNTS = [f"binance_{n}" for n in range(6)]
LIMIT, WINDOW_MS, HEAVIEST = 6000, 60_000, 20  # Binance's REQUEST_WEIGHT; myTrades and exchangeInfo weigh 20
REDIS_URL = "redis://127.0.0.1:6379/9"

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


@pytest.mark.django_db(transaction=True)
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


def budget_of(client):
    ((_, _, shared),) = client.budget_hook.budgets_of("public", "exchangeInfo")
    return shared


async def spent_now(shared) -> int:
    return await shared.store.used(shared.rates[0], shared.clock())


async def learned(*clients) -> None:
    """Let the clients' header resyncs (tasks started as each answer arrives) finish."""
    for client in clients:
        while client.budget_hook._pending:
            await asyncio.gather(*client.budget_hook._pending)


async def test_the_clients_of_accounts_behind_one_ip_spend_one_budget(simulator):
    first, second = (build_client(simulator.exchange_account(name)) for name in ACCOUNTS[:2])
    try:
        await first.load_markets()
        await second.load_markets()
        await learned(first, second)
        assert budget_of(first) is budget_of(second)
        assert await spent_now(budget_of(first)) == simulator.stats()["binance_weight"]["used"] == 40
    finally:
        await first.close()
        await second.close()


async def test_weight_spent_elsewhere_on_the_ip_is_learned_from_the_venues_header(simulator):
    urllib.request.urlopen(simulator.base_url + "/api/v3/exchangeInfo").read()  # another program on the IP: weight 20
    client = build_client(simulator.exchange_account(ACCOUNTS[0]))
    try:
        await client.load_markets()
        await learned(client)
        assert await spent_now(budget_of(client)) == simulator.stats()["binance_weight"]["used"] == 40
    finally:
        await client.close()


async def test_a_429_closes_the_budget_for_every_client_until_its_retry_after(simulator):
    first, second = (build_client(simulator.exchange_account(name)) for name in ACCOUNTS[:2])
    try:
        simulator.faults({"action": "429", "retry_after": 30})
        with pytest.raises(ccxt.DDoSProtection):
            await first.load_markets()
        await learned(first)
        shared = budget_of(second)
        assert await shared.store.blocked_until() >= shared.clock() + 29_000
    finally:
        await first.close()
        await second.close()
