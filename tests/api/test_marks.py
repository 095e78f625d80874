from datetime import UTC, datetime

from ..factories import make_account
from .marks import set_mark


def test_latest_mark_per_market(api, account):
    perp = make_account("bybit_perp", venue="bybit_linear")
    set_mark(account, "BTC/USDT", "42000.12345678")
    set_mark(perp, "BTC/USDT:USDT", "42001.5", at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))
    set_mark(account, "ETH/USDT", "0.000000000000000001")

    response = api.get("/api/marks")

    assert response.status_code == 200
    assert [(m["account"], m["market_symbol"], m["symbol"], m["price"]) for m in response.json()] == [
        ("binance_spot", "BTC/USDT", "BTC/USDT", "42000.12345678"),
        ("binance_spot", "ETH/USDT", "ETH/USDT", "0.000000000000000001"),
        ("bybit_perp", "BTC/USDT:USDT", "BTC/USDT", "42001.5"),
    ]
    assert response.json()[2]["fetched_at"] == "2024-01-02T03:04:05Z"


def test_marks_by_account_and_symbol(api, account):
    perp = make_account("bybit_perp", venue="bybit_linear", symbols=["BTC/USDT"])
    set_mark(account, "BTC/USDT", "1")
    set_mark(account, "ETH/USDT", "2")
    set_mark(perp, "BTC/USDT:USDT", "3")

    def prices(**params):
        return [m["price"] for m in api.get("/api/marks", params).json()]

    assert prices(account=perp.pk) == ["3"]
    assert prices(symbol="BTC/USDT") == ["1", "3"]
    assert prices(symbol="BTC/USDT:USDT") == ["3"]
