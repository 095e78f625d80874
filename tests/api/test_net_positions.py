from trades.ingest import ingest_trades

from ..factories import binance_trade, bybit_trade, make_account, make_market
from .marks import set_mark


def test_nets_a_pair_across_spot_and_perpetual(api, account):
    perp = make_account("bybit_perp", venue="bybit_linear")
    make_market(perp, "BTC/USDT:USDT")
    ingest_trades(account, [binance_trade(1, amount="3", price="100")])
    ingest_trades(perp, [bybit_trade("x", side="sell", amount="1", price="110")])
    ingest_trades(account, [binance_trade(2, symbol="ETH/USDT", amount="1", price="2000")])

    response = api.get("/api/positions/net", {"symbol": "BTC/USDT"})

    assert response.status_code == 200, response.content
    (net,) = response.json()
    assert net | {"positions": None} == {
        "symbol": "BTC/USDT",
        "net": "2",
        "side": "long",
        "avg_price": "95",
        "shares": {"binance_spot": "3", "bybit_perp": "-1"},
        "positions": None,
        "funding": "0",
        "mark_price": None,
        "pnl_at_mark": None,
        "pnl_at_mark_without_funding": None,
    }
    assert len(net["positions"]) == 2


def test_every_pair_with_open_positions_and_pnl_at_each_accounts_mark(api, account):
    perp = make_account("bybit_perp", venue="bybit_linear")
    make_market(perp, "BTC/USDT:USDT")
    ingest_trades(account, [binance_trade(1, amount="3", price="100"), binance_trade(2, symbol="ETH/USDT", amount="1", price="2000")])
    ingest_trades(perp, [bybit_trade("x", side="sell", amount="1", price="110")])
    set_mark(account, "BTC/USDT", "105")
    set_mark(perp, "BTC/USDT:USDT", "106")

    nets = {n["symbol"]: n for n in api.get("/api/positions/net").json()}

    assert sorted(nets) == ["BTC/USDT", "ETH/USDT"]
    # spot: -300 + 3 * 105 = 15; perp: 110 - 1 * 106 = 4
    assert nets["BTC/USDT"]["pnl_at_mark"] == "19"
    assert nets["ETH/USDT"]["pnl_at_mark"] is None


def test_a_flat_pair_nets_to_nothing(api, account):
    response = api.get("/api/positions/net", {"symbol": "BTC/USDT"})

    assert response.json() == [
        {
                "symbol": "BTC/USDT", "net": "0", "side": "none", "avg_price": None, "shares": {}, "positions": [], "funding": "0",
                "mark_price": None, "pnl_at_mark": None, "pnl_at_mark_without_funding": None,
            }
    ]
