"""In a browser: an operator logs in, sees a position, a trade is executed on the exchange simulator,
and the row changes without the page reloading. The whole chain is real: simulator -> ccxt -> `track`
(a subprocess) -> PostgreSQL -> Redis channel layer -> uvicorn -> the page's WebSocket."""


import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from exchanges.simulator.testing import BINANCE
from positions.models import Position

from ..ground_truth import wait_until
from ..processes import start_python
from .browser import ARTIFACTS, REDIS_URL, asgi_server, chromium_page

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-long-operator-password"


def execute_trade(simulator, amount: str, price: str) -> None:
    simulator.post_trades(
        {"account": BINANCE, "symbol": "BTC/USDT", "side": "buy", "amount": amount, "price": price, "fee": "0.01", "fee_coin": "USDT"}
    )


@pytest.fixture(scope="module")
def server(django_db_setup):
    with asgi_server() as url:
        yield url


@pytest.fixture
def shared_channel_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}


@pytest.fixture
def page(transactional_db):
    with chromium_page(1280, 800) as page:
        yield page


@pytest.fixture
def tracker(simulated_accounts):
    """`manage.py track` on the test database, broadcasting on the shared Redis channel layer."""
    process = start_python("manage.py", "track", env={"REDIS_URL": REDIS_URL, "SYNC_INTERVAL_SECONDS": "3600"})
    yield process
    process.terminate()
    process.communicate(timeout=30)


@pytest.fixture
def account(simulator, simulated_accounts, tracker):
    get_user_model().objects.create_user("operator", password=PASSWORD, is_staff=True)
    account = simulated_accounts[BINANCE]
    execute_trade(simulator, "0.1", "100")
    wait_until(lambda: Position.objects.filter(exchange=account, symbol="BTC/USDT", is_open=True).exists(), message="the first position")
    return account


@pytest.mark.usefixtures("shared_channel_layer")
def test_the_position_row_changes_live_as_a_trade_lands(server, simulator, account, page):
    page.goto(f"{server}/positions/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{server}/positions/")
    size = page.locator(f'#positions tr[data-key="{account.pk}::BTC/USDT"] td[data-field="size"]')
    # the simulated Binance BTC/USDT market: amount step 0.00001, tick 0.01 (exchanges/simulator/config.py)
    expect(size).to_have_text("0.10000 BTC")
    expect(page.locator("body")).to_have_attribute("data-live", "connected")
    page.evaluate("window.sameDocument = true")

    execute_trade(simulator, "0.2", "130")

    # drawn by the page's script from the socket's board, as the server's template draws it
    expect(size).to_have_text("0.30000 BTC", timeout=30_000)
    expect(size).to_have_attribute("title", "0.3")
    row = page.locator(f'#positions tr[data-key="{account.pk}::BTC/USDT"]')
    expect(row.locator('td[data-field="avg_price"]')).to_have_text("120.00")  # (0.1 x 100 + 0.2 x 130) / 0.3
    expect(row.locator('td[data-field="type"]')).to_have_text("spot")
    assert page.evaluate("window.sameDocument") is True
    page.screenshot(path=ARTIFACTS / "positions-live.png", full_page=True)

    page.click(f'#positions tr[data-key="{account.pk}::BTC/USDT"] a')
    expect(page.locator("#trades tbody tr")).to_have_count(2)
    # the price chart: the venue's candles and a marker for each of the two trades
    expect(page.locator("#position-chart")).to_have_attribute("data-state", "ready", timeout=30_000)
    expect(page.locator("#position-chart")).to_have_attribute("data-markers", "2")
    page.screenshot(path=ARTIFACTS / "position-page.png", full_page=True)
