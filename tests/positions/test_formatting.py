"""How the pages write numbers: the expected texts are worked out by hand from the rules in
positions/formatting.py's docstring."""

from decimal import Decimal as D

import pytest

from positions.formatting import Shown, amount, fixed, money, per_coin, price, step_places


@pytest.mark.parametrize(("step", "places"), [("0.001", 3), ("0.00001", 5), ("0.10", 1), ("1", 0), ("5", 0), ("1E+1", 0)])
def test_a_step_gives_its_decimal_places(step, places):
    assert step_places(D(step)) == places


def test_money_in_a_stable_coin_has_two_places_and_the_coin():
    assert money(D("-33.310911046016016016"), "USDT") == Shown("-33.31 USDT", "-33.310911046016016016")


def test_money_rounds_half_up_and_groups_thousands():
    assert money(D("1234567.005"), "USDT").text == "1,234,567.01 USDT"
    assert money(D("-1234.994"), "USDC").text == "-1,234.99 USDC"


def test_money_in_btc_has_eight_places_and_in_eth_six():
    assert money(D("0.000123456789"), "BTC").text == "0.00012346 BTC"
    assert money(D("1.5"), "ETH").text == "1.500000 ETH"


def test_a_coin_not_in_the_table_gets_eight_places():
    assert money(D("0.5"), "XYZ").text == "0.50000000 XYZ"


def test_a_value_that_rounds_to_zero_never_reads_as_zero():
    assert money(D("0.004"), "USDT") == Shown("< 0.01 USDT", "0.004")
    assert money(D("-0.000000000000000001"), "USDT") == Shown("> -0.01 USDT", "-0.000000000000000001")
    assert amount(D("0.0000004"), "BTC", D("0.00001")).text == "< 0.00001 BTC"


def test_zero_is_zero_without_a_sign():
    assert money(D("0"), "USDT").text == "0.00 USDT"
    assert money(D("-0E-18"), "USDT").text == "0.00 USDT"


def test_an_amount_goes_to_the_market_step_with_its_trailing_zeros():
    assert amount(D("0.1"), "BTC", D("0.00001")) == Shown("0.10000 BTC", "0.1")
    assert amount(D("1500"), "DOGE", D("1")).text == "1,500 DOGE"


def test_an_amount_without_a_step_goes_to_the_coin_places():
    assert amount(D("0.3"), "BTC").text == "0.30000000 BTC"
    assert amount(D("0.3"), "BTC", D("0")).text == "0.30000000 BTC"


def test_a_price_goes_to_the_tick_without_the_coin():
    assert price(D("60123.456"), "USDT", D("0.10")) == Shown("60,123.5", "60123.456")
    assert price(D("110.0000000000"), "USDT", D("0.01")) == Shown("110.00", "110")


def test_a_price_without_a_tick_keeps_four_significant_digits_below_one():
    assert price(D("120"), "USDT").text == "120.00"
    assert price(D("0.00001234567"), "USDT").text == "0.00001235"
    assert price(D("0.5"), "USDT").text == "0.5000"


def test_nothing_shows_as_empty():
    assert money(None, "USDT") == Shown("", "")
    assert price(None, "USDT") == Shown("", "")


def test_fees_in_several_coins_are_listed_by_coin():
    assert per_coin({"USDT": D("1.234"), "BNB": D("0.0000123")}) == Shown("0.000012 BNB · 1.23 USDT", "0.0000123 BNB · 1.234 USDT")


def test_a_stored_value_of_thirty_eight_digits_formats():
    assert fixed(D("12345678901234567890.123456789012345678"), 18).startswith("12,345,678,901,234,567,890.1234")
