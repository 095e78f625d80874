"""Progress of a long read of history: the share of the time range read, trades so far, an ETA at the
venue's limit; shown as bars on a terminal and as one line per symbol elsewhere; kept on the cursor
with each page for the board."""

import io
import re
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command

from exchanges.simulator.testing import BINANCE, BYBIT, TEST_CONFIG
from trades import progress as progress_module
from trades.health import sync_health
from trades.models import SyncCursor, Trade
from trades.progress import PassProgress, ProgressDisplay, to_datetime

from ..passes import rest_pass

HOUR_MS = 3_600_000


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(progress_module.time, "monotonic", clock)
    return clock


def test_the_share_is_the_pagers_position_in_the_time_range(clock):
    progress = PassProgress("a", "BTC/USDT", start_ms=0, end_ms=10 * HOUR_MS)

    progress.advance(trades=1000, reached_ms=HOUR_MS)
    progress.advance(trades=1000, reached_ms=4 * HOUR_MS)

    assert progress.share == pytest.approx(0.4)
    assert progress.trades == 2000


def test_the_eta_is_the_pages_left_at_the_venues_spacing_when_pages_come_faster(clock):
    progress = PassProgress("a", "BTC/USDT", start_ms=0, end_ms=10 * HOUR_MS, spacing_seconds=0.5)
    for hour in (1, 2):
        clock.now += 0.1  # faster than the venue allows: the limiter will space the rest
        progress.advance(trades=1000, reached_ms=hour * HOUR_MS)

    assert progress.seconds_left == pytest.approx(8 * 0.5)  # an hour a page, 8 hours left


def test_the_eta_follows_the_pages_when_they_come_slower_than_the_limit(clock):
    progress = PassProgress("a", "BTC/USDT", start_ms=0, end_ms=10 * HOUR_MS, spacing_seconds=0.5)
    for hour in (2, 4):
        clock.now += 3.0
        progress.advance(trades=1000, reached_ms=hour * HOUR_MS)

    assert progress.seconds_left == pytest.approx(3 * 3.0)  # two hours a page, 6 hours left


def test_no_eta_before_the_pass_has_moved_in_time(clock):
    progress = PassProgress("a", "BTC/USDT", start_ms=0, end_ms=10 * HOUR_MS, spacing_seconds=0.5)
    assert progress.seconds_left is None
    progress.advance(trades=0, reached_ms=None)
    assert progress.seconds_left is None and progress.share == 0


def test_off_a_terminal_one_line_per_symbol_when_it_ends():
    lines = []
    display = ProgressDisplay(stream=io.StringIO(), write=lines.append, terminal=False)
    progress = PassProgress("binance_spot", "BTC/USDT", start_ms=0, end_ms=10 * HOUR_MS)
    with display:
        progress.advance(trades=1000, reached_ms=HOUR_MS)
        display.update(progress)
        assert lines == []
        progress.advance(trades=500, reached_ms=None, done=True)
        progress.finish()
        display.update(progress)

    assert len(lines) == 1
    assert lines[0].startswith("binance_spot BTC/USDT: 1,500 trades")


def test_on_a_terminal_a_bar_with_the_share_trades_and_eta(clock):
    screen = io.StringIO()
    display = ProgressDisplay(stream=screen, write=lambda line: None, terminal=True)
    progress = PassProgress("binance_spot", "BTC/USDT", start_ms=0, end_ms=10 * HOUR_MS, spacing_seconds=2.0)
    with display:
        clock.now += 0.1
        progress.advance(trades=1234, reached_ms=5 * HOUR_MS)
        display.update(progress)

    shown = screen.getvalue()
    assert "binance_spot BTC/USDT" in shown
    assert "50%" in shown
    assert "1,234 trades" in shown
    assert "ETA 0:00:02" in shown  # 5 hours left at 5 hours a page: 1 page at the 2 s spacing


@pytest.fixture
def simulator_config():
    config = {**TEST_CONFIG, "accounts": [dict(a, markets=a["markets"][:1]) for a in TEST_CONFIG["accounts"]]}
    for account in config["accounts"]:
        account["history"] = {"trades": 3500, "days": 10}
    return config


class Stop(Exception):
    pass


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", [BINANCE, BYBIT])
def test_the_cursor_keeps_the_progress_of_the_pages_stored(simulator, simulated_accounts, name):
    """The progress is written with each page: a pass cut short leaves the cursor saying exactly
    what its stored pages read, and the board shows the account as still backfilling."""
    account = simulated_accounts[name]
    seen = []

    def stop_after_three_pages(progress):
        seen.append((progress.trades, progress.share))
        if len(seen) == 3:
            raise Stop

    result = rest_pass(account, progress=stop_after_three_pages)
    assert list(result.errors) == account.symbols  # the pass ends there, as if cut short

    cursor = SyncCursor.objects.get(account=account)
    assert cursor.last_sync_at is None
    assert cursor.pass_trades == seen[-1][0]  # trades read, each page's overlap with the last included
    assert 0 < Trade.objects.filter(exchange=account).count() <= cursor.pass_trades
    assert abs(cursor.pass_from - account.backfill_since) < timedelta(milliseconds=1)
    assert cursor.pass_from < cursor.pass_reached < cursor.pass_until
    assert [share for _, share in seen] == sorted(share for _, share in seen)
    backfill = next(h for h in sync_health(now=cursor.pass_until) if h.account == name).backfill
    assert backfill is not None and 0 < backfill.share < 1 and backfill.trades == cursor.pass_trades


@pytest.mark.django_db(transaction=True)
def test_a_backfill_resumed_goes_on_from_its_progress_and_ends(simulator, simulated_accounts):
    account = simulated_accounts[BINANCE]
    pages = []

    def stop_after_two_pages(progress):
        pages.append(progress.trades)
        if len(pages) == 2:
            raise Stop

    rest_pass(account, progress=stop_after_two_pages)
    first = SyncCursor.objects.get(account=account)

    ends = []
    rest_pass(account, progress=lambda p: ends.append((p.finished, p.start_ms, p.trades)))

    cursor = SyncCursor.objects.get(account=account)
    finished, start_ms, trades = ends[-1]
    assert finished and to_datetime(start_ms) == first.pass_from
    # the resumed pass re-reads the last stored page's last trade (the pager's overlap of one)
    assert trades == cursor.pass_trades >= Trade.objects.filter(exchange=account).count() == 3500
    assert cursor.last_sync_at is not None
    assert next(h for h in sync_health(now=datetime.now(cursor.pass_until.tzinfo)) if h.account == BINANCE).backfill is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("command", ["sync", "audit"])
def test_the_commands_off_a_terminal_write_one_line_per_symbol_and_no_bar(simulator, simulated_accounts, command):
    out, err = io.StringIO(), io.StringIO()
    since = simulated_accounts[BINANCE].backfill_since.isoformat()
    call_command(command, "--account", BINANCE, "--since", since, *(["--repair"] if command == "audit" else []), stdout=out, stderr=err)

    lines = out.getvalue().splitlines()
    assert re.fullmatch(r"binance_spot BTC/USDT: 3,5\d\d trades \(\d[\d,]* new\) from \d{4}-\d\d-\d\d \d\d:\d\d in [\d.]+s", lines[0]), lines[0]
    assert lines[1].startswith(f"{BINANCE}: ")
    assert err.getvalue() == ""
