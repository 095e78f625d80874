"""In a browser: the board shows an account that is still backfilling a large history, how far it has
got and when it will be done, and stops showing it once the backfill is complete. `track` (a
subprocess) backfills from the simulator at Binance's real request spacing."""

import re
import subprocess

import pytest
from django.contrib.auth import get_user_model

from exchanges.simulator.testing import BINANCE
from trades.models import Trade

from ..processes import start_python
from .browser import REDIS_URL, asgi_server, chromium_page, in_thread

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-long-operator-password"
HISTORY_TRADES = 100_000  # 100 pages of myTrades: at least 20 s at Binance's spacing
PROGRESS = re.compile(r"^(\d+) % read, ([\d,]+) trades, this symbol done in .+ \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\)$")


@pytest.fixture
def simulator_config():
    return {
        "seed": 7,
        "accounts": [{"name": BINANCE, "protocol": "binance", "markets": ["BTC/USDT"], "history": {"trades": HISTORY_TRADES, "days": 30}}],
    }


@pytest.fixture
def page(transactional_db):
    with chromium_page(1600, 900) as page:
        yield page


@pytest.fixture
def server(transactional_db):
    get_user_model().objects.create_user("operator", password=PASSWORD, is_staff=True)
    with asgi_server() as url:
        yield url


def start_tracking():
    return start_python("manage.py", "track", env={"REDIS_URL": REDIS_URL, "SYNC_INTERVAL_SECONDS": "3600"})


def shown_progress(text: str) -> tuple[int, int] | None:
    """(percent read, trades) from the cell's text; None when it shows no backfill."""
    match = PROGRESS.match(text)
    assert match or not text, text
    return (int(match[1]), int(match[2].replace(",", ""))) if match else None


def read_until(page, cell, wanted, reads: int = 600) -> str:
    """Reload the board every half second until the cell's text is `wanted`; a bound on waiting."""
    for _ in range(reads):
        page.reload()
        text = cell.inner_text().strip()
        if wanted(text):
            return text
        page.wait_for_timeout(500)
    raise AssertionError(f"the backfill cell never showed what was expected; last: {text!r}")


def test_the_board_shows_a_backfills_progress_while_a_large_history_loads(simulator, simulated_accounts, server, page):
    page.goto(f"{server}/positions/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{server}/positions/")
    cell = page.locator(f'#health tr[data-key="{BINANCE}"] td[data-field="backfill"]')
    assert cell.inner_text().strip() == ""  # not begun
    tracker = start_tracking()
    try:
        first_share, first_trades = shown_progress(read_until(page, cell, lambda text: bool(text)))
        assert 0 <= first_share < 100 and 0 < first_trades < HISTORY_TRADES

        # further on, or already done
        later = shown_progress(read_until(page, cell, lambda text: not text or shown_progress(text)[1] > first_trades))
        if later is not None:
            assert later[0] >= first_share

        read_until(page, cell, lambda text: not text)  # complete: the column is empty again
        assert in_thread(lambda: Trade.objects.filter(exchange=simulated_accounts[BINANCE]).count()) == HISTORY_TRADES
    finally:
        tracker.terminate()
        try:
            tracker.communicate(timeout=30)
        except subprocess.TimeoutExpired:  # what this test checks is done; the machine may be slow
            tracker.kill()
            tracker.communicate()
