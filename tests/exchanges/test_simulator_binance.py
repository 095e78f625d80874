"""The real ccxt binance client (ccxt.pro, unmodified) against the simulator's Binance spot protocol: what is
particular to Binance (what every venue does is in tests/venues/)."""

from decimal import Decimal

import ccxt
import pytest

from exchanges.connectors import build_client
from exchanges.simulator.testing import BINANCE, Watcher
from exchanges.venues import VENUES
from trades.normalize import exact_trade

HISTORY = 2600
SPOT = VENUES["binance_spot"]


@pytest.fixture
def simulator_config(simulator_config):
    simulator_config["accounts"][0]["history"] = {"trades": HISTORY * 2, "days": 2}
    return simulator_config


@pytest.fixture
async def client(simulator):
    exchange = build_client(simulator.exchange_account(BINANCE))
    yield exchange
    await exchange.close()


def assert_matches_truth(trades, truth):
    """Each trade, as ccxt parsed it, has the numbers of the ground-truth trade of its market and id."""
    truth_by_id = {SPOT.qualified_trade_id(t["market_id"], t["id"]): t for t in truth}
    for trade in trades:
        exact = exact_trade(SPOT, trade)
        truth = truth_by_id[exact.exchange_trade_id]
        assert exact.amount == Decimal(truth["amount"])
        assert exact.price == Decimal(truth["price"])
        assert exact.cost == Decimal(truth["cost"])
        assert exact.fee_cost == Decimal(truth["fee"])
        assert exact.fee_currency == truth["fee_coin"]
        assert exact.side == truth["side"]
        assert exact.taker_or_maker == truth["taker_or_maker"]
        assert exact.order_id == truth["order_id"]
        assert int(exact.timestamp.timestamp() * 1000) == truth["timestamp"]


async def test_load_markets_is_one_exchange_info_call(client, simulator):
    markets = await client.load_markets()

    # BNB/USDT is listed (no trades) so that ccxt knows BNB, the coin some fees are paid in.
    assert sorted(markets) == ["BNB/USDT", "BTC/USDT", "ETH/USDT"]
    assert markets["BTC/USDT"]["info"]["filters"][1]["stepSize"] == "0.00001000"
    assert simulator.stats()["requests"] == {"GET /api/v3/exchangeInfo": 1}


async def test_server_time(client):
    assert abs(await client.fetch_time() - client.milliseconds()) < 60_000


async def test_fetches_2500_trades_by_from_id(client, simulator):
    await client.load_markets()
    first = (await client.fetch_my_trades("BTC/USDT", limit=1, params={"fromId": 0}))[0]
    fetched, from_id = [], int(first["id"])
    while len(fetched) < 2500:
        page = await client.fetch_my_trades("BTC/USDT", limit=1000, params={"fromId": from_id})
        fetched += page
        from_id = int(page[-1]["id"]) + 1

    ids = [int(trade["id"]) for trade in fetched]
    assert ids == list(range(int(first["id"]), int(first["id"]) + len(fetched)))
    truth = await simulator.atruth(account=BINANCE, symbol="BTC/USDT")
    assert len(truth) == HISTORY
    assert_matches_truth(fetched, truth)


async def test_history_has_every_kind_of_fee(client, simulator):
    truth = await simulator.atruth(account=BINANCE, symbol="BTC/USDT")
    assert {t["fee_coin"] for t in truth} == {"BTC", "USDT", "BNB"}
    assert {t["taker_or_maker"] for t in truth} == {"maker", "taker"}
    orders = {}
    for trade in truth:
        orders.setdefault(trade["order_id"], []).append(trade)
    assert max(len(fills) for fills in orders.values()) > 1


async def test_without_from_id_the_most_recent_trades_come_oldest_first(client, simulator):
    trades = await client.fetch_my_trades("BTC/USDT", limit=10)
    truth = await simulator.atruth(account=BINANCE, symbol="BTC/USDT")
    assert [t["id"] for t in trades] == [t["id"] for t in truth[-10:]]


async def test_start_time_pages_forward_within_a_day(client, simulator):
    truth = await simulator.atruth(account=BINANCE, symbol="BTC/USDT")
    since = truth[100]["timestamp"]
    trades = await client.fetch_my_trades("BTC/USDT", since=since, limit=50)
    assert trades[0]["timestamp"] >= since
    assert [t["id"] for t in trades] == [t["id"] for t in truth if t["timestamp"] >= since][:50]


async def test_limit_is_capped_at_1000(client):
    assert len(await client.fetch_my_trades("BTC/USDT", limit=5000, params={"fromId": 0})) == 1000


