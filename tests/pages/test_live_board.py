"""In a browser: an operator logs in, sees a position, a trade is executed, and the row changes
without the page reloading."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect, sync_playwright

from trades.ingest import ingest_trades

from ..factories import binance_trade, make_account, make_market
from .browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, REDIS_URL, asgi_server, in_thread

pytestmark = pytest.mark.django_db(transaction=True)

T0 = 1_704_067_200_000
PASSWORD = "a-long-operator-password"


def execute_trade(account, trade: dict) -> None:
    """The trade source. For now the trade is ingested here, as a sync would store it; once the
    simulator's control API is there, this posts the trade to its `POST /_sim/trades` instead."""
    in_thread(ingest_trades, account, [trade])


@pytest.fixture(scope="module")
def server(django_db_setup):
    with asgi_server() as url:
        yield url


@pytest.fixture
def shared_channel_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}


@pytest.fixture
def page(transactional_db):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 800})
        finally:
            browser.close()


@pytest.fixture
def account(transactional_db):
    get_user_model().objects.create_user("operator", password=PASSWORD, is_staff=True)
    account = make_account(symbols=["BTC/USDT"])
    make_market(account, "BTC/USDT")
    ingest_trades(account, [binance_trade(1, amount="1", price="100", timestamp=T0)])
    return account


@pytest.mark.usefixtures("shared_channel_layer")
def test_the_position_row_changes_live_as_a_trade_lands(server, account, page):
    page.goto(f"{server}/positions/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{server}/positions/")
    size = page.locator(f'#positions tr[data-key="{account.pk}::BTC/USDT"] td[data-field="size"]')
    expect(size).to_have_text("1")
    expect(page.locator("body")).to_have_attribute("data-live", "connected")
    page.evaluate("window.sameDocument = true")

    execute_trade(account, binance_trade(2, amount="2", price="130", timestamp=T0 + 60_000))

    expect(size).to_have_text("3", timeout=20_000)
    row = page.locator(f'#positions tr[data-key="{account.pk}::BTC/USDT"]')
    expect(row.locator('td[data-field="avg_price"]')).to_have_text("120")
    expect(row.locator('td[data-field="last_trade"]')).to_have_text("2024-01-01 00:01:00")
    assert page.evaluate("window.sameDocument") is True
    page.screenshot(path=ARTIFACTS / "positions-live.png", full_page=True)

    page.click(f'#positions tr[data-key="{account.pk}::BTC/USDT"] a')
    expect(page.locator("#trades tbody tr")).to_have_count(2)
    expect(page.locator("svg.chart polyline")).to_have_count(2)
    page.screenshot(path=ARTIFACTS / "position-page.png", full_page=True)
