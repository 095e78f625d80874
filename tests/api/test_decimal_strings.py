from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.types import decimal_string, utc_string
from trades.ingest import ingest_trades

from ..factories import binance_trade


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("0.000000000000000001", "0.000000000000000001"),
        ("1E-18", "0.000000000000000001"),
        ("100.000000000000000000", "100"),
        ("370.025845000000000000", "370.025845"),
        ("-0.395870840000000000", "-0.39587084"),
        ("10", "10"),
        ("-1E+2", "-100"),
        ("0.0000010", "0.000001"),
        ("1E+3", "1000"),
        ("-2.50", "-2.5"),
        ("0E-18", "0"),
        ("-0", "0"),
        ("12345678901234567890.123456789012345678", "12345678901234567890.123456789012345678"),
    ],
)
def test_decimal_strings_are_plain_and_exact(value, text):
    assert decimal_string(Decimal(value)) == text


def test_the_api_keeps_the_smallest_amount_exact(api, account):
    ingest_trades(account, [binance_trade(1, amount="0.000000000000000001", price="99999999999999999999", cost="99.999999999999999999")])

    (trade,) = api.get("/api/trades").json()["items"]

    assert (trade["amount"], trade["price"], trade["cost"]) == ("0.000000000000000001", "99999999999999999999", "99.999999999999999999")
    assert b"e-18" not in api.get("/api/trades").content.lower()


def test_times_are_utc_with_a_z():
    from datetime import datetime, timedelta, timezone

    assert utc_string(datetime(2024, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))) == "2024-01-01T00:00:00Z"


@given(st.decimals(min_value=Decimal("-1e20") + 1, max_value=Decimal("1e20") - 1, places=18, allow_nan=False, allow_infinity=False))
def test_every_stored_value_is_written_plainly_and_reads_back_exactly(value):
    text = decimal_string(value)

    assert Decimal(text) == value
    assert "e" not in text.lower()
    assert not ("." in text and text.endswith(("0", ".")))
