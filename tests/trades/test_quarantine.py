"""Bad payloads from the exchange, met by a real sync against the simulator: kept aside with the
reason, counted in sync health, shown in the admin, and the sync carries on. A trade id that comes
back with other content is an alarm, never an overwrite."""

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from api.models import ApiToken
from exchanges.connectors import ExchangeConnector
from exchanges.simulator.testing import BINANCE, BYBIT, TEST_CONFIG
from trades.models import RejectedTrade, Trade
from trades.normalize import stored_trade_id
from trades.sync import RestSync
from trades.synchronizer import TradeSynchronizer

from ..ground_truth import assert_positions_match_truth, assert_trades_match_truth, truth_id, wait_until

pytestmark = pytest.mark.django_db(transaction=True)
PROTOCOL = {BINANCE: "binance", BYBIT: "bybit"}


@pytest.fixture
def simulator_config():
    accounts = [{**account, "history": {"trades": 300, "days": 2}} for account in TEST_CONFIG["accounts"]]
    return {**TEST_CONFIG, "accounts": accounts}


def rest_pass(account, since=None):
    async def run():
        connector = ExchangeConnector(account)
        try:
            return await RestSync(account, connector.rest_client()).run(account.symbols, since=since)
        finally:
            await connector.close()

    return async_to_sync(run)()


def stored_ids(account) -> set[str]:
    return set(Trade.objects.filter(exchange=account).values_list("exchange_trade_id", flat=True))


@pytest.mark.parametrize(
    "name, how, reason",
    [
        (BINANCE, "negative", "is not positive"),
        (BINANCE, "text", "is not a number"),
        (BYBIT, "missing", "none of execQty"),
        (BYBIT, "negative", "is not positive"),
    ],
)
def test_a_rest_pass_keeps_a_bad_payload_aside_and_carries_on(simulator, simulated_accounts, name, how, reason, capsys):
    account = simulated_accounts[name]
    truth = simulator.truth(account=name)
    simulator.faults({"action": "corrupt", "how": how, "protocol": PROTOCOL[name]})

    result = rest_pass(account)

    assert not result.stopped
    (rejected,) = RejectedTrade.objects.filter(exchange=account)
    assert reason in rejected.reason
    assert rejected.exchange_trade_id == stored_trade_id(account.venue_object, rejected.raw)  # as it would have been stored
    assert stored_ids(account) == {truth_id(account, t) for t in truth} - {rejected.exchange_trade_id}
    assert result.new == len(truth) - 1

    # The gap audit finds exactly the trade kept aside, and stores the exchange's good copy of it.
    call_command("audit", account=name, since=timezone.now() - timedelta(days=3), repair=True)
    assert "1 missing, 1 repaired" in capsys.readouterr().out
    assert_trades_match_truth(account, truth)
    assert_positions_match_truth(account, truth)


def test_the_stream_keeps_bad_events_aside_and_the_rest_path_stores_the_good_copies(simulator, simulated_accounts):
    simulator.faults({"action": "corrupt", "on": "ws", "count": 2})

    async def track():
        connectors = {name: ExchangeConnector(account) for name, account in simulated_accounts.items()}
        synchronizer = TradeSynchronizer(connectors, interval_seconds=2)
        await synchronizer.start({name: account.symbols for name, account in simulated_accounts.items()})
        try:
            await asyncio.to_thread(wait_until, lambda: simulator.stats()["open_websockets"] == 2, 60, 0.1, "streams connected")
            truth = await asyncio.to_thread(lambda: simulator.truth())
            for n in range(6):
                await simulator.apost_trades(
                    {"account": BINANCE, "symbol": "BTC/USDT", "side": "buy", "amount": "0.001", "price": str(60000 + n)},
                    {"account": BYBIT, "symbol": "ETH/USDT:USDT", "side": "sell", "amount": "0.1", "price": str(3000 + n)},
                )
            made = len(truth) + 12
            await asyncio.to_thread(wait_until, lambda: Trade.objects.count() == made, 90, 0.2, "every trade stored")
        finally:
            await synchronizer.stop()

    async_to_sync(track)()

    assert RejectedTrade.objects.count() == 2
    assert all("not positive" in r.reason for r in RejectedTrade.objects.all())
    for name, account in simulated_accounts.items():
        truth = simulator.truth(account=name)
        assert_trades_match_truth(account, truth)
        assert_positions_match_truth(account, truth)


def test_an_id_read_again_with_other_content_is_an_alarm_and_the_stored_trade_stays(simulator, simulated_accounts, caplog):
    account = simulated_accounts[BINANCE]
    truth = simulator.truth(account=BINANCE)
    rest_pass(account)
    simulator.faults({"action": "corrupt", "how": "altered", "protocol": "binance"})

    result = rest_pass(account, since=timezone.now() - timedelta(days=3))

    assert not result.stopped and result.new == 0
    (rejected,) = RejectedTrade.objects.filter(exchange=account)
    assert "reused with different content" in rejected.reason and "amount" in rejected.reason
    assert "ALARM" in caplog.text and rejected.exchange_trade_id in caplog.text
    assert_trades_match_truth(account, truth)  # the first copy, untouched
    assert_positions_match_truth(account, truth)


def test_kept_aside_payloads_are_counted_in_sync_health_and_listed_in_the_admin(client, simulated_accounts):
    account = simulated_accounts[BINANCE]
    for trade_id in ("17", "18"):
        RejectedTrade.objects.create(exchange=account, exchange_trade_id=trade_id, reason=f"amount: qty='n/a' is not a number ({trade_id})", raw={})
    operator = get_user_model().objects.create_user("operator", is_staff=True, is_superuser=True)
    token = ApiToken.issue(operator)[1]

    health = client.get("/api/sync-health", headers={"Authorization": f"Bearer {token}"}).json()
    client.force_login(operator)
    admin = client.get("/admin/trades/rejectedtrade/").content.decode()

    assert {h["account"]: h["rejected_trades"] for h in health} == {BINANCE: 2, BYBIT: 0}
    assert "is not a number (17)" in admin and "is not a number (18)" in admin
    assert client.get(f"/admin/trades/rejectedtrade/{RejectedTrade.objects.first().pk}/change/").status_code == 200
