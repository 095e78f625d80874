"""refresh_marks: exact prices from the tickers' `info`, stored once per market, pushed to the pages."""

import sys
import types
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer

from positions.marks import refresh_marks
from positions.models import MarkPrice
from trades.ingest import ingest_trades

from ..factories import binance_trade, make_account, make_market


def ccxt_number(text):
    """ccxt's float of an exchange string, or None."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


class FakeBinance:
    """What ccxt's binance `fetch_last_prices` returns (GET /api/v3/ticker/price): floats outside, strings in `info`."""

    def __init__(self, prices: dict):
        self.prices = prices
        self.asked = []

    async def fetch_last_prices(self, symbols):
        self.asked.append(symbols)
        return {
            s: {"symbol": s, "price": ccxt_number(p), "side": None, "info": {"symbol": s.replace("/", ""), "price": p}}
            for s, p in self.prices.items()
        }


class FakeBybit:
    """What ccxt's bybit `fetch_tickers` returns (GET /v5/market/tickers, linear)."""

    def __init__(self, tickers: dict):
        self.tickers = tickers

    async def fetch_tickers(self, symbols):
        return {
            s: {"symbol": s, "last": ccxt_number(info.get("lastPrice")), "info": {"symbol": s.split(":")[0].replace("/", ""), **info}}
            for s, info in self.tickers.items()
        }


def marks() -> dict[str, Decimal]:
    return {m.market_symbol: m.price for m in MarkPrice.objects.all()}


def test_binance_prices_come_exact_from_the_ticker_info(account):
    account.symbols = ["BTC/USDT", "ETH/USDT"]
    client = FakeBinance({"BTC/USDT": "42000.123456789012345678", "ETH/USDT": "2250.10", "XRP/USDT": "0.5"})

    stored = async_to_sync(refresh_marks)(account, client)

    assert len(stored) == 2
    assert client.asked == [["BTC/USDT", "ETH/USDT"]]
    assert marks() == {"BTC/USDT": Decimal("42000.123456789012345678"), "ETH/USDT": Decimal("2250.10")}


def test_bybit_takes_the_mark_price_else_the_last_price(db):
    perp = make_account("bybit_perp", venue="bybit_linear", symbols=["BTC/USDT", "ETH/USDT"])
    client = FakeBybit(
        {
            "BTC/USDT:USDT": {"lastPrice": "42000.5", "markPrice": "42001.25"},
            "ETH/USDT:USDT": {"lastPrice": "2250.75"},
        }
    )

    async_to_sync(refresh_marks)(perp, client)

    assert marks() == {"BTC/USDT:USDT": Decimal("42001.25"), "ETH/USDT:USDT": Decimal("2250.75")}
    assert set(MarkPrice.objects.values_list("symbol", flat=True)) == {"BTC/USDT", "ETH/USDT"}


def test_a_refresh_replaces_the_previous_mark(account):
    account.symbols = ["BTC/USDT"]
    async_to_sync(refresh_marks)(account, FakeBinance({"BTC/USDT": "100"}))

    async_to_sync(refresh_marks)(account, FakeBinance({"BTC/USDT": "101.5"}))

    assert marks() == {"BTC/USDT": Decimal("101.5")}


@pytest.mark.parametrize("bad", [None, 100.5, "", "abc", "-1", "0", "NaN", "Infinity", "1e30", "0.0000000000000000001"])
def test_a_ticker_without_a_usable_price_keeps_the_previous_mark(account, bad):
    account.symbols = ["BTC/USDT", "ETH/USDT"]
    async_to_sync(refresh_marks)(account, FakeBinance({"BTC/USDT": "100", "ETH/USDT": "2000"}))

    async_to_sync(refresh_marks)(account, FakeBinance({"BTC/USDT": bad, "ETH/USDT": "2001"}))

    assert marks() == {"BTC/USDT": Decimal("100"), "ETH/USDT": Decimal("2001")}


def test_symbols_of_open_positions_are_marked_too(account):
    account.symbols = ["BTC/USDT"]
    ingest_trades(account, [binance_trade(1, symbol="ETH/USDT")])
    client = FakeBinance({"BTC/USDT": "100", "ETH/USDT": "2000"})

    async_to_sync(refresh_marks)(account, client)

    assert client.asked == [["BTC/USDT", "ETH/USDT"]]
    assert set(marks()) == {"BTC/USDT", "ETH/USDT"}


def test_an_account_with_nothing_to_mark_asks_nothing(account):
    client = FakeBinance({"BTC/USDT": "100"})

    assert async_to_sync(refresh_marks)(account, client) == []
    assert client.asked == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("async_db")
async def test_new_marks_are_pushed_to_the_positions_group():
    account = await sync_to_async(make_account)(symbols=["BTC/USDT"])
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("positions", channel)

    await refresh_marks(account, FakeBinance({"BTC/USDT": "100"}))

    assert await layer.receive(channel) == {"type": "marks.changed", "account_id": account.pk, "symbols": ["BTC/USDT"]}


def test_the_celery_task_refreshes_through_the_accounts_connector(account, monkeypatch):
    account.symbols = ["BTC/USDT"]
    account.save()
    make_market(account, "SOL/USDT")
    closed = []

    class Connector:
        def __init__(self, connected_account):
            assert connected_account == account

        def rest_client(self):
            return FakeBinance({"BTC/USDT": "100"})

        async def close(self):
            closed.append(True)

    monkeypatch.setitem(sys.modules, "exchanges.connectors", types.SimpleNamespace(ExchangeConnector=Connector))
    from positions.tasks import refresh_account_marks

    assert refresh_account_marks(account.pk) == 1
    assert closed == [True]
    assert marks() == {"BTC/USDT": Decimal("100")}
