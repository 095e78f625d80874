"""A database from before accounts named their venue: the migration gives each account the venue its
ccxt id and market type meant, keeps an account on any other pair visible (and refused until such a
venue exists), and going back restores the pair."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from exchanges.models import ExchangeAccount
from exchanges.venues import VENUES

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = [("exchanges", "0001_initial")]
AFTER = [("exchanges", "0002_exchangeaccount_venue")]

KNOWN_VENUES = ", ".join(VENUES)  # every registered venue, in the registry's order


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps.get_model("exchanges", "ExchangeAccount")


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.fixture
def old_schema():
    yield migrate(BEFORE)
    migrate(latest())


def test_each_account_gets_the_venue_of_its_exchange_and_market_type(old_schema):
    for name, ccxt_id, market_type in [("spot", "binance", "spot"), ("perp", "bybit", "swap"), ("odd", "kraken", "spot")]:
        old_schema.objects.create(name=name, ccxt_id=ccxt_id, market_type=market_type, symbols=["BTC/USDT"])

    migrate(AFTER)
    migrate(latest())

    assert dict(ExchangeAccount.objects.values_list("name", "venue")) == {"spot": "binance_spot", "perp": "bybit_linear", "odd": "kraken_spot"}
    assert ExchangeAccount.objects.get(name="perp").market_symbol("BTC/USDT") == "BTC/USDT:USDT"
    with pytest.raises(ValidationError) as raised:
        ExchangeAccount.objects.get(name="odd").full_clean()
    assert raised.value.message_dict["venue"] == [f"kraken_spot is not a venue the tracker supports; the venues are: {KNOWN_VENUES}"]


def test_going_back_restores_the_exchange_and_market_type(old_schema):
    after = migrate(AFTER)
    after.objects.create(name="spot", venue="binance_spot")
    after.objects.create(name="perp", venue="bybit_linear")
    after.objects.create(name="odd", venue="kraken_spot")

    old = migrate(BEFORE)

    pairs = {a.name: (a.ccxt_id, a.market_type) for a in old.objects.all()}
    assert pairs == {"spot": ("binance", "spot"), "perp": ("bybit", "swap"), "odd": ("kraken", "spot")}
