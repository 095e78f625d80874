"""The real ccxt bybit client (ccxt.pro 4.5.90, unmodified) against the simulator's Bybit v5 spot
protocol, on a unified account whose key also trades linear perpetuals: clients built by the
tracker's `build_client` for the `bybit_spot` venue, except where a test loads other markets too."""

import json
from decimal import Decimal
from pathlib import Path

import ccxt
import pytest

from exchanges.connectors import build_client
from exchanges.simulator.testing import Watcher

SPOT, LINEAR = "bybit_spot", "bybit_perp"
KEY, SECRET = "sim-unified-key", "sim-unified-secret"
SYMBOL = "BTC/USDT"
HISTORY_DAYS = 20
PAYLOADS = Path(__file__).resolve().parents[1] / "venues" / "payloads" / "bybit_spot"
WEEK_MS = 7 * 86_400_000


@pytest.fixture
def simulator_config():
    return {
        "seed": 11,
        "accounts": [
            {"name": LINEAR, "protocol": "bybit", "api_key": KEY, "api_secret": SECRET, "markets": ["BTC/USDT:USDT", "ETH/USDT:USDT"]},
            {
                "name": SPOT,
                "protocol": "bybit_spot",
                "api_key": KEY,
                "api_secret": SECRET,
                "markets": ["BTC/USDT", "ETH/USDT"],
                "fees": {"maker": "-0.0001", "taker": "0.001"},
                "history": {"trades": 900, "days": HISTORY_DAYS},
            },
        ],
    }


def spot_client(simulator, *, types=("spot",), secret=SECRET, **options):
    """The tracker's client of the spot account; `types`: the markets it loads, if not only spot's."""
    overrides = {"options": {"fetchMarkets": {"types": list(types)}, **options}} if types != ("spot",) or options else {}
    return build_client(simulator.exchange_account(SPOT, api_secret=secret), **overrides)


@pytest.fixture
async def client(simulator):
    exchange = spot_client(simulator)
    yield exchange
    await exchange.close()


def next_cursor(page):
    return next((t["info"]["nextPageCursor"] for t in page if "nextPageCursor" in t["info"]), None)


def assert_matches_truth(trades, truth_by_id):
    """The exchange's own strings against the ground truth (the fee coin from the payload's own field)."""
    for trade in trades:
        info, truth = trade["info"], truth_by_id[trade["id"]]
        assert Decimal(info["execQty"]) == Decimal(truth["amount"])
        assert Decimal(info["execPrice"]) == Decimal(truth["price"])
        assert Decimal(info["execValue"]) == Decimal(truth["cost"])
        assert Decimal(info["execFee"]) == Decimal(truth["fee"])
        assert info.get("feeCurrency", info.get("feeCoin")) == truth["fee_coin"]
        assert (trade["symbol"], trade["side"], trade["order"], trade["timestamp"]) == (truth["symbol"], truth["side"], truth["order_id"], truth["timestamp"])


async def test_load_markets_makes_one_call_and_takes_the_steps_from_base_precision(client, simulator):
    markets = await client.load_markets()

    assert sorted(markets) == ["BTC/USDT", "ETH/USDT"]
    assert simulator.stats()["requests"] == {"GET /v5/market/instruments-info": 1}
    for symbol, market in markets.items():
        configured = simulator.account(SPOT).market(symbol)
        lots = market["info"]["lotSizeFilter"]
        assert "qtyStep" not in lots
        assert Decimal(lots["basePrecision"]) == configured.amount_step
        assert Decimal(market["info"]["priceFilter"]["tickSize"]) == configured.price_step
        assert (market["type"], market["spot"], market["precision"]["amount"]) == ("spot", True, float(configured.amount_step))


