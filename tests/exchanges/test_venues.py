"""The venue registry: a name names one venue, an unknown name is refused with the known ones, and
each venue has what the tracker asks of it."""

import ccxt.pro
import pytest

from exchanges.models import ExchangeAccount
from exchanges.venues import VENUES, UnknownVenue, venue_choices, venue_for, venue_named


def test_a_name_gives_its_venue():
    venue = venue_named("bybit_linear")
    assert (venue.name, venue.ccxt_id, venue.market_type) == ("bybit_linear", "bybit", "swap")


def test_an_unknown_name_is_refused_with_the_known_ones():
    with pytest.raises(UnknownVenue, match=r"^binance_usdm is not a venue the tracker supports; the venues are: (\w+, )+\w+$") as refused:
        venue_named("binance_usdm")
    assert {"binance_spot", "bybit_linear", "bybit_spot"} <= set(str(refused.value).rpartition(": ")[2].split(", "))


def test_a_ccxt_id_and_market_type_give_their_venue():
    assert venue_for("binance", "spot") is VENUES["binance_spot"]
    assert venue_for("bybit", "spot") is VENUES["bybit_spot"]
    with pytest.raises(UnknownVenue, match="no venue is binance swap; the venues are: binance_spot, bybit_linear, bybit_spot"):
        venue_for("binance", "swap")


def test_the_account_field_offers_every_venue():
    assert [name for name, _ in venue_choices()] == list(VENUES)
    assert [name for name, _ in ExchangeAccount._meta.get_field("venue").choices] == list(VENUES)


@pytest.mark.parametrize("venue", VENUES.values(), ids=list(VENUES))
def test_every_venue_has_what_the_tracker_asks_of_it(venue):
    assert hasattr(ccxt.pro, venue.ccxt_id)
    assert {"amount", "price", "cost", "fee_cost"} <= set(venue.exact_fields) <= {"amount", "price", "cost", "fee_cost", "fee_currency"}
    assert all(keys for keys in venue.exact_fields.values())
    assert venue.required_credentials
    pager = venue.pager()
    assert isinstance(pager.initial(1_700_000_000_000), dict)
    assert callable(pager.fetch)
    assert venue.client_config()["options"]["tradesLimit"] > 1000


def test_a_linear_perpetual_symbol_names_its_settled_market():
    assert VENUES["bybit_linear"].market_symbol("BTC/USDT") == "BTC/USDT:USDT"
    assert VENUES["bybit_linear"].market_symbol("BTC/USDC:USDC") == "BTC/USDC:USDC"
    assert VENUES["binance_spot"].market_symbol("BTC/USDT") == "BTC/USDT"


def test_ids_are_qualified_only_where_the_venue_numbers_them_per_market():
    assert VENUES["binance_spot"].qualified_trade_id("BTCUSDT", 123) == "BTCUSDT:123"
    assert VENUES["bybit_linear"].qualified_trade_id("BTCUSDT", "e-1") == "e-1"
