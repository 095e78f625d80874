"""An account the venue refuses, or that cannot sync, is down with its reason in sync health and the
admin, logged once per change of state, while the other accounts carry on."""

import asyncio
import logging

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from exchanges.connectors import ExchangeConnector
from exchanges.models import ExchangeAccount
from exchanges.simulator.testing import BINANCE, BYBIT
from trades.health import sync_health
from trades.models import Trade
from trades.synchronizer import TradeSynchronizer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("async_db")]


async def wait_for(condition, timeout=60.0, message="condition"):
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{message} not reached within {timeout:.0f}s")
        await asyncio.sleep(0.1)


async def health_of(name: str):
    return next(h for h in await sync_to_async(sync_health)(now=timezone.now()) if h.account == name)


def synchronizer_for(accounts: list[ExchangeAccount], **kwargs) -> TradeSynchronizer:
    return TradeSynchronizer({a.name: ExchangeConnector(a) for a in accounts}, **kwargs)


def down_records(caplog, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR and name in r.getMessage()]


async def test_a_refused_key_is_down_with_its_reason_and_the_other_account_carries_on(simulator, simulated_accounts, caplog):
    refused, good = simulated_accounts[BINANCE], simulated_accounts[BYBIT]
    refused.api_secret = "not-the-secret"
    await refused.asave()
    await refused.arefresh_from_db()
    synchronizer = synchronizer_for([refused, good], interval_seconds=0.5)
    await synchronizer.start({refused.name: refused.symbols, good.name: good.symbols})
    try:
        await wait_for(lambda: _is_down(BINANCE), message="refused account down")
        await simulator.apost_trades({"account": BYBIT, "symbol": "BTC/USDT:USDT", "side": "buy", "amount": "0.01", "price": "60000"})
        await wait_for(lambda: Trade.objects.filter(exchange=good).aexists(), message="the other account's trade stored")
    finally:
        await synchronizer.stop()

    down = await health_of(BINANCE)
    assert down.state == "down"
    assert "AuthenticationError" in down.reason and "not-the-secret" not in down.reason
    assert (await health_of(BYBIT)).state == "ok"


async def _is_down(name: str) -> bool:
    return (await health_of(name)).state == "down"


async def test_an_account_whose_pass_keeps_failing_is_down_and_logged_once(simulator, simulated_accounts, caplog):
    """A symbol the venue does not list (stored before accounts were validated) fails every pass."""
    account = simulated_accounts[BINANCE]
    await ExchangeAccount.objects.filter(pk=account.pk).aupdate(symbols=["DOGE/USDT"])
    await account.arefresh_from_db()
    synchronizer = synchronizer_for([account], interval_seconds=0.2, streams=False)
    await synchronizer.start({account.name: account.symbols})
    try:
        await wait_for(lambda: asyncio.sleep(0, synchronizer.running[account.name].passes >= 4), message="four passes")
    finally:
        await synchronizer.stop()

    health = await health_of(BINANCE)
    assert health.state == "down"
    assert health.reason.startswith("DOGE/USDT: BadSymbol") and "\n" not in health.reason
    assert health.down_since is not None
    assert len([r for r in down_records(caplog, "DOGE/USDT") if r.exc_info]) == 1  # one traceback, not one per pass
    assert len([r for r in down_records(caplog, account.name) if "is down" in r.getMessage()]) == 1


async def test_an_account_that_cannot_start_is_down_until_fixed(simulator, simulated_accounts, caplog, client):
    account = simulated_accounts[BINANCE]
    await ExchangeAccount.objects.filter(pk=account.pk).aupdate(api_secret="")
    await account.arefresh_from_db()
    synchronizer = synchronizer_for([account], interval_seconds=3600, streams=False)
    for _ in range(3):  # as the follower does at every reload
        await synchronizer.start_account(account.name, account.symbols)
    assert account.name not in synchronizer.running
    health = await health_of(BINANCE)
    assert (health.state, health.reason) == ("down", "cannot start: api_secret: binance_spot needs an API secret (a read-only key is enough)")
    assert len(down_records(caplog, "cannot start")) == 1

    admin_page = await sync_to_async(_admin_accounts_page)(client)
    assert "down: cannot start: api_secret: binance_spot needs an API secret" in admin_page

    fixed = await ExchangeAccount.objects.aget(pk=account.pk)
    fixed.api_secret = simulator.account(BINANCE).api_secret
    await fixed.asave()
    await fixed.arefresh_from_db()
    synchronizer.exchange_connectors[account.name] = ExchangeConnector(fixed)
    await synchronizer.start_account(account.name, fixed.symbols)
    try:
        await wait_for(lambda: asyncio.sleep(0, synchronizer.running[account.name].passes >= 1), message="a first pass")
    finally:
        await synchronizer.stop()
    health = await health_of(BINANCE)
    assert (health.state, health.reason, health.down_since) == ("ok", "", None)


def _admin_accounts_page(client) -> str:
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("admin", password="x")
    client.force_login(admin)
    return client.get("/admin/exchanges/exchangeaccount/").content.decode()
