"""The gap audit against the simulator: stored trades deleted behind the tracker's back are reported,
exactly those, and `--repair` stores them again, with positions equal to the fold once more."""

import random
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from exchanges.connectors import ExchangeConnector
from exchanges.simulator.testing import BINANCE, BYBIT, TEST_CONFIG
from trades import tasks
from trades.health import sync_health
from trades.models import StreamEvent, StreamHealth, SyncCursor, Trade
from trades.schedule import ensure_beat_schedule
from trades.sync import RestSync

from ..ground_truth import assert_positions_match_truth, assert_trades_match_truth

pytestmark = pytest.mark.django_db(transaction=True)
SINCE = timedelta(days=3)


@pytest.fixture
def simulator_config():
    accounts = [{**account, "history": {"trades": 400, "days": 2}} for account in TEST_CONFIG["accounts"]]
    return {**TEST_CONFIG, "accounts": accounts}


@pytest.fixture
def synced(simulator, simulated_accounts):
    """Both accounts fully synced by a REST pass."""
    for account in simulated_accounts.values():

        async def run(account=account):
            connector = ExchangeConnector(account)
            try:
                return await RestSync(account, connector.rest_client()).run(account.symbols)
            finally:
                await connector.close()

        assert not async_to_sync(run)().stopped
    return simulated_accounts


def delete_some(account, count: int, seed: int = 1) -> list[str]:
    """Delete stored trades from anywhere in the history, as a bug or a hand in the database would."""
    ids = sorted(Trade.objects.filter(exchange=account).values_list("exchange_trade_id", flat=True))
    gone = sorted(random.Random(seed).sample(ids, count), key=lambda i: (len(i), i))
    Trade.objects.filter(exchange=account, exchange_trade_id__in=gone).delete()
    return gone


def since() -> str:
    return (timezone.now() - SINCE).isoformat()


@pytest.mark.parametrize("name", [BINANCE, BYBIT])
def test_the_audit_reports_exactly_the_missing_trades(simulator, synced, name, capsys):
    account = synced[name]
    gone = delete_some(account, 5)

    with pytest.raises(CommandError, match="5 trades missing; run with --repair"):
        call_command("audit", "--account", name, "--since", since())

    out = capsys.readouterr().out
    reported = [i for line in out.splitlines() if line.startswith("  ") for i in line.split(": ", 1)[1].split(", ")]
    assert sorted(reported, key=lambda i: (len(i), i)) == gone
    assert f"{name}: 400 trades read back" in out and "5 missing" in out
    assert Trade.objects.filter(exchange=account).count() == 395  # reporting stores nothing
    health = StreamHealth.objects.get(account=account)
    assert (health.last_audit_checked, health.last_audit_missing) == (400, 5)


@pytest.mark.parametrize("name", [BINANCE, BYBIT])
def test_repair_stores_them_again_and_positions_equal_the_fold(simulator, synced, name, capsys):
    account = synced[name]
    truth = simulator.truth(account=name)
    cursors = list(SyncCursor.objects.filter(account=account).values_list("symbol", "last_trade_id", "resume"))
    delete_some(account, 7, seed=2)

    call_command("audit", "--account", name, "--since", since(), "--repair")

    assert "7 missing, 7 repaired" in capsys.readouterr().out
    assert_trades_match_truth(account, truth)
    assert_positions_match_truth(account, truth)
    assert list(SyncCursor.objects.filter(account=account).values_list("symbol", "last_trade_id", "resume")) == cursors

    call_command("audit", "--account", name, "--since", since())  # nothing missing now: no error
    assert "0 missing" in capsys.readouterr().out


@pytest.mark.parametrize("name", [BINANCE, BYBIT])
def test_only_the_range_asked_for_is_read_back(simulator, synced, name):
    account = synced[name]
    delete_some(account, 3)
    call_command("audit", "--account", name, "--since", timezone.now().isoformat())  # after the whole history
    assert StreamHealth.objects.get(account=account).last_audit_checked == 0


def test_the_daily_task_repairs_every_account_and_sync_health_shows_it(simulator, synced, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/9"
    for account in synced.values():
        delete_some(account, 4)

    results = [tasks.audit_account(account.pk, hours=72) for account in synced.values()]

    assert [(r["missing"], r["repaired"]) for r in results] == [(4, 4), (4, 4)]
    for name, account in synced.items():
        truth = simulator.truth(account=name)
        assert_trades_match_truth(account, truth)
        assert_positions_match_truth(account, truth)
    health = {h.account: h for h in sync_health(now=timezone.now())}
    assert {name: (h.last_audit_checked, h.last_audit_missing) for name, h in health.items()} == {BINANCE: (400, 4), BYBIT: (400, 4)}
    assert all(h.last_audit_at for h in health.values())


def test_the_beat_schedule_runs_the_audit_daily(simulated_accounts):
    ensure_beat_schedule()
    task = PeriodicTask.objects.get(task="trades.tasks.audit_all_accounts")
    assert task.enabled and task.crontab is not None
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("17", "3", "*")


@pytest.mark.parametrize("name", [BINANCE, BYBIT])
def test_a_stored_trade_that_differs_from_the_exchange_fails_the_audit_and_repair_leaves_it(simulator, synced, name, capsys):
    account = synced[name]
    altered = Trade.objects.filter(exchange=account).order_by("timestamp", "exchange_trade_id")[17]
    stored_amount = altered.amount * 2
    Trade.objects.filter(pk=altered.pk).update(amount=stored_amount)

    for repair in ([], ["--repair"]):
        with pytest.raises(CommandError, match="1 stored trades differ from the exchange's; --repair never overwrites one"):
            call_command("audit", "--account", name, "--since", since(), *repair)
        out = capsys.readouterr().out
        assert f"{name}: 400 trades read back" in out and "0 missing" in out and "1 differ" in out
        assert f"{altered.market_symbol} {altered.exchange_trade_id} differs: amount stored {stored_amount.normalize():f}, exchange {altered.amount.normalize():f}" in out
        assert Trade.objects.get(pk=altered.pk).amount == stored_amount  # never overwritten
    health = {h.account: h for h in sync_health(now=timezone.now())}[name]
    assert (health.last_audit_checked, health.last_audit_missing, health.last_audit_differing) == (400, 0, 1)
    alarms = StreamEvent.objects.filter(kind="alarm", account_id=account.pk).order_by("sequence")
    assert [(a.data["alarm"], a.data["state"], a.data["trade_ids"]) for a in alarms] == [("audit_differs", "raised", [altered.exchange_trade_id])] * 2
