"""REST passes against the simulator, with the real ccxt client."""

import asyncio

import pytest
from asgiref.sync import async_to_sync

from exchanges.connectors import ExchangeConnector
from exchanges.simulator.testing import BINANCE, BYBIT, TEST_CONFIG
from trades.backoff import Backoff
from trades.models import StreamHealth, SyncCursor
from trades.sync import RestSync

from ..ground_truth import assert_positions_match_truth, assert_trades_match_truth

pytestmark = pytest.mark.django_db(transaction=True)
ALL_SYMBOLS = {BINANCE: ["BTC/USDT", "ETH/USDT"], BYBIT: ["BTC/USDT:USDT", "ETH/USDT:USDT"]}


@pytest.fixture
def simulator_config():
    config = {**TEST_CONFIG, "accounts": [dict(a) for a in TEST_CONFIG["accounts"]]}
    for account in config["accounts"]:
        account["history"] = {"trades": 1500, "days": 10}
    return config


def rest_pass(account, **kwargs):
    async def run():
        connector = ExchangeConnector(account)
        try:
            return await RestSync(account, connector.rest_client(), **kwargs).run(ALL_SYMBOLS[account.name])
        finally:
            await connector.close()

    return async_to_sync(run)()


@pytest.mark.parametrize("name", [BINANCE, BYBIT])
def test_a_first_pass_backfills_everything_and_a_second_finds_nothing_new(simulator, simulated_accounts, name):
    account = simulated_accounts[name]
    account.backfill_since = None
    truth = simulator.truth(account=name)
    assert len(truth) >= 1500

    first = rest_pass(account)
    second = rest_pass(account)

    assert first.new == len(truth) and not first.stopped
    assert second.new == 0
    assert_trades_match_truth(account, truth)
    assert_positions_match_truth(account, truth)
    assert all(c.last_sync_at for c in SyncCursor.objects.filter(account=account))


@pytest.mark.parametrize("name", [BINANCE, BYBIT])
def test_rate_limits_and_server_errors_are_waited_out(simulator, simulated_accounts, name):
    protocol = "binance" if name == BINANCE else "bybit"
    simulator.faults({"action": "429", "count": 2, "protocol": protocol}, {"action": "5xx", "count": 2, "protocol": protocol})
    waits = []

    async def no_sleep(seconds):
        waits.append(seconds)

    result = rest_pass(simulated_accounts[name], backoff=Backoff(base_seconds=0.05, max_seconds=0.2, sleep=no_sleep))

    assert not result.stopped
    assert_trades_match_truth(simulated_accounts[name], simulator.truth(account=name))
    assert simulator.stats()["faults"]["injected"] == {"rest.429": 2, "rest.5xx": 2}
    assert waits  # backed off instead of failing the pass


@pytest.mark.parametrize("name", [BINANCE, BYBIT])
def test_a_malformed_answer_is_asked_again_not_taken_for_no_trades(simulator, simulated_accounts, name):
    protocol = "binance" if name == BINANCE else "bybit"
    path = "/api/v3/myTrades" if name == BINANCE else "/v5/execution/list"
    simulator.faults({"action": "malformed", "count": 3, "protocol": protocol, "path": path})

    result = rest_pass(simulated_accounts[name], backoff=Backoff(base_seconds=0.01, max_seconds=0.02))

    assert not result.stopped
    assert simulator.stats()["faults"]["injected"] == {"rest.malformed": 3}
    assert_trades_match_truth(simulated_accounts[name], simulator.truth(account=name))


def test_binance_retry_after_is_honoured(simulator, simulated_accounts):
    simulator.faults({"action": "429", "count": 1, "protocol": "binance"})
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
