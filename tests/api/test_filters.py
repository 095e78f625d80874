"""One rule for the account and symbol filters on every endpoint: a pair means every market of it,
a full market symbol that market only, an account is named by id or name, and a filter naming what
the tracker does not know is a 422 that says what it does know."""

import csv
import io

import pytest

from trades.ingest import ingest_trades
from trades.models import SyncCursor

from ..factories import binance_trade, bybit_trade, make_account, make_market

T0 = 1_704_067_200_000
MINUTE = 60_000
SINCE = "2024-01-01T00:00:00Z"

# The CSV export streams from an async iterator, which Django's sync test client consumes whole.
pytestmark = pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume asynchronous iterators")


@pytest.fixture
def perp(account):
    """Beside the spot account's BTC/USDT trades, a perpetual account's BTC/USDT:USDT ones: one
    position opened and closed, another left open."""
    perp = make_account("bybit_perp", venue="bybit_linear")
    make_market(perp, "BTC/USDT:USDT")
    ingest_trades(account, [binance_trade(n, timestamp=T0 + n * MINUTE) for n in (1, 2)])
    ingest_trades(
        perp,
        [
            bybit_trade("p1", side="buy", timestamp=T0 + 10 * MINUTE),
            bybit_trade("p2", side="sell", timestamp=T0 + 11 * MINUTE),
            bybit_trade("p3", side="buy", amount="2", timestamp=T0 + 12 * MINUTE),
        ],
    )
    return perp


def counts(api, symbol: str) -> dict[str, int]:
    """How many trades of `symbol` each endpoint accounts for."""
    trades = api.get("/api/trades", {"symbol": symbol, "limit": 1000}).json()["items"]
    statistics = api.get("/api/trades/statistics", {"symbol": symbol, "since": SINCE}).json()
    csv_rows = list(csv.DictReader(io.StringIO(b"".join(api.get("/api/trades.csv", {"symbol": symbol})).decode())))
    positions = api.get("/api/positions", {"symbol": symbol, "status": "all"}).json()["items"]
    return {
        "trades": len(trades),
        "statistics": statistics["count"],
        "csv": len(csv_rows),
        "positions": sum(p["trade_count"] for p in positions),
    }


@pytest.mark.parametrize(("symbol", "expected"), [("BTC/USDT:USDT", 3), ("BTC/USDT", 5)])
def test_a_symbol_counts_the_same_trades_on_every_endpoint(api, perp, symbol, expected):
    assert counts(api, symbol) == {"trades": expected, "statistics": expected, "csv": expected, "positions": expected}


def test_a_perpetual_market_names_its_accounts_positions_and_pnl_only(api, account, perp):
    positions = api.get("/api/positions", {"symbol": "BTC/USDT:USDT", "status": "all"}).json()["items"]
    pnl = api.get("/api/pnl", {"symbol": "BTC/USDT:USDT"}).json()["positions"]
    both = api.get("/api/pnl", {"symbol": "BTC/USDT"}).json()["positions"]

    assert {p["account"] for p in positions} == {"bybit_perp"}
    assert [p["account"] for p in pnl] == ["bybit_perp"]
    assert sorted(p["account"] for p in both) == ["binance_spot", "bybit_perp"]


def test_an_account_is_named_by_id_or_by_name(api, account, perp):
    by_id = api.get("/api/trades", {"account": perp.pk}).json()["items"]
    by_name = api.get("/api/trades", {"account": "bybit_perp"}).json()["items"]

    assert [t["exchange_trade_id"] for t in by_name] == [t["exchange_trade_id"] for t in by_id] == ["p3", "p2", "p1"]
    assert [h["account"] for h in api.get("/api/sync-health", {"account": "bybit_perp"}).json()] == ["bybit_perp"]


@pytest.mark.parametrize("path", ["/api/trades", "/api/trades.csv", "/api/positions", "/api/marks", "/api/pnl", "/api/sync-health"])
def test_an_unknown_account_is_422_listing_the_known_ones(api, account, perp, path):
    response = api.get(path, {"account": "bybit_prep"})

    assert response.status_code == 422
    assert response.json() == {"detail": f"account: no account named 'bybit_prep'; known: binance_spot ({account.pk}), bybit_perp ({perp.pk})"}


def test_an_unknown_account_id_is_422(api, account):
    response = api.get("/api/trades", {"account": account.pk + 100})

    assert response.status_code == 422
    assert response.json()["detail"] == f"account: no account with id {account.pk + 100}; known: binance_spot ({account.pk})"


@pytest.mark.parametrize(
    "path", ["/api/trades", "/api/trades.csv", "/api/trades/statistics", "/api/positions", "/api/positions/net", "/api/marks", "/api/pnl"]
)
def test_a_symbol_written_without_its_slash_is_422_with_the_symbol_meant(api, perp, path):
    response = api.get(path, {"symbol": "BTCUSDT", "since": SINCE})

    assert response.status_code == 422
    assert response.json() == {"detail": "symbol: no symbol 'BTCUSDT' is tracked; did you mean BTC/USDT or BTC/USDT:USDT?"}


def test_a_perpetual_asked_of_a_spot_account_suggests_the_pair(api, account, perp):
    response = api.get("/api/trades", {"account": "binance_spot", "symbol": "BTC/USDT:USDT"})

    assert response.status_code == 422
    assert response.json()["detail"] == "symbol: no symbol 'BTC/USDT:USDT' is tracked on this account; did you mean BTC/USDT?"


def test_a_pair_asked_of_a_perpetual_account_is_its_perpetual(api, perp):
    trades = api.get("/api/trades", {"account": "bybit_perp", "symbol": "BTC/USDT"}).json()["items"]

    assert [t["market_symbol"] for t in trades] == ["BTC/USDT:USDT"] * 3


def test_a_symbol_nothing_resembles_is_422_listing_the_known_ones(api, perp):
    response = api.get("/api/trades/statistics", {"symbol": "DOGE/EUR", "since": SINCE})

    assert response.status_code == 422
    assert response.json()["detail"] == "symbol: no symbol 'DOGE/EUR' is tracked; known: BTC/USDT, BTC/USDT:USDT, ETH/USDT"


def test_a_symbol_is_known_from_the_accounts_symbols_and_its_sync_cursors(api, db):
    tracked = make_account("tracked", symbols=["SOL/USDT"])
    SyncCursor.objects.create(account=tracked, symbol="XRP/USDT")

    assert api.get("/api/trades", {"symbol": "SOL/USDT"}).json()["items"] == []
    assert api.get("/api/trades", {"symbol": "XRP/USDT"}).json()["items"] == []
    assert api.get("/api/trades", {"symbol": "ADA/USDT"}).status_code == 422
