"""ccxt clients for accounts, pointed at a base URL, and Market rows from what they load."""

from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync

from exchanges.connectors import ExchangeConnector, build_client, point_urls_at, upsert_markets
from exchanges.models import ExchangeAccount, Market
from exchanges.simulator.testing import BINANCE, BYBIT
from exchanges.venues import VENUES


def urls_in(tree):
    if isinstance(tree, dict):
        for value in tree.values():
            yield from urls_in(value)
    elif isinstance(tree, str):
        yield tree


def test_every_url_moves_to_the_base_keeping_its_path():
    urls = point_urls_at(
        {"public": "https://api.binance.com/api/v3", "ws": {"ws-api": {"spot": "wss://ws-api.binance.com:443/ws-api/v3"}}, "private": "https://api.{hostname}"},
        "http://127.0.0.1:8900",
    )
    assert urls == {
        "public": "http://127.0.0.1:8900/api/v3",
        "ws": {"ws-api": {"spot": "ws://127.0.0.1:8900/ws-api/v3"}},
        "private": "http://127.0.0.1:8900",
    }


def test_a_secure_base_keeps_secure_schemes_and_its_path_prefix():
    urls = point_urls_at({"a": "https://api.bybit.com/v5", "b": "wss://stream.bybit.com/v5/private"}, "https://proxy.example/bybit")
    assert urls == {"a": "https://proxy.example/bybit/v5", "b": "wss://proxy.example/bybit/v5/private"}


@pytest.mark.parametrize("venue", VENUES)
def test_a_client_for_the_simulator_never_names_a_real_host(venue):
    account = ExchangeAccount(name="a", venue=venue, base_url="http://127.0.0.1:9")
    client = build_client(account)
    assert all(url.startswith(("http://127.0.0.1:9", "ws://127.0.0.1:9")) for url in urls_in(client.urls["api"]))


def test_without_a_base_url_the_client_talks_to_the_exchange():
    client = build_client(ExchangeAccount(name="a", venue="binance_spot"))
    assert client.urls["api"]["private"] == "https://api.binance.com/api/v3"
    assert client.options["fetchMarkets"]["types"] == ["spot"] and client.options["fetchMargins"] is False


def test_bybit_clients_skip_the_currencies_call():
    client = build_client(ExchangeAccount(name="a", venue="bybit_linear"))
    assert client.has["fetchCurrencies"] is False
    assert client.options["fetchMarkets"]["types"] == ["linear"]


def load_markets(account):
    async def load():
        connector = ExchangeConnector(account)
        client = connector.rest_client()
        assert connector.rest_client() is client
        try:
            return await client.load_markets()
        finally:
            await connector.close()

    return async_to_sync(load)()


@pytest.mark.django_db
def test_markets_are_kept_with_exact_steps(simulated_accounts):
    for name in (BINANCE, BYBIT):
        account = simulated_accounts[name]
        markets = load_markets(account)
        upsert_markets(account, markets)
        upsert_markets(account, markets)

    rows = {(m.account.name, m.market_symbol): m for m in Market.objects.select_related("account")}
    assert set(rows) == {(BINANCE, "BNB/USDT"), (BINANCE, "BTC/USDT"), (BINANCE, "ETH/USDT"), (BYBIT, "BTC/USDT:USDT"), (BYBIT, "ETH/USDT:USDT")}
    spot, perp = rows[(BINANCE, "BTC/USDT")], rows[(BYBIT, "BTC/USDT:USDT")]
    assert (spot.symbol, spot.base, spot.quote, spot.contract_size) == ("BTC/USDT", "BTC", "USDT", Decimal(1))
    assert (spot.amount_step, spot.price_step) == (Decimal("0.00001"), Decimal("0.01"))
    assert (perp.symbol, perp.contract_size, perp.amount_step, perp.price_step) == ("BTC/USDT", Decimal(1), Decimal("0.001"), Decimal("0.1"))


# Binance spot's request weights (its REST API docs) and its limit: 6,000 a minute, counted in fixed minutes.
BINANCE_WEIGHTS = {("private", "myTrades"): 20, ("public", "exchangeInfo"): 20, ("public", "ticker/price"): 4}
BINANCE_WEIGHT_PER_MINUTE = 6000


@pytest.mark.parametrize("api, path", BINANCE_WEIGHTS)
def test_a_binance_request_spends_its_weight_from_the_ips_minute(api, path):
    client = build_client(ExchangeAccount(name="a", venue="binance_spot"))
    cost = client.calculate_rate_limiter_cost(api, "GET", path, {}, client.api[api]["get"][path])
    (weight,) = client.budget_hook.budgets_of(api, path)

    key, budget, _ = weight
    assert budget.weight(cost) == BINANCE_WEIGHTS[(api, path)]
    assert key.endswith(":weight:ip") and budget.fixed_windows
    assert [(w.limit, w.seconds) for w in budget.windows] == [(BINANCE_WEIGHT_PER_MINUTE, 60)]
