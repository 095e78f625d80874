"""A real browser against the ASGI server: Playwright driving Debian's chromium, the recommended
server (tracker_project/web_server.py: uvicorn) in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import sync_playwright

from tracker_project import web_server

from ..processes import PROJECT_DIR, test_database_url

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = PROJECT_DIR / "test-artifacts"
# The server and the test process share this channel layer, so a trade stored here reaches the page.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@contextmanager
def chromium_page(width: int, height: int):
    """A page of Debian's chromium (headless) at that viewport, closed afterwards."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def asgi_server(env: dict | None = None):
    """The web server serving the project on the test database (with `env` added to its
    environment); yields its base URL."""
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / "web-server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            web_server.command("127.0.0.1", port),
            cwd=PROJECT_DIR,
            env={**os.environ, "DATABASE_URL": test_database_url(), "REDIS_URL": REDIS_URL, "DJANGO_SETTINGS_MODULE": "tracker_project.settings", **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_listening(process, port, log_path)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=10)


def _wait_until_listening(process: subprocess.Popen, port: int, log_path: Path, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the web server exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the web server did not listen on {port} within {limit}s:\n{log_path.read_text()}")


def in_thread(function, *args, **kwargs):
    """Run database code off the test's thread: Playwright's sync API keeps an event loop running
    there, where Django refuses synchronous queries."""

    def call():
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()
