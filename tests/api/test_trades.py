from trades.ingest import ingest_trades

from ..factories import binance_trade, bybit_trade, make_account, make_market

T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
MINUTE = 60_000


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [t["exchange_trade_id"] for t in response.json()["items"]]


def test_a_trade_as_the_api_shows_it(api, account):
    ingest_trades(account, [binance_trade(7, side="sell", amount="0.5", price="42000.10", fee="0.021", timestamp=T0 + 1)])

    (trade,) = api.get("/api/trades").json()["items"]

    assert trade | {"id": None} == {
        "id": None,
        "account_id": account.pk,
        "bot_instance_id": None,
        "exchange_trade_id": "BTCUSDT:7",
        "order_id": "1",
        "symbol": "BTC/USDT",
        "market_symbol": "BTC/USDT",
        "side": "sell",
        "taker_or_maker": "taker",
        "amount": "0.5",
        "contract_size": "1",
        "price": "42000.1",
        "cost": "21000.05",
        "fee_cost": "0.021",
        "fee_currency": "USDT",
        "timestamp": "2024-01-01T00:00:00.001000Z",
        "p1_delta": "-0.5",
        "p2_delta": "21000.029",
    }


def test_newest_first(api, account):
    ingest_trades(account, [binance_trade(i, timestamp=T0 + i * MINUTE) for i in (1, 2, 3)])

    assert ids(api.get("/api/trades")) == ["BTCUSDT:3", "BTCUSDT:2", "BTCUSDT:1"]
    assert ids(api.get("/api/trades", {"order": "asc"})) == ["BTCUSDT:1", "BTCUSDT:2", "BTCUSDT:3"]


def test_filter_by_account(api, account):
    other = make_account("binance_two")
    make_market(other, "BTC/USDT")
    ingest_trades(account, [binance_trade(1)])
    ingest_trades(other, [binance_trade(2)])

    assert ids(api.get("/api/trades", {"account": other.pk})) == ["BTCUSDT:2"]


def test_filter_by_pair_or_by_market(api, account):
    perp = make_account("bybit_perp", venue="bybit_linear")
    make_market(perp, "BTC/USDT:USDT")
    ingest_trades(account, [binance_trade(1, timestamp=T0), binance_trade(2, symbol="ETH/USDT", timestamp=T0 + 1)])
    ingest_trades(perp, [bybit_trade("p1", timestamp=T0 + 2)])

    assert ids(api.get("/api/trades", {"symbol": "BTC/USDT"})) == ["p1", "BTCUSDT:1"]
    assert ids(api.get("/api/trades", {"symbol": "BTC/USDT:USDT"})) == ["p1"]
    assert ids(api.get("/api/trades", {"symbol": "ETH/USDT"})) == ["ETHUSDT:2"]


def test_filter_by_side(api, account):
    ingest_trades(account, [binance_trade(1, side="buy"), binance_trade(2, side="sell", timestamp=T0 + 1)])

    assert ids(api.get("/api/trades", {"side": "sell"})) == ["BTCUSDT:2"]


def test_filter_by_time_since_inclusive_until_exclusive(api, account):
    ingest_trades(account, [binance_trade(i, timestamp=T0 + i * MINUTE) for i in range(5)])

    response = api.get("/api/trades", {"since": "2024-01-01T00:01:00Z", "until": "2024-01-01T00:03:00Z"})

    assert ids(response) == ["BTCUSDT:2", "BTCUSDT:1"]


def test_a_time_without_offset_is_utc_and_an_offset_is_honoured(api, account):
    ingest_trades(account, [binance_trade(i, timestamp=T0 + i * MINUTE) for i in range(3)])

    assert ids(api.get("/api/trades", {"since": "2024-01-01T00:02:00"})) == ["BTCUSDT:2"]
    assert ids(api.get("/api/trades", {"until": "2024-01-01T01:01:00+01:00"})) == ["BTCUSDT:0"]
