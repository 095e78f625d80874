"""The seed's usage example runs as written, as a program of its own, against the simulator."""

import json
from decimal import Decimal

import pytest

from django.db import connection

from ..ground_truth import truth_id
from .. import processes

pytestmark = pytest.mark.django_db(transaction=True, reset_sequences=True)

# Fees in the quote coin, so that each position's base amount is the sum of its trades' amounts.
TRADES = [
    {"account": "binance_spot", "symbol": "BTC/USDT", "side": "buy", "amount": "0.5", "price": "60000", "fee": "3", "fee_coin": "USDT"},
    {"account": "binance_spot", "symbol": "BTC/USDT", "side": "buy", "amount": "0.25", "price": "61000", "fee": "1.5", "fee_coin": "USDT"},
    {"account": "binance_spot", "symbol": "BTC/USDT", "side": "sell", "amount": "0.1", "price": "62000", "fee": "0.6", "fee_coin": "USDT"},
    {"account": "binance_spot", "symbol": "ETH/USDT", "side": "buy", "amount": "2", "price": "3000", "fee": "0.6", "fee_coin": "USDT"},
    {"account": "bybit_perp", "symbol": "BTC/USDT:USDT", "side": "sell", "amount": "0.2", "price": "60500", "fee": "0.1", "fee_coin": "USDT"},
]


def start_example(**env):
    """The example as a bot's program: its own script, the tracker importable from PYTHONPATH."""
    return processes.start_python("tests/trade_tracker/seed_example.py", env={"PYTHONPATH": str(processes.PROJECT_DIR), **env})


def run_example() -> dict:
    process = start_example()
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert "Unclosed" not in err, err  # the session's end closed the clients its synchronizer opened
    return json.loads(out.strip().splitlines()[-1])


def test_the_seed_example_reads_what_the_synchronizer_stored(simulator, simulated_accounts):
    assert simulated_accounts["binance_spot"].id == 1  # the example asks for exchange_id=1
    posted = simulator.post_trades(*TRADES)

    seen = run_example()

    assert (seen["position"]["account"], seen["position"]["side"], Decimal(seen["position"]["p1"])) == (1, "long", Decimal("0.65"))
    assert sorted(Decimal(line.split()[-1]) for line in seen["open_positions"]) == sorted(Decimal(x) for x in ("0.65", "2", "-0.2"))
    assert Decimal(seen["net"]) == Decimal("0.45")
    assert {name: Decimal(share) for name, share in seen["shares"].items()} == {"binance_spot": Decimal("0.65"), "bybit_perp": Decimal("-0.2")}
    binance = simulated_accounts["binance_spot"]
    binance_btc = [truth_id(binance, t) for t in posted if t["symbol"] == "BTC/USDT" and t["account"] == "binance_spot"]
    assert sorted(seen["trades"]) == sorted(binance_btc)
    assert seen["stats"]["count"] == 4  # BTC/USDT on both accounts
    assert Decimal(seen["stats"]["buy_volume"]) == Decimal("0.75")
    assert Decimal(seen["stats"]["sell_volume"]) == Decimal("0.3")


@pytest.fixture
def empty_database():
    """A database of its own beside the test database, with no tables."""
    name = f"{connection.settings_dict['NAME']}_empty"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield processes.test_database_url().replace(f"/{connection.settings_dict['NAME']}?", f"/{name}?")
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_example_on_a_database_not_migrated_says_what_to_run(empty_database):
    process = start_example(DATABASE_URL=empty_database)
    out, err = process.communicate(timeout=120)
    assert process.returncode != 0
    last_line = err.strip().splitlines()[-1]
    assert last_line.startswith("trade_tracker.DatabaseNotReady: the tracker's database")
    assert "run `python manage.py migrate`" in last_line
