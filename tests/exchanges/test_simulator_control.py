"""The control API, the config and the generator, without a ccxt client."""

import time
from decimal import Decimal

import pytest

from exchanges.simulator.config import ConfigError, default_config, parse_config
from exchanges.simulator.testing import BINANCE, BYBIT, ControlError, start_simulator


def test_accounts_lists_what_a_client_needs(simulator):
    accounts = {a["name"]: a for a in simulator.accounts()}

    assert set(accounts) == {BINANCE, BYBIT}
    bybit = accounts[BYBIT]
    assert (bybit["protocol"], bybit["ccxt_id"], bybit["market_type"]) == ("bybit", "bybit", "swap")
    assert bybit["api_key"] and bybit["api_secret"] and bybit["base_url"] == simulator.base_url
    assert bybit["markets"][0] == {
        "symbol": "BTC/USDT:USDT",
        "market_id": "BTCUSDT",
        "base": "BTC",
        "quote": "USDT",
        "settle": "USDT",
        "amount_step": "0.001",
        "price_step": "0.1",
        "contract_size": "1",
    }


def test_posted_trades_are_the_ground_truth(simulator):
    posted = simulator.post_trades(
        {"account": BINANCE, "symbol": "BTC/USDT", "side": "buy", "amount": "0.5", "price": "60000", "fee": "0.0005", "fee_coin": "BTC"},
        {"account": BYBIT, "symbol": "ETH/USDT:USDT", "side": "sell", "amount": "2", "price": "3000.5", "taker_or_maker": "maker"},
    )

    assert simulator.truth() == posted
    assert simulator.truth(account=BYBIT) == posted[1:]
    assert posted[0]["cost"] == "30000" and posted[0]["fee"] == "0.0005"
    assert (posted[1]["fee"], posted[1]["fee_coin"], posted[1]["taker_or_maker"]) == ("-0.30005", "USDT", "maker")


def test_an_order_label_joins_fills_across_posts(simulator):
    first = simulator.post_trades({"account": BINANCE, "symbol": "ETH/USDT", "side": "sell", "amount": "1", "price": "3000", "order": "big", "order_qty": "3"})
    second = simulator.post_trades({"account": BINANCE, "symbol": "ETH/USDT", "side": "sell", "amount": "2", "price": "3001", "order": "big"})
    assert first[0]["order_id"] == second[0]["order_id"]
    with pytest.raises(ControlError, match="other side"):
        simulator.post_trades({"account": BINANCE, "symbol": "ETH/USDT", "side": "buy", "amount": "1", "price": "3000", "order": "big"})


@pytest.mark.parametrize(
    "change, message",
    [
        ({"amount": "0.000001"}, "not a multiple of 0.00001"),
        ({"price": "60000.001"}, "not a multiple of 0.01"),
        ({"amount": 0.1}, "not a float"),
        ({"account": "nobody"}, "unknown account"),
        ({"symbol": "DOGE/USDT"}, "no market"),
        ({"side": "long"}, "buy or sell"),
        ({"amount": "-1"}, "positive"),
    ],
)
def test_trades_the_exchange_could_not_execute_are_refused(simulator, change, message):
    trade = {"account": BINANCE, "symbol": "BTC/USDT", "side": "buy", "amount": "0.001", "price": "60000", **change}
    with pytest.raises(ControlError, match=message):
        simulator.post_trades(trade)
    assert simulator.truth() == []


def test_bybit_linear_fees_are_in_the_settle_coin(simulator):
    with pytest.raises(ControlError, match="settle coin"):
        simulator.post_trades({"account": BYBIT, "symbol": "BTC/USDT:USDT", "side": "buy", "amount": "0.001", "price": "60000", "fee": "0.1", "fee_coin": "BTC"})


def test_stats_count_requests_and_trades(simulator):
    simulator.post_trades({"account": BINANCE, "symbol": "BTC/USDT", "side": "buy", "amount": "0.001", "price": "60000"})
    stats = simulator.stats()
    assert stats["trades"][f"{BINANCE} BTC/USDT"] == 1
    assert stats["binance_weight"]["used"] == 0
    faults = stats["faults"]
    assert (faults["rest"], faults["paused"], faults["injected"]) == ([], False, {})
    assert not any(faults["ws"].values())


def test_unknown_fault_actions_are_refused(simulator):
    with pytest.raises(ControlError, match="action must be one of"):
        simulator.faults({"action": "explode"})


def test_the_history_is_reproducible_from_the_seed(simulator_config):
    simulator_config["accounts"][0]["history"] = {"trades": 500, "start": "2024-01-01T00:00:00Z", "end": "2024-01-08T00:00:00Z"}
    first, second = start_simulator(simulator_config), start_simulator(simulator_config)
    try:
        assert first.truth(account=BINANCE) == second.truth(account=BINANCE)
        assert len(first.truth(account=BINANCE)) == 500
    finally:
        first.thread.stop()
        second.thread.stop()


