"""Every venue's candles: the tracker reads the venue's own strings from its recorded answer, and
reads its simulated account's candles through the real ccxt, each fill within its candle."""

import time
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync

from exchanges.candles import candle, fetch_candles, timeframe_ms

from .conftest import contract, payload


def test_the_candles_are_the_venues_strings(venue_name, venue):
    recorded = contract(venue_name).get("candles")
    if recorded is None:
        pytest.fail(f"venue {venue_name} has no recorded candles: add `candles` to its contract.json (tests/venues/payloads/README.md)", pytrace=False)

    rows = venue.candle_rows(payload(venue_name, recorded["payload"]))

    assert [[str(row[0]), *row[1:]] for row in rows] == recorded["rows"]
    for row, expected in zip(rows, recorded["rows"], strict=True):
        assert candle(row)[1:] == tuple(Decimal(text) for text in expected[1:])


@pytest.fixture
def history():
    return {"trades": 60, "days": 1}


def test_the_simulated_venues_candles_hold_its_fills(simulator, venue_name, account_name):
    symbol = simulator.account(account_name).markets[0].symbol
    step = timeframe_ms("1h")
    since = (int(time.time() * 1000) - 30 * step) // step * step

    candles = async_to_sync(fetch_candles)(simulator.exchange_account(account_name), symbol, "1h", since, 40)

    by_hour = {c.open_time: c for c in candles}
    fills = [f for f in simulator.truth(account=account_name, symbol=symbol) if f["timestamp"] >= since]
    assert candles and fills
    for fill in fills:
        c = by_hour[fill["timestamp"] // step * step]
        assert c.low <= Decimal(fill["price"]) <= c.high
    assert sum(c.volume for c in candles) == sum(Decimal(f["amount"]) for f in fills)
