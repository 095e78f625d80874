"""The real ccxt bybit client (ccxt.pro, unmodified) against the simulator's Bybit v5 linear protocol: what
is particular to Bybit linear (what every venue does is in tests/venues/)."""

from decimal import Decimal

import ccxt
import pytest

from exchanges.connectors import build_client
from exchanges.simulator.testing import BYBIT, Watcher
from exchanges.venues import VENUES
from trades.normalize import exact_trade

HISTORY = 2600
SYMBOL = "BTC/USDT:USDT"


@pytest.fixture
def simulator_config(simulator_config):
    simulator_config["accounts"][1]["history"] = {"trades": HISTORY * 2, "days": 3}
    return simulator_config


@pytest.fixture
async def client(simulator):
    exchange = build_client(simulator.exchange_account(BYBIT))
    yield exchange
    await exchange.close()


def next_cursor(page):
    """ccxt puts Bybit's nextPageCursor in the info of the page's first (newest) raw execution,
    then sorts the page oldest first."""
    return next((t["info"]["nextPageCursor"] for t in page if "nextPageCursor" in t["info"]), None)


def assert_matches_truth(trades, truth_by_id):
    for trade in trades:
        exact = exact_trade(VENUES["bybit_linear"], trade)
        truth = truth_by_id[exact.exchange_trade_id]
        assert exact.amount == Decimal(truth["amount"])
        assert exact.price == Decimal(truth["price"])
        assert exact.cost == Decimal(truth["cost"])
        assert exact.fee_cost == Decimal(truth["fee"])
        assert exact.fee_currency == truth["fee_coin"]
        assert exact.side == truth["side"]
        assert exact.taker_or_maker == truth["taker_or_maker"]
        assert exact.order_id == truth["order_id"]
        assert exact.market_symbol == truth["symbol"]
        assert int(exact.timestamp.timestamp() * 1000) == truth["timestamp"]


async def test_load_markets_asks_only_for_linear_instruments(client, simulator):
    markets = await client.load_markets()

    assert sorted(markets) == ["BTC/USDT:USDT", "ETH/USDT:USDT"]
    assert markets[SYMBOL]["info"]["lotSizeFilter"]["qtyStep"] == "0.001"
    assert simulator.stats()["requests"] == {"GET /v5/market/instruments-info": 2}  # Trading and PreLaunch


async def test_fetches_2500_executions_by_cursor(client, simulator):
    await client.load_markets()
    fetched, cursor = [], None
    while len(fetched) < 2500:
        page = await client.fetch_my_trades(SYMBOL, limit=100, params={"cursor": cursor} if cursor else {})
        fetched += page
        cursor = next_cursor(page)
        assert cursor, "more history is left"

    truth = await simulator.atruth(account=BYBIT, symbol=SYMBOL)
    assert len(truth) == HISTORY
    assert len(fetched) == 2500
    assert {t["id"] for t in fetched} == {t["id"] for t in truth[-2500:]}
    assert_matches_truth(fetched, {t["id"]: t for t in truth})


async def test_ccxt_paginates_by_cursor_itself(client, simulator):
    trades = await client.fetch_my_trades(SYMBOL, params={"paginate": True, "paginationCalls": 30})
    assert len(trades) == HISTORY
    assert len({t["id"] for t in trades}) == HISTORY


async def test_the_cursor_ends_with_the_window(client, simulator):
    truth = await simulator.atruth(account=BYBIT, symbol=SYMBOL)
    since = truth[-150]["timestamp"]
    first = await client.fetch_my_trades(SYMBOL, since=since, limit=100)
    rest = await client.fetch_my_trades(SYMBOL, since=since, limit=100, params={"cursor": next_cursor(first)})
    assert next_cursor(rest) is None
    assert {t["id"] for t in first + rest} == {t["id"] for t in truth if t["timestamp"] >= since}


async def test_history_has_rebates_and_several_fills_per_order(simulator):
    truth = await simulator.atruth(account=BYBIT, symbol=SYMBOL)
    makers = [t for t in truth if t["taker_or_maker"] == "maker"]
    assert makers and all(Decimal(t["fee"]) < 0 for t in makers)
    assert all(Decimal(t["fee"]) > 0 for t in truth if t["taker_or_maker"] == "taker")
    assert len({t["order_id"] for t in truth}) < len(truth)


async def test_posted_trades_are_pushed_as_executions(client, simulator):
    watcher = await Watcher(client, SYMBOL).subscribed(simulator, BYBIT)
    posted = await simulator.apost_trades(
        {"account": BYBIT, "symbol": SYMBOL, "side": "sell", "amount": "0.010", "price": "61000.5", "maker": True, "order": "x"},
        {"account": BYBIT, "symbol": SYMBOL, "side": "sell", "amount": "0.005", "price": "61000.5", "maker": True, "order": "x"},
        {"account": BYBIT, "symbol": SYMBOL, "side": "buy", "amount": "0.001", "price": "61010", "fee": "0.0335555"},
    )
    received = await watcher.trades({t["id"] for t in posted})
    watcher.close()

    assert_matches_truth(received.values(), {t["id"]: t for t in posted})
    assert [Decimal(t["fee"]) for t in posted] == [Decimal("-0.0305002500"), Decimal("-0.0152501250"), Decimal("0.0335555")]
    assert [received[t["id"]]["info"]["leavesQty"] for t in posted[:2]] == ["0.005", "0.000"]


async def test_rest_and_websocket_carry_the_same_numbers(client, simulator):
    posted = await simulator.apost_trades({"account": BYBIT, "symbol": "ETH/USDT:USDT", "side": "buy", "amount": "0.37", "price": "3001.23"})
    rest = await client.fetch_my_trades("ETH/USDT:USDT", limit=1)
    assert_matches_truth(rest, {posted[0]["id"]: posted[0]})


async def test_a_bad_secret_on_the_websocket_fails_the_watch(simulator):
    """Bybit answers {"success": false, "ret_msg": ..., "op": "auth"}; ccxt 4.5.90 raises ExchangeError for it.
    (The account-type options skip the signed REST check ccxt makes first, which would fail sooner.)"""
    options = {"options": {"enableUnifiedMargin": False, "enableUnifiedAccount": True}}
    exchange = build_client(simulator.exchange_account(BYBIT, api_secret="not-the-secret"), **options)
    try:
        with pytest.raises(ccxt.ExchangeError, match="Request not authorized"):
            await exchange.watch_my_trades(SYMBOL)
    finally:
        await exchange.close()
