"""A Bybit spot account and a Bybit linear account on one unified key: one `execution` stream carries
both categories' fills to both accounts, and ccxt may name the other category's fill as one of the
account's own markets. Each account stores only its own; a spot fee is in the coin the payload names."""

import asyncio
import copy

import pytest
from asgiref.sync import sync_to_async

from exchanges.connectors import ExchangeConnector
from exchanges.simulator.testing import VENUE_ACCOUNTS
from exchanges.venues import VENUES
from trades.models import Trade
from trades.normalize import exact_trade
from trades.streams import AccountStream

SPOT, LINEAR = VENUE_ACCOUNTS["bybit_spot"]["name"], VENUE_ACCOUNTS["bybit_linear"]["name"]
KEY = {"api_key": "sim-unified-key", "api_secret": "sim-unified-secret"}


def spot_row(**changes) -> dict:
    """A Bybit spot execution as ccxt parsed a REST row: ccxt's fee currency is its own guess."""
    info = {"symbol": "BTCUSDT", "execId": "2210001000000000037", "orderId": "1540001000000000012", "execQty": "0.001", "execPrice": "60000.1",
            "execValue": "60.0001", "execFee": "0.05", "feeCurrency": "MNT", "execTime": "1767225600000", "side": "Buy", "isMaker": False}
    info.update(changes)
    return {"id": info["execId"], "info": info, "symbol": "BTC/USDT", "side": "buy", "timestamp": 1767225600000, "order": info["orderId"],
            "takerOrMaker": "taker", "fee": {"cost": info["execFee"], "currency": "BTC"}}


def test_the_fee_coin_is_the_one_the_payload_names_not_ccxts_guess():
    assert exact_trade(VENUES["bybit_spot"], spot_row()).fee_currency == "MNT"


def test_without_a_named_fee_coin_ccxts_is_kept():
    assert exact_trade(VENUES["bybit_spot"], spot_row(feeCurrency="")).fee_currency == "BTC"


@pytest.mark.parametrize("venue, own, other", [("bybit_spot", "spot", "linear"), ("bybit_linear", "linear", "spot")])
def test_a_bybit_venue_keeps_only_its_own_categorys_streamed_fills(venue, own, other):
    assert VENUES[venue].is_own_streamed_trade({"info": {"category": own}})
    assert not VENUES[venue].is_own_streamed_trade({"info": {"category": other}})
    assert not VENUES[venue].is_own_streamed_trade({"info": {}})


@pytest.fixture
def simulator_config():
    accounts = [{**copy.deepcopy(VENUE_ACCOUNTS[name]), **KEY} for name in ("bybit_linear", "bybit_spot")]
    return {"seed": 5, "accounts": accounts}


async def stored_ids(account) -> set[str]:
    return {trade_id async for trade_id in Trade.objects.filter(exchange=account).values_list("exchange_trade_id", flat=True)}


async def wait_for(condition, what: str, timeout: float = 60.0, repeat=None) -> None:
    """A bound on waiting, not a timing assertion; `repeat` is awaited between looks."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, f"{what}: not within {timeout:.0f}s"
        if repeat is not None:
            await repeat()
        await asyncio.sleep(0.2)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("async_db")
async def test_each_account_on_one_key_stores_only_its_own_fills(simulator, simulated_accounts):
    accounts = [simulated_accounts[SPOT], simulated_accounts[LINEAR]]
    connectors = [ExchangeConnector(account) for account in accounts]
    connected = [asyncio.Event() for _ in accounts]
    streams = [
        asyncio.create_task(AccountStream(account, connector.new_client, _setter(event), symbols=account.symbols).run())
        for account, connector, event in zip(accounts, connectors, connected)
    ]
    posted = []

    async def one_fill_each():
        posted.extend(
            await simulator.apost_trades(
                {"account": SPOT, "symbol": "BTC/USDT", "side": "buy", "amount": "0.001", "price": "60000"},
                {"account": LINEAR, "symbol": "BTC/USDT:USDT", "side": "buy", "amount": "0.001", "price": "60000"},
            )
        )

    async def both_stored_some():
        return all([await stored_ids(account) for account in accounts])

    try:
        await asyncio.wait_for(asyncio.gather(*(event.wait() for event in connected)), 60)
        # Fills posted before a stream has subscribed reach it only by REST: post until both streams store.
        await wait_for(both_stored_some, "both streams storing", repeat=one_fill_each)
        before = len(posted)
        for _ in range(2):
            await one_fill_each()
        last = {name: {t["id"] for t in posted[before:] if t["account"] == name} for name in (SPOT, LINEAR)}

        async def last_fills_stored():
            return all([last[account.name] <= await stored_ids(account) for account in accounts])

        await wait_for(last_fills_stored, "the last fills stored")
    finally:
        for stream in streams:
            stream.cancel()
        await asyncio.gather(*streams, return_exceptions=True)
        for connector in connectors:
            await connector.close()

    # Each stream saw every fill of the key, in order: the other category's were there, and are not stored.
    own = {name: {t["id"] for t in posted if t["account"] == name} for name in (SPOT, LINEAR)}
    for account in accounts:
        assert await stored_ids(account) <= own[account.name]
    truth = {t["id"]: t for t in posted}
    spot_trades = await sync_to_async(list)(Trade.objects.filter(exchange=accounts[0]))
    assert spot_trades
    assert all((t.market_symbol, t.fee_currency) == (truth[t.exchange_trade_id]["symbol"], truth[t.exchange_trade_id]["fee_coin"]) for t in spot_trades)


def _setter(event: asyncio.Event):
    async def on_connect():
        event.set()

    return on_connect
