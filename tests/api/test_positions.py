from exchanges.models import BotInstance
from positions.models import Position
from trades.ingest import ingest_trades

from ..factories import binance_trade, make_account, make_market

T0 = 1_704_067_200_000


def items(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["items"]


def test_open_positions_by_default(api, account):
    ingest_trades(account, [binance_trade(1, amount="2", price="100"), binance_trade(2, side="sell", amount="2", price="110", timestamp=T0 + 1)])
    ingest_trades(account, [binance_trade(3, symbol="ETH/USDT", amount="1.5", price="2000", fee="0.01", timestamp=T0 + 2)])

    (position,) = items(api.get("/api/positions"))

    assert position | {"id": None} == {
        "id": None,
        "account_id": account.pk,
        "account": "binance_spot",
        "bot_instance_id": None,
        "symbol": "ETH/USDT",
        "leg": "",
        "side": "long",
        "size": "1.5",
        "p1": "1.5",
        "p2": "-3000.01",
        "p1_fee": "0",
        "p2_fee": "0.01",
        "other_fees": {},
        "avg_price": "2000",
        "is_open": True,
        "entry_time": "2024-01-01T00:00:00.002000Z",
        "last_update_time": "2024-01-01T00:00:00.002000Z",
        "closed_time": None,
        "realized_pnl": None,
        "realized_pnl_without_funding": None,
        "funding": "0",
        "funding_paid": "0",
        "funding_received": "0",
        "funding_count": 0,
        "trade_count": 1,
        "first_trade_id": "ETHUSDT:3",
        "last_trade_id": "ETHUSDT:3",
        "mark_price": None,
        "marked_at": None,
        "pnl_at_mark": None,
        "pnl_at_mark_without_funding": None,
    }


def test_closed_positions_and_all(api, account):
    ingest_trades(account, [binance_trade(1, amount="2", price="100"), binance_trade(2, side="sell", amount="2", price="110", timestamp=T0 + 1)])
    ingest_trades(account, [binance_trade(3, amount="1", timestamp=T0 + 2)])

    (closed,) = items(api.get("/api/positions", {"status": "closed"}))
    every = items(api.get("/api/positions", {"status": "all"}))

    assert (closed["is_open"], closed["realized_pnl"], closed["avg_price"], closed["closed_time"]) == (False, "20", None, "2024-01-01T00:00:00.001000Z")
    assert [p["last_trade_id"] for p in every] == ["BTCUSDT:3", "BTCUSDT:2"]


def test_filter_by_account_symbol_and_bot_instance(api, account):
    other = make_account("binance_two")
    make_market(other, "BTC/USDT")
    bot = BotInstance.objects.create(name="grid-1")
    ingest_trades(account, [binance_trade(1)])
    ingest_trades(account, [binance_trade(2, symbol="ETH/USDT")])
    ingest_trades(account, [binance_trade(3)], bot_instance_id=bot.pk)
    ingest_trades(other, [binance_trade(4)])

    def books(**params):
        return sorted(((p["account"], p["symbol"], p["bot_instance_id"]) for p in items(api.get("/api/positions", params))), key=str)

    assert books(account=other.pk) == [("binance_two", "BTC/USDT", None)]
    assert books(symbol="ETH/USDT") == [("binance_spot", "ETH/USDT", None)]
    assert books(bot_instance=bot.pk) == [("binance_spot", "BTC/USDT", bot.pk)]
    assert books(account=account.pk, symbol="BTC/USDT") == [("binance_spot", "BTC/USDT", bot.pk), ("binance_spot", "BTC/USDT", None)]


def test_positions_page_by_cursor(api, account):
    for i in range(5):
        ingest_trades(account, [binance_trade(10 + 2 * i, timestamp=T0 + 10 * i), binance_trade(11 + 2 * i, side="sell", timestamp=T0 + 10 * i + 1)])

    first = api.get("/api/positions", {"status": "closed", "limit": 3}).json()
    second = api.get("/api/positions", {"status": "closed", "limit": 3, "cursor": first["next_cursor"]}).json()

    assert [p["first_trade_id"] for p in first["items"] + second["items"]] == ["BTCUSDT:18", "BTCUSDT:16", "BTCUSDT:14", "BTCUSDT:12", "BTCUSDT:10"]
    assert second["next_cursor"] is None


def test_a_position_with_its_trades(api, account):
    ingest_trades(account, [binance_trade(1, amount="1", price="100"), binance_trade(2, amount="1", price="120", timestamp=T0 + 1)])
    ingest_trades(account, [binance_trade(3, symbol="ETH/USDT", timestamp=T0 + 2)])
    position = Position.objects.get(symbol="BTC/USDT")

    response = api.get(f"/api/positions/{position.pk}")

    assert response.status_code == 200
    body = response.json()
    assert (body["size"], body["avg_price"]) == ("2", "110")
    assert [(t["exchange_trade_id"], t["price"]) for t in body["trades"]] == [("BTCUSDT:1", "100"), ("BTCUSDT:2", "120")]


def test_a_trade_that_crosses_zero_belongs_to_both_positions(api, account):
    ingest_trades(
        account,
        [
            binance_trade(1, amount="1", price="100", timestamp=T0),
            binance_trade(2, side="sell", amount="3", price="110", timestamp=T0 + 1),
            binance_trade(3, amount="2", price="90", timestamp=T0 + 2),
            binance_trade(4, amount="1", price="95", timestamp=T0 + 3),
        ],
    )
    first, second, third = Position.objects.order_by("entry_time", "id")

    def trade_ids(position):
        return [t["exchange_trade_id"] for t in api.get(f"/api/positions/{position.pk}").json()["trades"]]

    assert trade_ids(first) == ["BTCUSDT:1", "BTCUSDT:2"]
    assert trade_ids(second) == ["BTCUSDT:2", "BTCUSDT:3"]
    assert trade_ids(third) == ["BTCUSDT:4"]


def test_trade_ids_in_fold_order_not_text_order(api, account):
    ingest_trades(account, [binance_trade(i, amount="1", timestamp=T0) for i in (9, 10, 11)])
    position = Position.objects.get()

    trades = api.get(f"/api/positions/{position.pk}").json()["trades"]

    assert [t["exchange_trade_id"] for t in trades] == ["BTCUSDT:9", "BTCUSDT:10", "BTCUSDT:11"]
