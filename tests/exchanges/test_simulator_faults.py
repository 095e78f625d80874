"""Faults injected through /_sim/faults, and rate limits, as the real ccxt client meets them."""

import asyncio
import json

import ccxt
import pytest

from exchanges.connectors import build_client
from exchanges.simulator.testing import BINANCE, BYBIT, Watcher

BTC, BTC_PERP = "BTC/USDT", "BTC/USDT:USDT"


def client_for(simulator, name, **overrides):
    return build_client(simulator.exchange_account(name), **overrides)


@pytest.fixture
async def binance(simulator):
    exchange = client_for(simulator, BINANCE)
    await exchange.load_markets()
    yield exchange
    await exchange.close()


@pytest.fixture
async def bybit(simulator):
    exchange = client_for(simulator, BYBIT)
    await exchange.load_markets()
    yield exchange
    await exchange.close()


def trade(n, account=BINANCE, symbol=BTC):
    return {"account": account, "symbol": symbol, "side": "buy", "amount": "0.001", "price": str(60000 + n)}


# --- REST faults ----------------------------------------------------------------------------------


async def test_a_429_fault_is_binances_rate_limit_answer(binance, simulator):
    await simulator.afaults({"action": "429", "count": 1})
    with pytest.raises(ccxt.DDoSProtection, match="429"):
        await binance.fetch_my_trades(BTC)
    assert binance.last_response_headers["Retry-After"]
    assert await binance.fetch_my_trades(BTC) == []
    assert simulator.stats()["faults"]["injected"] == {"rest.429": 1}


async def test_a_429_fault_is_bybits_too_many_visits(bybit, simulator):
    await simulator.afaults({"action": "429", "protocol": "bybit"})
    with pytest.raises(ccxt.RateLimitExceeded, match="10006"):
        await bybit.fetch_my_trades(BTC_PERP)


async def test_a_5xx_fault_is_exchange_not_available(binance, simulator):
    await simulator.afaults({"action": "5xx", "status": 502})
    with pytest.raises(ccxt.ExchangeNotAvailable, match="502"):
        await binance.fetch_my_trades(BTC)


async def test_a_malformed_body_gets_past_ccxt_unnoticed(bybit, simulator):
    """ccxt 4.5.90 does not raise on a cut-off JSON body: bybit's fetch_my_trades returns [] for it.
    A caller that must tell "no trades" from "no answer" has to look at the raw body."""
    await simulator.afaults({"action": "malformed", "path": "/v5/execution/list"})
    assert await bybit.fetch_my_trades(BTC_PERP) == []
    with pytest.raises(json.JSONDecodeError):
        json.loads(bybit.last_http_response)


async def test_a_hang_outlasts_the_client_timeout(simulator):
    exchange = client_for(simulator, BINANCE, timeout=300)
    try:
        await simulator.afaults({"action": "hang", "seconds": 3, "path": "/api/v3/exchangeInfo"})
        with pytest.raises(ccxt.RequestTimeout):
            await exchange.load_markets()
    finally:
        await exchange.close()


async def test_a_fraction_of_calls_fail_until_cleared(binance, simulator):
    await simulator.afaults({"action": "5xx", "fraction": 0.5, "path": "/api/v3/time"})
    outcomes = []
    for _ in range(20):
        try:
            await binance.fetch_time()
            outcomes.append("ok")
        except ccxt.ExchangeNotAvailable:
            outcomes.append("failed")
    assert 0 < outcomes.count("failed") < 20
    simulator.clear_faults()
    await binance.fetch_time()


# --- rate limits ----------------------------------------------------------------------------------


@pytest.fixture
def tight_limits(simulator_config):
    simulator_config["rate_limits"] = {
        # A window of a day keeps the test clear of a window boundary.
        "binance": {"weight_per_interval": 60, "interval_seconds": 86400, "violations_before_ban": 2, "ban_seconds": 120},
        "bybit": {"endpoints": {"/v5/execution/list": 2}, "ip_requests": 50},
    }
    return simulator_config


