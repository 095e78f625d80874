"""`sync` and `audit` answer bad input with one line, carry on past an account that fails, and exit
non-zero at the end when any did."""

import asyncio
import os
import subprocess
import sys
from io import StringIO

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections

from exchanges.models import ExchangeAccount
from exchanges.simulator.testing import BINANCE, BYBIT
from exchanges.venues import VENUES
from trades.models import Trade

pytestmark = pytest.mark.django_db(transaction=True)

KNOWN_VENUES = ", ".join(VENUES)  # every registered venue, in the registry's order


@pytest.fixture(autouse=True)
def _close_the_commands_connections():
    """The commands reach the database from asgiref's worker thread, whose connection would keep
    the test database from being dropped."""
    yield
    asyncio.run(sync_to_async(connections.close_all)())


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize("command", ["sync", "audit"])
def test_a_date_that_is_not_iso_is_one_line_saying_what_to_write(command):
    with pytest.raises(CommandError) as raised:
        run(command, "--since", "yesterday")
    assert str(raised.value) == "--since 'yesterday' is not a date: write an ISO date such as 2024-01-31 or 2024-01-31T12:00 (UTC unless an offset is given)"


@pytest.mark.skipif("DATABASE_URL" not in os.environ, reason="would start the embedded PostgreSQL")
def test_from_the_command_line_a_bad_date_is_one_line_and_no_traceback():
    done = subprocess.run(
        [sys.executable, "manage.py", "sync", "--since", "yesterday"], cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "CommandError: --since 'yesterday' is not a date: write an ISO date such as 2024-01-31 or 2024-01-31T12:00 (UTC unless an offset is given)"
    ]


@pytest.mark.parametrize("command", ["sync", "audit"])
def test_an_unknown_account_names_the_known_ones(command, simulated_accounts):
    with pytest.raises(CommandError) as raised:
        run(command, "--account", "binance")
    assert str(raised.value) == f"no account named 'binance'; the accounts are: {BINANCE}, {BYBIT}"


@pytest.fixture
def one_refused_one_unsupported(simulator, simulated_accounts):
    """binance_spot's secret refused by the simulator, an account on no supported venue (stored
    before accounts were validated), and bybit_perp as it should be, with a trade to read."""
    refused = simulated_accounts[BINANCE]
    refused.api_secret = "not-the-secret"
    refused.save()
    ExchangeAccount.objects.create(name="a_krakenx", venue="krakenx_spot", api_key="k", api_secret="s", symbols=["BTC/USDT"], base_url=simulator.base_url)
    simulator.post_trades({"account": BYBIT, "symbol": "BTC/USDT:USDT", "side": "buy", "amount": "0.01", "price": "60000"})
    return simulated_accounts


def test_sync_carries_on_past_failing_accounts_and_exits_non_zero(one_refused_one_unsupported):
    with pytest.raises(CommandError) as raised:
        run("sync")
    assert str(raised.value) == f"2 of 3 accounts failed: a_krakenx, {BINANCE} (see above); the others synced"
    assert Trade.objects.filter(exchange=one_refused_one_unsupported[BYBIT]).exists()


def test_sync_says_why_each_account_failed(one_refused_one_unsupported, capsys):
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError):
        call_command("sync", stdout=out, stderr=err)
    failures = [line for line in err.getvalue().splitlines() if " failed: " in line or " stopped: " in line]
    assert failures[0] == f"a_krakenx failed: UnsupportedAccount: krakenx_spot is not a venue the tracker supports; the venues are: {KNOWN_VENUES}"
    assert failures[1].startswith(f"{BINANCE} stopped: ") and "AuthenticationError" in failures[1]
    assert "not-the-secret" not in err.getvalue()
    assert out.getvalue().splitlines()[-1].startswith(f"{BYBIT}: 1 fetched, 1 new")


def test_audit_carries_on_past_failing_accounts_and_exits_non_zero(one_refused_one_unsupported):
    run("sync", "--account", BYBIT)
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("audit", stdout=out, stderr=err)
    assert str(raised.value) == f"2 of 3 accounts failed: a_krakenx, {BINANCE} (see above); the others were audited"
    assert f"{BYBIT}: 1 trades read back" in out.getvalue() and "0 missing" in out.getvalue()
    assert f"{BINANCE} failed: AccountStopped: " in err.getvalue()
