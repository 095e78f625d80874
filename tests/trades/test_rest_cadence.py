"""The REST cadence: passes of the accounts on one request budget spread to fit it (sync health shows
the cadence each gets: tests/api/test_sync_health.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from exchanges.budgets import ROUTINE_SHARE
from exchanges.connectors import ExchangeConnector
from trades.health import note_rest_cadence, rest_pass_due
from trades.models import SyncCursor

BINANCE_WEIGHT_PER_SECOND = 6000 / 60


def test_a_scheduled_pass_waits_for_the_interval_its_budgets_plan(account):
    now = timezone.now()
    assert rest_pass_due(account, now=now)  # never synced
    SyncCursor.objects.create(account=account, symbol="BTC/USDT", last_sync_at=now - timedelta(seconds=40))
    note_rest_cadence(account, 30.0, 75.0)

    assert not rest_pass_due(account, now=now)
    assert rest_pass_due(account, now=now + timedelta(seconds=35))


@pytest.fixture
def simulator_config():
    account = {"protocol": "binance", "markets": ["BTC/USDT"], "generator": {"orders_per_minute": 0}}
    return {"seed": 5, "accounts": [{"name": name, **account} for name in ("binance_a", "binance_b")]}


async def test_the_passes_of_accounts_on_one_budget_are_spread_to_fit_it(simulator):
    """Each pass here is one myTrades call (weight 20) and the accounts would each pass every 0.1 s:
    4 % of the budget each, so two of them fit in no less than (2 x 20) / (80 % x 100 a second)."""
    first, second = (ExchangeConnector(simulator.exchange_account(name)) for name in ("binance_a", "binance_b"))
    try:
        intervals = []
        for connector in (first, second):
            await connector.rest_client().load_markets()
        for connector in (first, second, first):
            before = connector.rest_spent()
            await connector.rest_client().fetch_my_trades("BTC/USDT", limit=10)
            intervals.append(await connector.rest_pass_interval(before, 0.1))
    finally:
        await first.close()
        await second.close()

    one_pass = 20 / (BINANCE_WEIGHT_PER_SECOND * ROUTINE_SHARE)
    assert intervals == [pytest.approx(one_pass), pytest.approx(2 * one_pass), pytest.approx(2 * one_pass)]
