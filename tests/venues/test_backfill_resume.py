"""A long backfill killed half-way resumes from its cursor and ends complete, for every venue."""

import re
import signal

import pytest

from trades.models import Trade

from ..ground_truth import assert_positions_match_truth, assert_trades_match_truth, wait_until
from ..processes import start_python
from .conftest import contract, simulated_account_config

pytestmark = pytest.mark.django_db(transaction=True)
HISTORY = 20_000


@pytest.fixture
def simulator_config(venue_name):
    # One market, so the whole history is one symbol's backfill.
    account = simulated_account_config(venue_name)
    account.update(markets=account["markets"][:1], history={"trades": HISTORY, "days": 20})
    return {"seed": 7, "accounts": [account]}


def test_a_killed_backfill_resumes_from_its_cursor(simulator, simulated_accounts, account_name, venue_name):
    account = simulated_accounts[account_name]
    truth = simulator.truth(account=account_name)
    assert len(truth) == HISTORY

    first = start_python("manage.py", "sync", "--account", account_name)
    try:
        stored_at_kill = wait_until(
            lambda: (n := Trade.objects.filter(exchange=account).count()) >= HISTORY // 2 and n, timeout=300, message="half the backfill"
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate()
    stored_at_kill = Trade.objects.filter(exchange=account).count()
    assert stored_at_kill < HISTORY

    second = start_python("manage.py", "sync", "--account", account_name)
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err

    fetched = int(re.search(rf"{account_name}: (\d+) fetched", out).group(1))
    assert fetched <= HISTORY - stored_at_kill + contract(venue_name)["max_page"]  # at most one page read again
    assert_trades_match_truth(account, truth)
    assert_positions_match_truth(account, truth)
