import pytest

from exchanges.simulator.testing import *  # noqa: F401,F403  (simulator, simulator_config, simulated_accounts)

from .factories import make_account, make_market


@pytest.fixture
def account(db):
    account = make_account()
    make_market(account, "BTC/USDT")
    make_market(account, "ETH/USDT", amount_step="0.0001")
    return account


@pytest.fixture(autouse=True)
def _markets_read_afresh():
    """Each test starts with no market remembered: ids are reused after a flush, and a test may
    change a market with an update that sends no signal."""
    from exchanges.markets import forget_markets

    forget_markets()
    yield
    forget_markets()


@pytest.fixture(autouse=True)
def _request_budgets_afresh():
    """Each test starts with no request budget spent: a simulator's port may be reused by the next."""
    from exchanges.budgets import forget_budgets

    forget_budgets()
    yield
    forget_budgets()


@pytest.fixture
async def async_db():
    """For async tests: they reach the database from asgiref's worker thread, whose connection must
    be closed afterwards so the test database can be dropped."""
    yield
    from asgiref.sync import sync_to_async
    from django.db import connections

    await sync_to_async(connections.close_all)()
