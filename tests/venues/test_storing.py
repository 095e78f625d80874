"""What the tracker stores of a venue's trades, against the venue's simulated account with the real
ccxt client: a REST pass walks the history to the present and the next finds nothing new; rate limits,
server errors and malformed answers are waited out; two markets' trades with the same number never
clash; a trade read by REST and pushed by the stream is stored once."""

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from exchanges.connectors import ExchangeConnector
from trades.backoff import Backoff
from trades.models import RejectedTrade, SyncCursor, Trade
from trades.streams import AccountStream
from trades.sync import RestSync

from ..ground_truth import assert_positions_match_truth, assert_trades_match_truth
from .conftest import contract

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def history():
    return {"trades": 1500, "days": 10}


@pytest.fixture
def account(simulated_accounts, account_name):
    return simulated_accounts[account_name]


async def arest_pass(account, **kwargs):
    connector = ExchangeConnector(account)
    try:
        return await RestSync(account, connector.rest_client(), **kwargs).run(account.symbols)
    finally:
        await connector.close()


def rest_pass(account, **kwargs):
    return async_to_sync(arest_pass)(account, **kwargs)


def test_a_first_pass_backfills_everything_and_a_second_finds_nothing_new(simulator, account, account_name):
    account.backfill_since = None
    truth = simulator.truth(account=account_name)
    assert len(truth) >= 1500

    first = rest_pass(account)
    second = rest_pass(account)

    assert first.new == len(truth) and not first.stopped
    assert second.new == 0
    assert_trades_match_truth(account, truth)
    assert_positions_match_truth(account, truth)
    assert all(c.last_sync_at for c in SyncCursor.objects.filter(account=account))


def test_rate_limits_and_server_errors_are_waited_out(simulator, account, account_name):
    # Retry-After 1 s (Binance's default is the rest of its minute): the request budget closes for it.
    simulator.faults({"action": "429", "count": 2, "retry_after": 1}, {"action": "5xx", "count": 2})
    waits = []

    async def no_sleep(seconds):
        waits.append(seconds)

    result = rest_pass(account, backoff=Backoff(base_seconds=0.05, max_seconds=0.2, sleep=no_sleep))

    assert not result.stopped
    assert_trades_match_truth(account, simulator.truth(account=account_name))
    assert simulator.stats()["faults"]["injected"] == {"rest.429": 2, "rest.5xx": 2}
    assert waits  # backed off instead of failing the pass


def test_a_malformed_answer_is_asked_again_not_taken_for_no_trades(simulator, account, account_name, venue_name):
    simulator.faults({"action": "malformed", "count": 3, "path": contract(venue_name)["trade_list_path"]})

    result = rest_pass(account, backoff=Backoff(base_seconds=0.01, max_seconds=0.02))

    assert not result.stopped
    assert simulator.stats()["faults"]["injected"] == {"rest.malformed": 3}
    assert_trades_match_truth(account, simulator.truth(account=account_name))


def test_two_markets_trades_with_the_same_number_never_clash(simulator, account, account_name):
    """Each market's trades are posted alike, so a venue that numbers trades per market gives both the
    same numbers; each is stored once, under its own id."""
    markets = [market.symbol for market in simulator.account(account_name).markets[:2]]
    for _ in range(5):
        simulator.post_trades(*({"account": account_name, "symbol": symbol, "side": "buy", "amount": "0.01", "price": "100"} for symbol in markets))

    rest_pass(account)

    truth = simulator.truth(account=account_name)
    assert_trades_match_truth(account, truth)
    assert Trade.objects.filter(exchange=account).count() == len(truth)
    assert not RejectedTrade.objects.filter(exchange=account).exists()


async def wait_for_count(account, count: int, timeout: float = 90.0) -> None:
    """A bound on waiting, not a timing assertion."""
    deadline = asyncio.get_running_loop().time() + timeout
    while await Trade.objects.filter(exchange=account).acount() < count:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{count} trades not stored within {timeout:.0f}s")
        await asyncio.sleep(0.1)


@pytest.mark.usefixtures("async_db")
async def test_a_rest_trade_and_its_streamed_copy_are_stored_once(simulator, account, account_name):
    await arest_pass(account)  # the history, which no stream replays
    stored = await Trade.objects.filter(exchange=account).acount()
    connector = ExchangeConnector(account)
    connected = asyncio.Event()

    async def on_connect():
        connected.set()

    stream = asyncio.create_task(AccountStream(account, connector.new_client, on_connect, symbols=account.symbols).run())
    try:
        await asyncio.wait_for(connected.wait(), 60)
        feed = simulator.simulator.feed
        await asyncio.wait_for(_until(lambda: simulator.thread.call(lambda: bool(feed.subscribers.get(account_name)))), 30)
        symbol = simulator.account(account_name).markets[0].symbol
        [posted] = await simulator.apost_trades({"account": account_name, "symbol": symbol, "side": "sell", "amount": "0.02", "price": "101"})
        await wait_for_count(account, stored + 1)  # pushed by the stream
        again = await arest_pass(account)  # and read by REST
    finally:
        stream.cancel()
        await asyncio.gather(stream, return_exceptions=True)
        await connector.close()

    truth = await simulator.atruth(account=account_name)
    assert again.new == 0
    assert posted["id"] in {t["id"] for t in truth}
    await sync_to_async(assert_trades_match_truth)(account, truth)
    assert await Trade.objects.filter(exchange=account).acount() == len(truth)


async def _until(condition) -> None:
    while not condition():
        await asyncio.sleep(0.05)
