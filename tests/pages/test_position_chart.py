"""The position page's chart JSON (`/positions/ID/chart/`): the venue's candles through ccxt, read
as the venue's own strings, agreeing with the trades synced from the same simulator; one marker per
trade; the average price, size and PnL at each candle."""

from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync

from exchanges.candles import forget_candles
from exchanges.connectors import build_public_client
from exchanges.simulator.testing import BINANCE, BYBIT, TEST_CONFIG
from positions.models import Position
from positions.selectors import position_trades

from ..passes import rest_pass

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def simulator_config():
    config = {**TEST_CONFIG, "accounts": [dict(a) for a in TEST_CONFIG["accounts"]]}
    for account in config["accounts"]:
        account["history"] = {"trades": 60, "days": 1}
        account["generator"] = {"orders_per_minute": 0}
    return config


@pytest.fixture(autouse=True)
def _no_candles_kept():
    forget_candles()
    yield
    forget_candles()


def ccxt_candles(account, market_symbol: str, timeframe: str, since: int, limit: int) -> list[list]:
    async def run():
        client = build_public_client(account)
        try:
            return await client.fetch_ohlcv(market_symbol, timeframe, since=since, limit=limit)
        finally:
            await client.close()

    return async_to_sync(run)()


def busiest_position(account) -> Position:
    return max(Position.objects.filter(exchange=account, symbol="BTC/USDT"), key=lambda p: p.trade_count)


@pytest.mark.parametrize("name,market_symbol", [(BINANCE, "BTC/USDT"), (BYBIT, "BTC/USDT:USDT")])
def test_the_chart_has_the_venues_candles_and_a_marker_per_trade(operator_client, simulated_accounts, name, market_symbol):
    account = simulated_accounts[name]
    rest_pass(account)
    position = busiest_position(account)
    trades = list(position_trades(position))

    chart = operator_client.get(f"/positions/{position.pk}/chart/").json()

    candles = chart["candles"]
    assert chart["candles_error"] is None and candles
    for candle in candles:
        assert all(isinstance(candle[key], str) for key in ("open", "high", "low", "close", "volume"))
    # the same candles as ccxt's own parse of the same answer (floats, which the chart never keeps)
    step = chart["timeframe_ms"]
    parsed = ccxt_candles(account, market_symbol, chart["timeframe"], candles[0]["time"], len(candles))
    assert [[c["time"], *(float(c[k]) for k in ("open", "high", "low", "close", "volume"))] for c in candles] == [list(row) for row in parsed]
    # every trade lies within its candle, and has one marker with its exact numbers
    by_time = {c["time"]: c for c in candles}
    assert [m["trade_id"] for m in chart["markers"]] == [t.exchange_trade_id for t in trades]
    for trade, marker in zip(trades, chart["markers"], strict=True):
        candle = by_time[marker["candle_time"]]
        assert marker["candle_time"] <= marker["time"] < marker["candle_time"] + step
        assert Decimal(candle["low"]) <= trade.price <= Decimal(candle["high"])
        assert Decimal(marker["price"]) == trade.price
        assert marker["side"] == trade.side
    # after its last trade the position's size and average price are the stored ones
    last_trade_candle = chart["markers"][-1]["candle_time"]
    size_at = {point["time"]: point["value"] for point in chart["size"]}
    assert Decimal(size_at[last_trade_candle]) == position.p1
    if position.is_open:
        average_at = {point["time"]: point["value"] for point in chart["average_price"]}
        assert Decimal(average_at[last_trade_candle]) == position.avg_price


def test_the_pnl_is_taken_at_each_candles_close(operator_client, simulated_accounts):
    account = simulated_accounts[BINANCE]
    rest_pass(account)
    position = busiest_position(account)

    chart = operator_client.get(f"/positions/{position.pk}/chart/").json()

    closes = {c["time"]: Decimal(c["close"]) for c in chart["candles"]}
    last = chart["pnl"][-1]
    if position.is_open:
        assert Decimal(last["value"]) == position.p2 + position.p1 * closes[last["time"]]
    else:
        assert Decimal(last["value"]) == position.p2


def test_a_venue_that_does_not_answer_leaves_the_trades_on_the_chart(operator_client, simulated_accounts, simulator):
    account = simulated_accounts[BINANCE]
    rest_pass(account)
    position = busiest_position(account)
    simulator.faults({"action": "5xx", "fraction": 1.0, "status": 503, "path": "/api/v3/klines"})

    response = operator_client.get(f"/positions/{position.pk}/chart/")

    assert response.status_code == 200
    chart = response.json()
    assert chart["candles"] == [] and chart["candles_error"]
    assert len(chart["markers"]) == len(list(position_trades(position)))


def test_the_chart_needs_a_login(client, simulated_accounts):
    rest_pass(simulated_accounts[BINANCE])
    position = Position.objects.first()

    assert client.get(f"/positions/{position.pk}/chart/")["Location"] == f"/admin/login/?next=/positions/{position.pk}/chart/"


def test_an_unknown_positions_chart_is_404(operator_client, db):
    assert operator_client.get("/positions/424242/chart/").status_code == 404


def test_a_perpetuals_pnl_on_the_chart_includes_its_funding(operator_client, simulator, simulated_accounts):
    account = simulated_accounts[BYBIT]
    market_symbol = account.market_symbol("BTC/USDT")
    rest_pass(account)
    simulator.post_trades({"account": BYBIT, "symbol": market_symbol, "side": "buy", "amount": "0.5", "price": "60000"})
    simulator.post_funding(account=BYBIT, symbol=market_symbol, rate="0.0001", mark_price="61000")
    rest_pass(account)
    position = Position.objects.get(exchange=account, symbol="BTC/USDT", is_open=True)
    assert position.funding < 0  # a long pays at a positive rate

    chart = operator_client.get(f"/positions/{position.pk}/chart/").json()

    closes = {c["time"]: Decimal(c["close"]) for c in chart["candles"]}
    last = chart["pnl"][-1]
    assert Decimal(last["value"]) == position.p2 + position.p1 * closes[last["time"]] + position.funding