async def test_posted_trades_are_pushed_as_execution_reports(client, simulator):
    watcher = await Watcher(client, "BTC/USDT").subscribed(simulator, BINANCE)
    posted = await simulator.apost_trades(
        {"account": BINANCE, "symbol": "BTC/USDT", "side": "buy", "amount": "0.001", "price": "60000.01", "order": "a"},
        {"account": BINANCE, "symbol": "BTC/USDT", "side": "buy", "amount": "0.00250", "price": "60000.02", "order": "a", "maker": True},
        {"account": BINANCE, "symbol": "BTC/USDT", "side": "sell", "amount": "0.004", "price": "60001", "fee": "0.0123", "fee_coin": "BNB"},
    )
    received = await watcher.trades({t["id"] for t in posted})
    watcher.close()

    assert_matches_truth(received.values(), posted)
    first, second = (received[t["id"]]["info"] for t in posted[:2])
    assert (first["i"], first["X"], first["q"], first["z"]) == (second["i"], "PARTIALLY_FILLED", "0.00350000", "0.00100000")
    assert (second["X"], second["z"], second["Z"]) == ("FILLED", "0.00350000", "210.00006")
    assert received[posted[2]["id"]]["fee"]["currency"] == "BNB"


async def test_fills_of_one_order_paying_bnb_are_all_pushed(client, simulator):
    """ccxt adds up an order's fees per coin with the coin's precision: it must know BNB."""
    watcher = await Watcher(client, "BTC/USDT").subscribed(simulator, BINANCE)
    posted = await simulator.apost_trades(
        *({"account": BINANCE, "symbol": "BTC/USDT", "side": "sell", "amount": "0.01", "price": "60000", "order": "b", "fee_coin": "BNB"} for _ in range(3))
    )
    received = await watcher.trades({t["id"] for t in posted})
    watcher.close()
    assert [received[t["id"]]["fee"]["currency"] for t in posted] == ["BNB"] * 3
    assert posted[0]["fee"] == "0.00075"  # 0.075% of 600 USDT, at 600 USDT a BNB


async def test_rest_and_websocket_carry_the_same_numbers(client, simulator):
    posted = await simulator.apost_trades({"account": BINANCE, "symbol": "ETH/USDT", "side": "sell", "amount": "1.2345", "price": "3000.99"})
    rest = await client.fetch_my_trades("ETH/USDT", limit=1)
    assert_matches_truth(rest, posted)
    assert posted[0]["fee_coin"] == "USDT" and posted[0]["fee"] == "3.70472216"  # 0.1% of 3704.722155, to 8 places


async def test_a_bad_signature_on_the_websocket_surfaces_as_ccxt_4_5_90_raises_it(simulator):
    """Binance answers the subscription with -1022; ccxt 4.5.90 turns that into AuthenticationError,
    then trips over its own cleanup (`del client.subscriptions['spot']`) and raises KeyError from it."""
    exchange = build_client(simulator.exchange_account(BINANCE, api_secret="not-the-secret"))
    try:
        with pytest.raises(KeyError) as raised:
            await exchange.watch_my_trades("BTC/USDT")
        assert isinstance(raised.value.__context__, ccxt.AuthenticationError)
        assert "-1022" in str(raised.value.__context__)
    finally:
        await exchange.close()


async def test_trade_ids_are_numbered_per_symbol_as_on_binance(client, simulator):
    """BTCUSDT's and ETHUSDT's ids overlap: each symbol counts its own trades from the same first id."""
    btc = await simulator.atruth(account=BINANCE, symbol="BTC/USDT")
    eth = await simulator.atruth(account=BINANCE, symbol="ETH/USDT")
    assert [t["id"] for t in btc[:3]] == [t["id"] for t in eth[:3]]
    rest = await client.fetch_my_trades("ETH/USDT", limit=1000, params={"fromId": int(btc[0]["id"])})
    assert [t["id"] for t in rest] == [t["id"] for t in eth[:1000]]
    assert {t["symbol"] for t in rest} == {"ETH/USDT"}


async def test_rest_and_websocket_name_the_market_the_same_way(client, simulator):
    """The id a trade is stored under is the same whichever path brings it: `ETHUSDT:<t>` from the
    executionReport's `s` and `t`, and from myTrades' `symbol` and `id`."""
    watcher = await Watcher(client, "ETH/USDT").subscribed(simulator, BINANCE)
    posted = await simulator.apost_trades({"account": BINANCE, "symbol": "ETH/USDT", "side": "buy", "amount": "0.5", "price": "3000"})
    pushed = (await watcher.trades({posted[0]["id"]}))[posted[0]["id"]]
    watcher.close()
    fetched = await client.fetch_my_trades("ETH/USDT", limit=1)

    expected = f"ETHUSDT:{posted[0]['id']}"
    assert exact_trade(SPOT, pushed).exchange_trade_id == exact_trade(SPOT, fetched[0]).exchange_trade_id == expected
