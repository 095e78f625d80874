"""The simulator's candles, as Binance (`GET /api/v3/klines`) and Bybit v5 (`GET /v5/market/kline`)
document their rows, made from its own fills: each fill lies within its candle, a candle's volume is
its fills' amounts, a candle without fills is flat at the last price before it, and there is none
before the first fill."""

import json
import time
import urllib.error
import urllib.request
from decimal import Decimal

import pytest

from exchanges.simulator.testing import BINANCE, BYBIT, TEST_CONFIG

HOUR = 3_600_000


@pytest.fixture
def simulator_config():
    config = {**TEST_CONFIG, "accounts": [dict(a) for a in TEST_CONFIG["accounts"]]}
    for account in config["accounts"]:
        account["history"] = {"trades": 80, "days": 1}
        account["generator"] = {"orders_per_minute": 0}
    return config


def get(simulator, path: str):
    try:
        with urllib.request.urlopen(simulator.base_url + path, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def fills_by_hour(simulator, account: str, symbol: str) -> dict[int, list[dict]]:
    hours: dict[int, list[dict]] = {}
    for fill in simulator.truth(account=account, symbol=symbol):
        hours.setdefault(fill["timestamp"] // HOUR * HOUR, []).append(fill)
    return hours


def test_binance_klines_are_the_fills_in_binances_row_format(simulator):
    since = int(time.time() * 1000) - 30 * HOUR
    status, rows = get(simulator, f"/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime={since}&limit=1000")

    assert status == 200 and rows
    hours = fills_by_hour(simulator, BINANCE, "BTC/USDT")
    assert rows[0][0] == min(hours)  # none before the market's first fill (a day ago; asked from 30 hours ago)
    previous_close = None
    for row in rows:
        assert len(row) == 12
        open_time, o, h, low, c, volume, close_time, quote_volume, count, *_ = row
        assert isinstance(open_time, int) and close_time == open_time + HOUR - 1 and isinstance(count, int)
        # decimal strings, padded to 8 places as Binance prints them
        assert all(isinstance(text, str) and len(text.split(".")[1]) >= 8 for text in (o, h, low, c, volume, quote_volume))
        fills = hours.get(open_time, [])
        assert count == len(fills)
        if fills:
            prices = [Decimal(f["price"]) for f in fills]
            assert Decimal(o) == prices[0] and Decimal(c) == prices[-1]
            assert Decimal(h) == max(prices) and Decimal(low) == min(prices)
            assert Decimal(volume) == sum(Decimal(f["amount"]) for f in fills)
            assert Decimal(quote_volume) == sum(Decimal(f["cost"]) for f in fills)
        elif previous_close is not None:
            assert o == h == low == c == previous_close and Decimal(volume) == 0
        previous_close = c
    assert sum(row[8] for row in rows) == sum(len(f) for t, f in hours.items() if t >= rows[0][0])


def test_bybit_klines_are_newest_first_in_strings(simulator):
    status, body = get(simulator, "/v5/market/kline?category=linear&symbol=BTCUSDT&interval=60&limit=48")

    assert status == 200 and body["retCode"] == 0
    rows = body["result"]["list"]
    assert body["result"]["symbol"] == "BTCUSDT" and body["result"]["category"] == "linear"
    assert [int(r[0]) for r in rows] == sorted((int(r[0]) for r in rows), reverse=True)
    assert all(len(row) == 7 and all(isinstance(v, str) for v in row) for row in rows)
    hours = fills_by_hour(simulator, BYBIT, "BTC/USDT:USDT")
    for row in rows:
        fills = hours.get(int(row[0]), [])
        assert Decimal(row[5]) == sum((Decimal(f["amount"]) for f in fills), Decimal(0))
        for fill in fills:
            assert Decimal(row[3]) <= Decimal(fill["price"]) <= Decimal(row[2])


def test_an_unknown_interval_or_market_is_refused_as_the_venue_does(simulator):
    assert get(simulator, "/api/v3/klines?symbol=BTCUSDT&interval=7m") == (400, {"code": -1120, "msg": "Invalid interval."})
    assert get(simulator, "/api/v3/klines?symbol=NOPE&interval=1h") == (400, {"code": -1121, "msg": "Invalid symbol."})
    status, body = get(simulator, "/v5/market/kline?category=linear&symbol=BTCUSDT&interval=7")
    assert status == 200 and body["retCode"] == 10001