async def test_fetch_my_trades_walks_the_history_by_seven_day_windows_and_cursor(client, simulator):
    truth = await simulator.atruth(account=SPOT, symbol=SYMBOL)
    start, end = truth[0]["timestamp"], truth[-1]["timestamp"]
    assert end - start > 2 * WEEK_MS, "the history spans several windows"

    fetched, since = [], start
    while since <= end:
        until, cursor = since + WEEK_MS - 1, None
        while True:
            params = {"until": until, **({"cursor": cursor} if cursor else {})}
            page = await client.fetch_my_trades(SYMBOL, since=since, limit=100, params=params)
            fetched += page
            cursor = next_cursor(page)
            if not cursor:
                break
        since = until + 1

    assert len(fetched) == len(truth) == len({t["id"] for t in fetched})
    assert_matches_truth(fetched, {t["id"]: t for t in truth})


async def test_the_fee_is_in_the_coin_received_and_a_makers_rebate_in_the_coin_given(client, simulator):
    posted = await simulator.apost_trades(
        {"account": SPOT, "symbol": SYMBOL, "side": "buy", "amount": "0.002", "price": "60000.5"},
        {"account": SPOT, "symbol": SYMBOL, "side": "sell", "amount": "0.003", "price": "60001.5"},
        {"account": SPOT, "symbol": SYMBOL, "side": "buy", "amount": "0.004", "price": "59990", "maker": True},
        {"account": SPOT, "symbol": SYMBOL, "side": "sell", "amount": "0.005", "price": "60010", "maker": True},
    )
    rows = {t["id"]: t["info"] for t in await client.fetch_my_trades(SYMBOL, limit=4)}

    taker, maker = Decimal("0.001"), Decimal("-0.0001")
    expected = [
        ("BTC", Decimal("0.002") * taker),
        ("USDT", Decimal("0.003") * Decimal("60001.5") * taker),
        ("USDT", Decimal("0.004") * Decimal("59990") * maker),
        ("BTC", Decimal("0.005") * maker),
    ]
    assert [(rows[t["id"]]["feeCurrency"], Decimal(rows[t["id"]]["execFee"])) for t in posted] == expected


async def test_spot_executions_look_like_bybits(client, simulator):
    posted = await simulator.apost_trades({"account": SPOT, "symbol": "ETH/USDT", "side": "buy", "amount": "0.12", "price": "3001.25"})
    [trade] = await client.fetch_my_trades("ETH/USDT", limit=1)
    info = trade["info"]

    assert trade["id"] == posted[0]["id"]
    assert info["execId"].isdigit() and len(info["execId"]) == 19
    assert info["orderId"].isdigit() and len(info["orderId"]) == 19
    assert "createType" not in info
    assert (info["markPrice"], info["closedSize"], info["extraFees"]) == ("", "", "")
    recorded = json.loads((PAYLOADS / "execution_list.json").read_text())["result"]["list"][0]
    assert set(info) - {"nextPageCursor"} == set(recorded)


async def test_the_instruments_row_has_bybits_spot_fields(client, simulator):
    markets = await client.load_markets()
    recorded = json.loads((PAYLOADS / "instruments_info.json").read_text())["result"]["list"][0]
    info = markets[SYMBOL]["info"]
    assert set(info) == set(recorded)
    assert set(info["lotSizeFilter"]) == set(recorded["lotSizeFilter"])


async def test_spot_tickers_give_the_last_price(client, simulator):
    await simulator.apost_trades({"account": SPOT, "symbol": SYMBOL, "side": "sell", "amount": "0.001", "price": "61234.5"})
    tickers = await client.fetch_tickers([SYMBOL])
    assert tickers[SYMBOL]["info"]["lastPrice"] == "61234.5"
    assert "markPrice" not in tickers[SYMBOL]["info"]


