"""In a browser: a position page draws the price chart with lightweight-charts (served from the
project's static files), the venue's candles and one marker per trade of the position. The trades
and the candles come from the same simulator, through the real ccxt; the web server is a subprocess."""


import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from exchanges.simulator.testing import BINANCE
from positions.models import Position
from positions.selectors import position_trades

from ..passes import rest_pass
from .browser import ARTIFACTS, asgi_server, chromium_page, in_thread
from .test_position_chart import busiest_position
from .test_position_chart import simulator_config  # noqa: F401  (a small history, no trickle)

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-long-operator-password"


@pytest.fixture(scope="module")
def server(django_db_setup):
    with asgi_server() as url:
        yield url


@pytest.fixture
def page(transactional_db):
    with chromium_page(1280, 1000) as page:
        yield page


@pytest.fixture
def position(simulated_accounts) -> Position:
    get_user_model().objects.create_user("operator", password=PASSWORD, is_staff=True)
    rest_pass(simulated_accounts[BINANCE])
    return busiest_position(simulated_accounts[BINANCE])


def test_the_position_page_charts_candles_with_a_marker_per_trade(server, position, page):
    trades = in_thread(lambda: len(list(position_trades(position))))
    assert trades > 1
    page.goto(f"{server}/positions/{position.pk}/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{server}/positions/{position.pk}/")

    figure = page.locator("#position-chart")
    try:
        expect(figure).to_have_attribute("data-state", "ready", timeout=30_000)
    finally:
        page.screenshot(path=str(ARTIFACTS / "position-chart.png"), full_page=True)
    assert figure.get_attribute("data-markers") == str(trades)
    assert page.evaluate("window.positionChart.markers().length") == trades
    assert page.evaluate("window.positionChart.markers().every(m => m.shape === 'arrowUp' || m.shape === 'arrowDown')")
    assert int(figure.get_attribute("data-candles")) > 0
    assert page.locator("#position-chart canvas").count() > 0
    # the chart sits in the live part's slot, between the detail table and the trades
    assert page.evaluate("document.querySelector('#position-live #position-chart') !== null")
