"""The per-account sync lock: held while its holder runs, however long; released soon after it dies."""

import signal
import time

import pytest

from trades.locks import account_lock

from ..ground_truth import wait_until
from ..processes import start_python

HOLD_AND_WAIT = """
import sys, time, django
django.setup()
from trades.locks import account_lock
with account_lock(424242, seconds=1) as held:
    print("held" if held else "not held", flush=True)
    time.sleep(600)
"""


@pytest.fixture
def broker(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/9"
    return settings.CELERY_BROKER_URL


def test_a_lock_is_held_past_its_expiry_while_its_holder_runs(broker):
    with account_lock(424241, seconds=1) as held:
        assert held
        time.sleep(2.5)  # more than twice the expiry: renewed meanwhile
        with account_lock(424241, seconds=1) as again:
            assert not again
    with account_lock(424241, seconds=1) as after:
        assert after


def test_a_lock_whose_holder_is_killed_frees_itself(broker):
    holder = start_python("-c", HOLD_AND_WAIT, env={"CELERY_BROKER_URL": broker})
    try:
        assert holder.stdout.readline().strip() == "held"
        with account_lock(424242, seconds=1) as taken:
            assert not taken
        holder.send_signal(signal.SIGKILL)
        holder.wait()

        def free():
            with account_lock(424242, seconds=1) as taken:
                return taken

        wait_until(free, timeout=10, interval=0.2, message="the dead holder's lock expired")
    finally:
        holder.kill()
        holder.communicate()