async def test_watch_my_trades_receives_spot_fills_with_the_fee_coin(client, simulator):
    watcher = await Watcher(client, SYMBOL).subscribed(simulator, SPOT)
    posted = await simulator.apost_trades(
        {"account": SPOT, "symbol": SYMBOL, "side": "buy", "amount": "0.010", "price": "60100", "maker": True, "order": "m"},
        {"account": SPOT, "symbol": SYMBOL, "side": "buy", "amount": "0.005", "price": "60100", "maker": True, "order": "m"},
        {"account": SPOT, "symbol": SYMBOL, "side": "sell", "amount": "0.001", "price": "60110"},
    )
    received = await watcher.trades({t["id"] for t in posted})
    watcher.close()

    assert_matches_truth(received.values(), {t["id"]: t for t in posted})
    assert [received[t["id"]]["info"]["category"] for t in posted] == ["spot"] * 3
    assert [received[t["id"]]["info"]["feeCoin"] for t in posted] == ["USDT", "USDT", "USDT"]  # rebates in the coin given, a sell's fee in the coin received
    recorded = json.loads((PAYLOADS / "execution_ws.json").read_text())["data"][0]
    assert all(set(trade["info"]) == set(recorded) for trade in received.values())


@pytest.mark.parametrize(
    "types, linear_symbol",
    [
        # ccxt resolves a pushed execution by its market id when only one market has it: with only
        # spot markets loaded, a linear BTCUSDT fill parses as BTC/USDT; only `category` tells.
        (("spot",), "BTC/USDT"),
        (("spot", "linear"), "BTC/USDT:USDT"),
    ],
)
async def test_one_key_one_stream_carries_both_categories(simulator, types, linear_symbol):
    exchange = spot_client(simulator, types=types)
    try:
        watcher = await Watcher(exchange, None).subscribed(simulator, SPOT)
        spot, linear = await simulator.apost_trades(
            {"account": SPOT, "symbol": SYMBOL, "side": "buy", "amount": "0.001", "price": "60000"},
            {"account": LINEAR, "symbol": "BTC/USDT:USDT", "side": "buy", "amount": "0.001", "price": "60000"},
        )
        received = await watcher.trades({spot["id"], linear["id"]})
        watcher.close()
    finally:
        await exchange.close()

    assert (received[spot["id"]]["symbol"], received[spot["id"]]["info"]["category"]) == (SYMBOL, "spot")
    assert (received[linear["id"]]["symbol"], received[linear["id"]]["info"]["category"]) == (linear_symbol, "linear")


async def test_execution_list_answers_with_the_category_asked_for(client, simulator):
    await simulator.apost_trades(
        {"account": SPOT, "symbol": SYMBOL, "side": "buy", "amount": "0.001", "price": "60000"},
        {"account": LINEAR, "symbol": "BTC/USDT:USDT", "side": "buy", "amount": "0.001", "price": "60000"},
    )
    spot_ids = {t["id"] for t in await simulator.atruth(account=SPOT)}
    rows = (await client.privateGetV5ExecutionList({"category": "spot", "limit": 100}))["result"]["list"]
    assert rows and {row["execId"] for row in rows} <= spot_ids


async def test_a_bad_secret_on_the_websocket_fails_the_watch(simulator):
    exchange = spot_client(simulator, secret="not-the-secret", enableUnifiedMargin=False, enableUnifiedAccount=True)
    try:
        with pytest.raises(ccxt.ExchangeError, match="Request not authorized"):
            await exchange.watch_my_trades(SYMBOL)
    finally:
        await exchange.close()


async def test_the_linear_accounts_stream_gets_the_spot_fills_too(simulator):
    """The linear account's client (linear markets only) parses a spot BTCUSDT fill as BTC/USDT:USDT:
    what keeps the two accounts' trades apart is each execution's `category`."""
    exchange = build_client(simulator.exchange_account(LINEAR))
    try:
        watcher = await Watcher(exchange, None).subscribed(simulator, LINEAR)
        [spot] = await simulator.apost_trades({"account": SPOT, "symbol": SYMBOL, "side": "sell", "amount": "0.001", "price": "60000"})
        received = (await watcher.trades({spot["id"]}))[spot["id"]]
        watcher.close()
    finally:
        await exchange.close()

    assert (received["symbol"], received["info"]["category"], received["info"]["feeCoin"]) == ("BTC/USDT:USDT", "spot", "USDT")
