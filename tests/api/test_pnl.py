from trades.ingest import ingest_trades

from ..factories import binance_trade
from .marks import set_mark

T0 = 1_704_067_200_000


def test_pnl_at_mark_is_p2_plus_p1_times_mark(api, account):
    ingest_trades(account, [binance_trade(1, amount="2", price="100", fee="0.2"), binance_trade(2, side="sell", amount="0.5", price="120", timestamp=T0 + 1)])
    set_mark(account, "BTC/USDT", "130.5")

    response = api.get("/api/pnl")

    assert response.status_code == 200
    (row,) = response.json()["positions"]
    # p1 = 1.5, p2 = -200 - 0.2 + 60 = -140.2; pnl = -140.2 + 1.5 * 130.5 = 55.55
    assert (row["p1"], row["p2"], row["mark_price"], row["pnl_at_mark"]) == ("1.5", "-140.2", "130.5", "55.55")
    assert response.json()["totals"] == {"USDT": "55.55"}
    assert response.json()["unpriced"] == []


def test_a_short_gains_when_the_mark_falls(api, account):
    ingest_trades(account, [binance_trade(1, side="sell", amount="1", price="100")])
    set_mark(account, "BTC/USDT", "90")

    assert api.get("/api/pnl").json()["totals"] == {"USDT": "10"}


def test_positions_without_a_mark_are_listed_as_unpriced(api, account):
    ingest_trades(account, [binance_trade(1, amount="1", price="100"), binance_trade(2, symbol="ETH/USDT", amount="1", timestamp=T0 + 1)])
    set_mark(account, "BTC/USDT", "101")

    body = api.get("/api/pnl").json()

    eth = next(p for p in body["positions"] if p["symbol"] == "ETH/USDT")
    assert body["unpriced"] == [eth["position_id"]]
    assert body["totals"] == {"USDT": "1"}


def test_the_open_positions_list_carries_the_mark_too(api, account):
    ingest_trades(account, [binance_trade(1, amount="1", price="100")])
    set_mark(account, "BTC/USDT", "99.5")

    (position,) = api.get("/api/positions").json()["items"]

    assert (position["mark_price"], position["pnl_at_mark"], position["marked_at"]) == ("99.5", "-0.5", "2024-01-02T00:00:00Z")


def test_pnl_by_symbol(api, account):
    ingest_trades(account, [binance_trade(1, amount="1", price="100"), binance_trade(2, symbol="ETH/USDT", amount="1", timestamp=T0 + 1)])

    assert [p["symbol"] for p in api.get("/api/pnl", {"symbol": "ETH/USDT"}).json()["positions"]] == ["ETH/USDT"]
