"""The distributed deployment's moving parts, each as a real process: a Celery worker on the Redis
broker running the sync task, and the Channels worker holding the streams."""

import os
import signal

import pytest

from exchanges.simulator.testing import BINANCE, BYBIT
from trades import tasks
from trades.locks import account_lock
from trades.models import StreamHealth, Trade
from tracker_project.celery import app as celery_app

from ..ground_truth import assert_trades_match_truth, wait_until
from ..processes import start_python

pytestmark = pytest.mark.django_db(transaction=True)
BROKER = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/9")


@pytest.fixture
def celery_worker_process(settings):
    settings.CELERY_BROKER_URL = BROKER
    celery_app.conf.broker_url = BROKER
    worker = start_python("-m", "celery", "-A", "tracker_project", "worker", "--pool", "solo", "--concurrency", "1", "--loglevel", "INFO", env={"CELERY_BROKER_URL": BROKER})
    yield worker
    worker.send_signal(signal.SIGTERM)
    try:
        worker.communicate(timeout=30)
    except Exception:
        worker.kill()


def test_the_sync_task_runs_on_a_real_worker_through_the_redis_broker(simulator, simulated_accounts, celery_worker_process):
    trades = [
        {"account": BINANCE, "symbol": "BTC/USDT", "side": "buy", "amount": "0.01", "price": "60000"},
        {"account": BYBIT, "symbol": "ETH/USDT:USDT", "side": "sell", "amount": "0.5", "price": "3000"},
    ]
    simulator.post_trades(*trades)

    for account in simulated_accounts.values():
        tasks.sync_account.delay(account.pk)

    wait_until(lambda: Trade.objects.count() == 2, timeout=120, message="trades stored by the worker")
    for name, account in simulated_accounts.items():
        assert_trades_match_truth(account, simulator.truth(account=name))


def test_a_sync_already_running_for_an_account_is_not_run_twice(simulator, simulated_accounts, settings):
    settings.CELERY_BROKER_URL = BROKER
    account = simulated_accounts[BINANCE]
    with account_lock(account.pk) as held:
        assert held
        assert tasks.sync_account(account.pk) == {"account": BINANCE, "skipped": True}
    assert tasks.sync_account(account.pk)["stopped"] == ""


def test_the_streams_worker_holds_streams_and_follows_accounts_being_disabled(simulator, simulated_accounts):
    worker = start_python("manage.py", "runworker", "exchange-streams", env={"ACCOUNT_RELOAD_SECONDS": "0.5"})
    try:
        wait_until(
            lambda: StreamHealth.objects.filter(ws_connected_since__isnull=False).count() == 2, timeout=60, message="both streams connected"
        )
        simulator.post_trades({"account": BINANCE, "symbol": "ETH/USDT", "side": "buy", "amount": "0.1", "price": "3000"})
        wait_until(lambda: Trade.objects.count() == 1, timeout=60, message="the streamed trade stored")

        simulated_accounts[BYBIT].enabled = False
        simulated_accounts[BYBIT].save()
        wait_until(
            lambda: StreamHealth.objects.get(account=simulated_accounts[BYBIT]).ws_connected_since is None,
            timeout=60,
            message="the disabled account's stream stopped",
        )
        assert StreamHealth.objects.get(account=simulated_accounts[BINANCE]).ws_connected_since is not None
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=30)
