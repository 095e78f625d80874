"""Both paths at once, against the simulator: streams deliver, REST catches up, nothing is doubled."""

import asyncio
import random
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from exchanges.connectors import ExchangeConnector
from exchanges.simulator.testing import BINANCE, BYBIT
from trades.models import StreamHealth, Trade
from trades.synchronizer import TradeSynchronizer

from ..ground_truth import assert_positions_match_truth, assert_trades_match_truth

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("async_db")]
MARKETS = {BINANCE: ["BTC/USDT", "ETH/USDT"], BYBIT: ["BTC/USDT:USDT", "ETH/USDT:USDT"]}
PRICES = {"BTC": 60000, "ETH": 3000}


def random_trades(count: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    trades = []
    for _ in range(count):
        account = rng.choice([BINANCE, BYBIT])
        symbol = rng.choice(MARKETS[account])
        base = symbol.split("/")[0]
        step = "0.01" if account == BYBIT else "0.0001"
        amount = str(rng.randint(1, 50) * Decimal(step))
        price = str(PRICES[base] + rng.randint(-500, 500) / 10)
        trades.append({"account": account, "symbol": symbol, "side": rng.choice(["buy", "sell"]), "amount": amount, "price": price})
    return trades


async def stored_count(account=None) -> int:
    query = Trade.objects.all() if account is None else Trade.objects.filter(exchange=account)
    return await query.acount()


async def wait_for(condition, timeout=120.0, message="condition"):
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{message} not reached within {timeout:.0f}s")
        await asyncio.sleep(0.2)


async def start_synchronizer(accounts, **kwargs) -> TradeSynchronizer:
    connectors = {name: ExchangeConnector(account) for name, account in accounts.items()}
    synchronizer = TradeSynchronizer(connectors, exchange_id_map={n: a.id for n, a in accounts.items()}, **kwargs)
    await synchronizer.start({name: account.symbols for name, account in accounts.items()})
    return synchronizer


async def all_stored(simulator, accounts):
    truth = await simulator.atruth()
    return await stored_count() == len(truth)


async def check_against_truth(simulator, accounts):
    for name, account in accounts.items():
        truth = await simulator.atruth(account=name)
        await sync_to_async(assert_trades_match_truth)(account, truth)
        await sync_to_async(assert_positions_match_truth)(account, truth)


async def test_two_thousand_trades_while_tracking_are_stored_once_and_positions_match(simulator, simulated_accounts):
    synchronizer = await start_synchronizer(simulated_accounts, interval_seconds=5)
    try:
        trades = random_trades(2000)
        for start in range(0, len(trades), 50):
            await simulator.apost_trades(*trades[start : start + 50])
        await wait_for(lambda: all_stored(simulator, simulated_accounts), message="all 2,000 trades stored")
    finally:
        await synchronizer.stop()
    await check_against_truth(simulator, simulated_accounts)


async def test_dropped_connections_and_a_paused_feed_are_caught_up(simulator, simulated_accounts, settings):
    settings.STREAM_IDLE_SECONDS = 2
    synchronizer = await start_synchronizer(simulated_accounts, interval_seconds=3600)
    try:
        await wait_for(lambda: sync_to_async(lambda: all(s.passes for s in synchronizer.running.values()))(), message="first passes")
        trades = random_trades(300, seed=2)
        await simulator.apost_trades(*trades[:100])
        await simulator.afaults({"action": "disconnect"})
        await simulator.apost_trades(*trades[100:200])
        await simulator.afaults({"action": "pause"})
        await simulator.apost_trades(*trades[200:])
        await wait_for(lambda: all_stored(simulator, simulated_accounts), message="gap filled")
        await simulator.afaults({"action": "resume"})
    finally:
        await synchronizer.stop()
    await check_against_truth(simulator, simulated_accounts)


async def test_messages_dropped_duplicated_and_reordered_end_complete(simulator, simulated_accounts):
    synchronizer = await start_synchronizer(simulated_accounts, interval_seconds=2)
    try:
        await simulator.afaults({"action": "drop", "count": 5}, {"action": "duplicate", "count": 5}, {"action": "reorder", "count": 5})
        await simulator.apost_trades(*random_trades(200, seed=3))
        await wait_for(lambda: all_stored(simulator, simulated_accounts), message="all stored")
    finally:
        await synchronizer.stop()
    await check_against_truth(simulator, simulated_accounts)


async def test_rest_and_stream_delivering_the_same_trades_at_once_store_each_once(simulator, simulated_accounts):
    synchronizer = await start_synchronizer(simulated_accounts, interval_seconds=3600)
    try:
        for batch in range(10):
            await simulator.apost_trades(*random_trades(40, seed=10 + batch))
            await asyncio.gather(*(synchronizer.sync_now(name) for name in simulated_accounts))
        await wait_for(lambda: all_stored(simulator, simulated_accounts), message="all stored")
    finally:
        await synchronizer.stop()
    await check_against_truth(simulator, simulated_accounts)


@pytest.mark.parametrize("name", [BINANCE, BYBIT])
async def test_a_rejected_key_stops_the_account_loudly(simulator, simulated_accounts, name):
    account = simulated_accounts[name]
    account.api_secret = "not-the-secret"
    await account.asave()
    await account.arefresh_from_db()
    synchronizer = await start_synchronizer({name: account}, interval_seconds=3600)
    try:
        await wait_for(
            lambda: StreamHealth.objects.filter(account=account).exclude(stopped_reason="").aexists(), message="account stopped"
        )
        # Neither path retries forever: both end.
        await wait_for(lambda: asyncio.sleep(0, all(t.done() for t in synchronizer.running[name].tasks)), message="both paths ended")
    finally:
        await synchronizer.stop()
    health = await StreamHealth.objects.aget(account=account)
    assert "not-the-secret" not in health.stopped_reason