def test_a_million_preloaded_trades_cost_nothing_until_read(simulator_config):
    simulator_config["accounts"][0]["history"] = {"trades": 1_000_000, "days": 90}
    running = start_simulator(simulator_config)
    try:
        stats = running.stats()["trades"]
        assert stats[f"{BINANCE} BTC/USDT"] + stats[f"{BINANCE} ETH/USDT"] == 1_000_000
        since = int(time.time() * 1000) - 3600_000
        recent = running.truth(account=BINANCE, symbol="BTC/USDT", since=since)
        assert recent and all(t["timestamp"] >= since for t in recent)
        assert len(running.truth(account=BINANCE, limit=2000)) == 2000
    finally:
        running.thread.stop()


def test_the_live_trickle_trades_on_its_own(simulator_config):
    simulator_config["accounts"][1]["generator"] = {"orders_per_minute": 1200}
    running = start_simulator(simulator_config)
    try:
        deadline = time.monotonic() + 60
        while len(running.truth(account=BYBIT)) < 5:
            assert time.monotonic() < deadline, "the trickle produced no trades"
            time.sleep(0.05)
        for trade in running.truth(account=BYBIT):
            assert Decimal(trade["cost"]) == Decimal(trade["amount"]) * Decimal(trade["price"])
    finally:
        running.thread.stop()


def test_the_default_config_has_every_account_trading():
    config = default_config()
    assert [(a.name, a.protocol, [m.symbol for m in a.markets]) for a in config.accounts] == [
        ("binance_spot", "binance", ["BTC/USDT", "ETH/USDT"]),
        ("bybit_perp", "bybit", ["BTC/USDT:USDT", "ETH/USDT:USDT"]),
        ("bybit_spot", "bybit_spot", ["BTC/USDT", "ETH/USDT"]),
    ]
    assert all(a.generator.orders_per_minute > 0 for a in config.accounts)


def test_the_default_bybit_accounts_are_one_unified_account():
    config = default_config()
    perp, spot = config.account("bybit_perp"), config.account("bybit_spot")
    assert (spot.api_key, spot.api_secret) == (perp.api_key, perp.api_secret)
    assert (spot.ccxt_id, spot.market_type) == ("bybit", "spot")


@pytest.mark.parametrize(
    "account, message",
    [
        ({"name": "x", "protocol": "kraken", "markets": ["BTC/USD"]}, "protocol must be one of"),
        ({"name": "x", "protocol": "binance", "markets": ["BTC/USDT:USDT"]}, "binance spot symbols"),
        ({"name": "x", "protocol": "bybit", "markets": ["BTC/USDT"]}, "bybit linear perpetual symbols"),
        ({"name": "x", "protocol": "bybit_spot", "markets": ["BTC/USDT:USDT"]}, "bybit spot symbols"),
        ({"name": "x", "protocol": "binance", "markets": ["DOGE/USDT"]}, "missing price"),
        ({"name": "x", "protocol": "binance", "markets": [{"symbol": "BTC/USDT", "contract_size": "10"}]}, "contract_size must be 1"),
    ],
)
def test_bad_configs_name_the_problem(account, message):
    with pytest.raises(ConfigError, match=message):
        parse_config({"accounts": [account]})


@pytest.mark.parametrize(
    "protocol, symbol",
    [("binance", "BTC/USDT"), ("bybit", "BTC/USDT:USDT"), ("bybit_spot", "BTC/USDT")],
)
def test_two_accounts_of_one_protocol_cannot_share_a_key(protocol, symbol):
    accounts = [{"name": name, "protocol": protocol, "markets": [symbol], "api_key": "k", "api_secret": "s"} for name in ("a", "b")]
    with pytest.raises(ConfigError, match="API keys must be unique"):
        parse_config({"accounts": accounts})


def test_accounts_on_two_exchanges_cannot_share_a_key():
    accounts = [
        {"name": "a", "protocol": "binance", "markets": ["BTC/USDT"], "api_key": "k", "api_secret": "s"},
        {"name": "b", "protocol": "bybit", "markets": ["BTC/USDT:USDT"], "api_key": "k", "api_secret": "s"},
    ]
    with pytest.raises(ConfigError, match="API keys must be unique"):
        parse_config({"accounts": accounts})


def test_bybit_spot_and_linear_share_a_key_only_with_its_secret():
    linear = {"name": "a", "protocol": "bybit", "markets": ["BTC/USDT:USDT"], "api_key": "k", "api_secret": "s"}
    spot = {"name": "b", "protocol": "bybit_spot", "markets": ["BTC/USDT"], "api_key": "k", "api_secret": "s"}
    assert [a.name for a in parse_config({"accounts": [linear, spot]}).accounts] == ["a", "b"]
    with pytest.raises(ConfigError, match="API keys must be unique"):
        parse_config({"accounts": [linear, {**spot, "api_secret": "other"}]})
