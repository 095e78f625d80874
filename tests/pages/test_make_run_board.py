"""What `make run` starts is live: `manage.py run_demo` itself (the simulator with its accounts
registered, `track`, the web server), with `make run`'s environment (no REDIS_URL: the channel layer
is PostgreSQL's), on the test database. A trade made on the simulator reaches the board, and a
position's page, in a real browser without a reload, over the socket the page opened first."""

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest
from playwright.sync_api import expect, sync_playwright

from exchanges.simulator.testing import BINANCE, TEST_CONFIG

from ..ground_truth import wait_until
from .. import processes
from .browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# Counts the sockets the page opens: a board that only catches up by reconnecting is not live.
COUNT_SOCKETS = """
const PageWebSocket = window.WebSocket;
window.socketsOpened = 0;
window.WebSocket = function (...args) { window.socketsOpened += 1; return new PageWebSocket(...args); };
window.WebSocket.prototype = PageWebSocket.prototype;
"""


class Demo:
    def __init__(self, process: subprocess.Popen, web_url: str, simulator_url: str, var_dir, log_path):
        self.process, self.web_url, self.simulator_url = process, web_url, simulator_url
        self.var_dir, self.log_path = var_dir, log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def operator_password(self) -> str:
        return (self.var_dir / "operator_password").read_text().strip()

    def execute_trade(self, amount: str, price: str) -> None:
        trade = {"account": BINANCE, "symbol": "BTC/USDT", "side": "buy", "amount": amount, "price": price, "fee": "0.01", "fee_coin": "USDT"}
        request = urllib.request.Request(
            self.simulator_url + "/_sim/trades", data=json.dumps({"trades": [trade]}).encode(), method="POST", headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture
def demo(transactional_db, tmp_path):
    """`manage.py run_demo` in a session of its own, stopped like Ctrl-C, then killed with whatever
    it started if it has not stopped."""
    web_port, simulator_port = free_port(), free_port()
    config = tmp_path / "simulator.json"
    config.write_text(json.dumps(TEST_CONFIG))
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env.update(DATABASE_URL=processes.test_database_url(), DJANGO_SETTINGS_MODULE="tracker_project.settings", TRACKER_VAR_DIR=str(tmp_path / "var"))
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / "make-run.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run_demo", "--web-port", str(web_port), "--simulator-port", str(simulator_port), "--simulator-config", str(config)],
            cwd=processes.PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    demo = Demo(process, f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{simulator_port}", tmp_path / "var", log_path)
    try:
        wait_until(lambda: process.poll() is not None or listening(web_port), timeout=120, message="the web server of run_demo")
        assert process.poll() is None, f"run_demo exited with {process.returncode}:\n{demo.log()}"
        yield demo
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=10)


@pytest.fixture
def page():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.add_init_script(COUNT_SOCKETS)
            yield page
        finally:
            browser.close()


def log_in(demo: Demo, page) -> None:
    page.goto(f"{demo.web_url}/positions/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", demo.operator_password())
    page.click("input[type=submit]")
    page.wait_for_url(f"{demo.web_url}/positions/")


def test_a_trade_on_the_simulator_reaches_the_board_that_make_run_serves(demo, page):
    log_in(demo, page)
    expect(page.locator("body")).to_have_attribute("data-live", "connected")
    expect(page.locator("#live")).to_have_text("live")
    page.evaluate("window.sameDocument = true")
    btc = page.locator("#positions tbody tr", has_text="BTC/USDT")
    expect(btc).to_have_count(0)

    demo.execute_trade("0.1", "100")

    try:
        expect(btc.locator('td[data-field="size"]')).to_contain_text("0.1", timeout=60_000)
    except AssertionError:
        page.screenshot(path=ARTIFACTS / "make-run-board.png", full_page=True)
        raise AssertionError(f"the trade did not reach the board; run_demo's log:\n{demo.log()}") from None
    assert page.evaluate("window.sameDocument") is True
    assert page.evaluate("window.socketsOpened") == 1
    expect(page.locator("body")).to_have_attribute("data-live", "connected")
    page.screenshot(path=ARTIFACTS / "make-run-board.png", full_page=True)


def test_a_trade_on_the_simulator_reaches_the_position_page_that_make_run_serves(demo, page):
    log_in(demo, page)
    demo.execute_trade("0.1", "100")
    link = page.locator("#positions tbody tr", has_text="BTC/USDT").locator("a")
    expect(link).to_have_count(1, timeout=60_000)
    link.click()
    page.wait_for_url(f"{demo.web_url}/positions/*/")
    expect(page.locator("body")).to_have_attribute("data-live", "connected")
    expect(page.locator("#live")).to_have_text("live")
    expect(page.locator("#trades tbody tr")).to_have_count(1)
    page.evaluate("window.sameDocument = true")

    demo.execute_trade("0.2", "130")

    try:
        expect(page.locator("#trades tbody tr")).to_have_count(2, timeout=60_000)
    except AssertionError:
        page.screenshot(path=ARTIFACTS / "make-run-position.png", full_page=True)
        raise AssertionError(f"the trade did not reach the position page; run_demo's log:\n{demo.log()}") from None
    # the simulated Binance BTC/USDT market: amount step 0.00001, tick 0.01 (exchanges/simulator/config.py)
    expect(page.locator('#facts [data-fact="size"]')).to_have_text("0.30000 BTC")
    expect(page.locator('#facts [data-fact="size"] span')).to_have_attribute("title", "0.3")
    expect(page.locator('#facts [data-fact="entry"]')).to_have_text("120.00")  # (0.1 x 100 + 0.2 x 130) / 0.3
    expect(page.locator('#facts [data-fact="trades"]')).to_have_text("2")
    assert page.evaluate("window.sameDocument") is True
    assert page.evaluate("window.socketsOpened") == 1
    expect(page.locator("body")).to_have_attribute("data-live", "connected")
    page.screenshot(path=ARTIFACTS / "make-run-position.png", full_page=True)
