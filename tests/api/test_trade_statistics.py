from datetime import UTC, datetime, timedelta

from trades.ingest import ingest_trades

from ..factories import binance_trade, funding_payment, make_account, make_market, store_funding

T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
DAY = 86_400_000


def test_statistics_of_a_symbol_over_a_period(api, account):
    ingest_trades(
        account,
        [
            binance_trade(1, amount="1", price="100", fee="0.1", timestamp=T0),
            binance_trade(2, side="sell", amount="3", price="110", fee="0.0003", fee_currency="BNB", timestamp=T0 + 60_000),
            binance_trade(3, amount="1", price="90", timestamp=T0 + DAY),
        ],
    )

    response = api.get("/api/trades/statistics", {"symbol": "BTC/USDT", "since": "2024-01-01T00:00:00Z", "until": "2024-01-02T00:00:00Z"})

    assert response.status_code == 200, response.content
    assert response.json() == {
        "symbol": "BTC/USDT",
        "start_time": "2024-01-01T00:00:00Z",
        "end_time": "2024-01-02T00:00:00Z",
        "count": 2,
        "buy_volume": "1",
        "sell_volume": "3",
        "notional": "430",
        "fees": {"BNB": "0.0003", "USDT": "0.1"},
        "vwap": "107.5",
        "funding": {},
        "funding_paid": {},
        "funding_received": {},
    }


def test_statistics_without_an_end_run_to_now_and_of_nothing_are_zero(api, account):
    ingest_trades(account, [binance_trade(1, timestamp=T0 + DAY)])

    open_ended = api.get("/api/trades/statistics", {"symbol": "BTC/USDT", "since": "2024-01-01"}).json()
    empty = api.get("/api/trades/statistics", {"symbol": "ETH/USDT", "since": "2024-01-01"}).json()

    assert (open_ended["count"], open_ended["end_time"]) == (1, None)
    assert (empty["count"], empty["notional"], empty["vwap"], empty["fees"]) == (0, "0", None, {})


def test_statistics_sum_the_funding_paid_and_received_per_coin_in_the_range(api, db):
    perp = make_account("bybit_perp", venue="bybit_linear")
    make_market(perp, "BTC/USDT:USDT")
    start = datetime(2024, 1, 1, tzinfo=UTC)
    store_funding([
        funding_payment(perp, "F1", amount="-0.5", timestamp=start + timedelta(hours=8)),
        funding_payment(perp, "F2", amount="0.2", timestamp=start + timedelta(hours=16)),
        funding_payment(perp, "F3", amount="-0.3", timestamp=start + timedelta(hours=24)),
    ])

    stats = api.get("/api/trades/statistics", {"symbol": "BTC/USDT", "since": "2024-01-01", "until": "2024-01-02"}).json()

    assert (stats["funding"], stats["funding_paid"], stats["funding_received"]) == ({"USDT": "-0.3"}, {"USDT": "0.5"}, {"USDT": "0.2"})
