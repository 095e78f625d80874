"""`manage.py simulate_exchange`: a config file, a port, and --register."""

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from exchanges.models import ExchangeAccount

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict  # the test database, so the command's rows are the test's
    return f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def run_command():
    processes = []

    def run(*args) -> str:
        """Start the command; returns its base URL once it listens."""
        env = {**os.environ, "DATABASE_URL": database_url()}
        process = subprocess.Popen(
            [sys.executable, "manage.py", "simulate_exchange", "--port", "0", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        processes.append(process)
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "listening on" in line:
                return line.split("listening on ")[1].split()[0]
        raise AssertionError("the simulator did not start:\n" + "".join(lines))

    yield run
    for process in processes:
        process.terminate()
        process.wait(timeout=30)


def get(url: str):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


@pytest.mark.django_db(transaction=True)
def test_register_creates_the_accounts_pointing_at_the_simulator(run_command):
    base_url = run_command("--register")

    rows = {row.name: row for row in ExchangeAccount.objects.all()}
    served = {a["name"]: a for a in get(base_url + "/_sim/accounts")["accounts"]}
    assert set(rows) == set(served) == {"binance_spot", "bybit_perp", "bybit_spot"}
    for name, row in rows.items():
        assert (row.ccxt_id, row.market_type, row.base_url, row.enabled) == (served[name]["ccxt_id"], served[name]["market_type"], base_url, True)
        assert (row.api_key, row.api_secret) == (served[name]["api_key"], served[name]["api_secret"])
        assert row.symbols == [m["symbol"] for m in served[name]["markets"]]


def test_a_config_file_chooses_the_accounts(run_command, tmp_path):
    config = tmp_path / "sim.json"
    config.write_text(json.dumps({"accounts": [{"name": "solo", "protocol": "bybit", "markets": ["SOL/USDT:USDT"], "history": {"trades": 10, "days": 1}}]}))

    base_url = run_command("--config", str(config))

    assert [a["name"] for a in get(base_url + "/_sim/accounts")["accounts"]] == ["solo"]
    assert get(base_url + "/_sim/trades?account=solo")["count"] == 10


@pytest.mark.django_db(transaction=True)
def test_a_registered_account_backfills_from_where_its_history_begins(run_command, tmp_path):
    config = tmp_path / "sim.json"
    config.write_text(json.dumps({"accounts": [{"name": "solo", "protocol": "binance", "markets": ["BTC/USDT"], "history": {"trades": 50, "days": 3}}]}))

    base_url = run_command("--config", str(config), "--register")

    first = min(trade["timestamp"] for trade in get(base_url + "/_sim/trades?account=solo")["trades"])
    since_ms = ExchangeAccount.objects.get(name="solo").backfill_since.timestamp() * 1000
    assert first - 4 * 86_400_000 < since_ms <= first
