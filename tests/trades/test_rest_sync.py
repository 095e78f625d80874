"""REST passes against the simulator, with the real ccxt client: what is particular to one venue
(what every venue does is in tests/venues/test_storing.py)."""

import pytest

from exchanges.simulator.testing import BINANCE, TEST_CONFIG
from trades.backoff import Backoff
from trades.models import StreamHealth

from ..passes import rest_pass

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def simulator_config():
    config = {**TEST_CONFIG, "accounts": [dict(a) for a in TEST_CONFIG["accounts"]]}
    for account in config["accounts"]:
        account["history"] = {"trades": 1500, "days": 10}
    return config


def test_binance_retry_after_is_honoured(simulator, simulated_accounts):
    simulator.faults({"action": "429", "count": 1, "protocol": "binance", "retry_after": 1})  # the budget waits it out too
    waits = []

    async def no_sleep(seconds):
        waits.append(seconds)

    rest_pass(simulated_accounts[BINANCE], backoff=Backoff(base_seconds=0.01, max_seconds=0.02, sleep=no_sleep))

    assert len(waits) == 1 and waits[0] >= 1  # Binance's Retry-After is whole seconds, at least 1


def test_a_rejected_secret_stops_the_account_without_showing_the_secret(simulator, simulated_accounts):
    account = simulated_accounts[BINANCE]
    account.api_secret = "wrong-secret-value"
    account.save()
    account.refresh_from_db()

    result = rest_pass(account)

    assert result.stopped
    health = StreamHealth.objects.get(account=account)
    assert health.stopped_reason
    assert "wrong-secret-value" not in health.stopped_reason + health.last_error + result.stopped
