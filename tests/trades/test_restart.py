"""The demo stopped and started again, as `make run` runs it: the simulator (keeping its ledger in a
state file) and `track`, each a process of its own. The venue goes on after the restart, so the
trades made after it are stored like any other and none is kept aside as an id reused; the audit
then finds nothing missing and nothing different."""

import json
import os
import socket
import subprocess
import sys
import urllib.request
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from exchanges.models import ExchangeAccount
from exchanges.simulator.testing import BINANCE, BYBIT, TEST_CONFIG
from trades.models import RejectedTrade, Trade

from ..ground_truth import truth_id, wait_until
from .. import processes

pytestmark = pytest.mark.django_db(transaction=True)

CONFIG = {
    **TEST_CONFIG,
    "accounts": [{**a, "history": {"trades": 60, "days": 1}, "generator": {"orders_per_minute": 30}} for a in TEST_CONFIG["accounts"]],
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Demo:
    """The simulator and the tracker as `run_demo` starts them, on the test database."""

    def __init__(self, directory):
        self.directory = directory
        self.port = free_port()
        self.config = directory / "sim.json"
        self.config.write_text(json.dumps(CONFIG))
        self.state = directory / "simulator" / "ledger.jsonl"
        self.processes: list[subprocess.Popen] = []
        self.runs = 0

    def _start(self, *args: str) -> subprocess.Popen:
        log = open(self.directory / f"{args[0]}-{self.runs}.log", "w")
        env = {**os.environ, "DATABASE_URL": processes.test_database_url(), "DJANGO_SETTINGS_MODULE": "tracker_project.settings", "SYNC_INTERVAL_SECONDS": "2"}
        process = subprocess.Popen([sys.executable, "manage.py", *args], cwd=processes.PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def start(self) -> None:
        self.runs += 1
        simulator = self._start("simulate_exchange", "--port", str(self.port), "--register", "--config", str(self.config), "--state", str(self.state))
        log = self.directory / f"simulate_exchange-{self.runs}.log"
        # It listens before it registers the accounts; the line comes once both are done.
        wait_until(lambda: simulator.poll() is not None or "exchange simulator listening" in log.read_text(), message="the simulator ready")
        assert simulator.poll() is None, log.read_text()
        self._start("track")

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []

    def call(self, path: str, body=None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def inject(self, price: str) -> list[dict]:
        return self.call("/_sim/trades", {"trades": [
            {"account": BINANCE, "symbol": "BTC/USDT", "side": "buy", "amount": "0.001", "price": price},
            {"account": BYBIT, "symbol": "ETH/USDT:USDT", "side": "sell", "amount": "0.01", "price": price},
        ]})["trades"]

    def truth_ids(self) -> dict[str, set[str]]:
        """name -> the stored ids of every trade the venue has made so far."""
        accounts = {a.name: a for a in ExchangeAccount.objects.all()}
        ids: dict[str, set[str]] = {BINANCE: set(), BYBIT: set()}
        for record in self.call("/_sim/trades")["trades"]:
            ids[record["account"]].add(truth_id(accounts[record["account"]], record))
        return ids


def stored_ids(name: str) -> set[str]:
    return set(Trade.objects.filter(exchange__name=name).values_list("exchange_trade_id", flat=True))


def all_stored(ids: dict[str, set[str]]) -> bool:
    return all(wanted <= stored_ids(name) for name, wanted in ids.items())


@pytest.fixture
def demo(tmp_path):
    demo = Demo(tmp_path)
    try:
        yield demo
    finally:
        demo.stop()


def test_after_a_restart_the_new_trades_are_stored_and_none_is_kept_aside(demo):
    demo.start()
    demo.inject("2000.01")
    before = demo.truth_ids()
    wait_until(lambda: all_stored(before), timeout=120, message="every trade before the restart stored")
    demo.stop()

    demo.start()
    injected = demo.inject("2000.02")
    after = demo.truth_ids()
    wait_until(lambda: all_stored(after), timeout=120, message="every trade after the restart stored")

    made_after = {name: after[name] - before[name] for name in after}
    assert all(made_after.values())  # the injected ones, and the trickle's
    assert {t["id"] for t in injected if t["account"] == BYBIT} <= made_after[BYBIT]
    assert RejectedTrade.objects.count() == 0
    call_command("audit", "--since", (timezone.now() - timedelta(days=2)).isoformat())  # raises if any is missing or differs