async def test_binance_weight_limit_then_ban(tight_limits, simulator):
    exchange = client_for(simulator, BINANCE, enableRateLimit=False)
    try:
        await exchange.load_markets()  # weight 20
        await exchange.fetch_my_trades(BTC)  # 40
        await exchange.fetch_my_trades(BTC)  # 60
        assert exchange.last_response_headers["X-MBX-USED-WEIGHT-1D"] == "60"
        for _ in range(2):
            with pytest.raises(ccxt.DDoSProtection, match='429.*"code":-1003'):
                await exchange.fetch_my_trades(BTC)
        with pytest.raises(ccxt.DDoSProtection, match="418.*IP banned until"):
            await exchange.fetch_my_trades(BTC)
        assert int(exchange.last_response_headers["Retry-After"]) > 0
        with pytest.raises(ccxt.DDoSProtection, match="418"):
            await exchange.fetch_time()
    finally:
        await exchange.close()
    weight = simulator.stats()["binance_weight"]
    assert (weight["used"], weight["bans"]) == (60, 1)


async def test_bybit_per_key_limit(tight_limits, simulator):
    exchange = client_for(simulator, BYBIT, enableRateLimit=False)
    try:
        await exchange.load_markets()
        results = await asyncio.gather(*(exchange.fetch_my_trades(BTC_PERP) for _ in range(6)), return_exceptions=True)
    finally:
        await exchange.close()
    refused = [r for r in results if isinstance(r, Exception)]
    assert refused and all(isinstance(r, ccxt.RateLimitExceeded) and "10006" in str(r) for r in refused)


async def test_bybit_ip_limit_is_http_403(simulator_config):
    from exchanges.simulator.testing import start_simulator

    simulator_config["rate_limits"] = {"bybit": {"ip_requests": 3, "ip_window_seconds": 3600}}
    running = start_simulator(simulator_config)
    exchange = client_for(running, BYBIT, enableRateLimit=False)
    try:
        for _ in range(3):
            await exchange.fetch_time()
        with pytest.raises(ccxt.RateLimitExceeded, match="403"):
            await exchange.fetch_time()
    finally:
        await exchange.close()
        running.thread.stop()


# --- WebSocket faults -----------------------------------------------------------------------------


async def test_dropped_events_are_never_pushed_but_stay_on_rest(binance, simulator):
    watcher = await Watcher(binance, BTC).subscribed(simulator, BINANCE)
    await simulator.afaults({"action": "drop", "count": 1})
    first, second = await simulator.apost_trades(trade(1), trade(2))
    await watcher.trades({second["id"]})
    watcher.close()
    assert first["id"] not in watcher.seen
    assert {t["id"] for t in await binance.fetch_my_trades(BTC)} == {first["id"], second["id"]}


async def test_duplicated_events_arrive_twice(binance, simulator):
    watcher = await Watcher(binance, BTC).subscribed(simulator, BINANCE)
    await simulator.afaults({"action": "duplicate", "count": 1})
    posted = await simulator.apost_trades(trade(1))
    await watcher.trades({posted[0]["id"]})
    watcher.close()
    assert simulator.stats()["websocket"]["events.binance"] == 2


async def test_reordered_events_arrive_after_the_one_that_follows(binance, simulator):
    watcher = await Watcher(binance, BTC).subscribed(simulator, BINANCE)
    await simulator.afaults({"action": "reorder", "count": 2})
    posted = await simulator.apost_trades(trade(1), trade(2), trade(3))
    await watcher.trades({t["id"] for t in posted})
    watcher.close()
    arrived = [t["id"] for t in binance.myTrades]
    assert arrived == [posted[2]["id"], posted[1]["id"], posted[0]["id"]]


async def test_a_paused_feed_holds_events_until_resumed(bybit, simulator):
    watcher = await Watcher(bybit, BTC_PERP).subscribed(simulator, BYBIT)
    await simulator.afaults({"action": "pause"})
    posted = await simulator.apost_trades(trade(1, BYBIT, BTC_PERP))
    assert simulator.stats()["websocket"].get("events.bybit", 0) == 0
    await simulator.afaults({"action": "resume"})
    await watcher.trades({posted[0]["id"]})
    watcher.close()


async def test_after_a_disconnect_a_new_watch_resubscribes(binance, simulator):
    watcher = await Watcher(binance, BTC).subscribed(simulator, BINANCE)
    answer = await simulator.afaults({"action": "disconnect"})
    assert answer["disconnected"] == 1
    with pytest.raises(ccxt.NetworkError):
        await asyncio.wait_for(watcher.pending, 30)
    watcher.pending = None
    await watcher.subscribed(simulator, BINANCE)
    posted = await simulator.apost_trades(trade(1))
    await watcher.trades({posted[0]["id"]})
    watcher.close()
