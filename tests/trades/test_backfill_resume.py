"""A long backfill killed half-way resumes from its cursor and ends complete."""

import re
import signal

import pytest

from exchanges.simulator.testing import BINANCE, BYBIT, TEST_CONFIG
from trades.models import Trade

from ..ground_truth import assert_positions_match_truth, assert_trades_match_truth, wait_until
from ..processes import start_python

pytestmark = pytest.mark.django_db(transaction=True)
HISTORY = 20_000
PAGE = {BINANCE: 1000, BYBIT: 100}


@pytest.fixture
def simulator_config():
    accounts = []
    for account in TEST_CONFIG["accounts"]:
        # One market each, so the whole history is one symbol's backfill.
        accounts.append({**account, "markets": account["markets"][:1], "history": {"trades": HISTORY, "days": 20}})
    return {**TEST_CONFIG, "accounts": accounts}


@pytest.mark.parametrize("name", [BINANCE, BYBIT])
def test_a_killed_backfill_resumes_from_its_cursor(simulator, simulated_accounts, name):
    account = simulated_accounts[name]
    truth = simulator.truth(account=name)
    assert len(truth) == HISTORY

    first = start_python("manage.py", "sync", "--account", name)
    try:
        stored_at_kill = wait_until(
            lambda: (n := Trade.objects.filter(exchange=account).count()) >= HISTORY // 2 and n, timeout=300, message="half the backfill"
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate()
    stored_at_kill = Trade.objects.filter(exchange=account).count()
    assert stored_at_kill < HISTORY

    second = start_python("manage.py", "sync", "--account", name)
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err

    fetched = int(re.search(rf"{name}: (\d+) fetched", out).group(1))
    assert fetched <= HISTORY - stored_at_kill + PAGE[name]
    assert_trades_match_truth(account, truth)
    assert_positions_match_truth(account, truth)
