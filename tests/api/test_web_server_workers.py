"""The web server's workers: their database connections kept in a pool, never one PostgreSQL has
closed handed out; what they loaded kept out of the garbage collector's passes."""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from api.models import ApiToken
from trades.ingest import ingest_trades
from tracker_project import web_server

from ..factories import binance_trade
from ..ground_truth import wait_until
from ..pages.browser import free_port
from ..processes import PROJECT_DIR
from ..processes import test_database_url as database_url

APPLICATION_NAME = "tracker-web-server-test"


@pytest.fixture
def server():
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "tracker_project.settings", "PGAPPNAME": APPLICATION_NAME}
    env.pop("DB_POOL_SIZE", None)
    process = subprocess.Popen(web_server.command("127.0.0.1", port, access_log=False), cwd=PROJECT_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def trades_page(port: int, token: str) -> tuple[int, list[str]]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/trades", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, [t["exchange_trade_id"] for t in json.loads(response.read())["items"]]
    except urllib.error.HTTPError as error:
        return error.code, []
    except OSError:
        return 0, []


def server_connections() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s", [APPLICATION_NAME])
        return {pid for (pid,) in cursor.fetchall()}


@pytest.fixture
def token(transactional_db, account):
    ingest_trades(account, [binance_trade(1)])
    user = get_user_model().objects.create_user("reader", is_superuser=True)
    return ApiToken.issue(user, "tests")[1]


def test_requests_reuse_the_pooled_connections(server, token):
    assert wait_until(lambda: trades_page(server, token) == (200, ["BTCUSDT:1"]), message="the server answering")
    pooled = server_connections()

    for _ in range(20):
        assert trades_page(server, token) == (200, ["BTCUSDT:1"])

    assert pooled
    assert server_connections() == pooled


def test_connections_postgresql_closed_are_replaced_not_handed_out(server, token):
    assert wait_until(lambda: trades_page(server, token) == (200, ["BTCUSDT:1"]), message="the server answering")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s", [APPLICATION_NAME])

    answers = [trades_page(server, token) for _ in range(10)]

    assert answers == [(200, ["BTCUSDT:1"])] * 10


def test_a_pool_and_persistent_connections_are_refused_together():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tracker_project.settings", "DB_POOL_SIZE": "2", "DB_CONN_MAX_AGE": "60"}

    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True)

    assert result.returncode != 0
    assert "DB_POOL_SIZE and DB_CONN_MAX_AGE: set one of them" in result.stderr


def test_a_worker_keeps_what_it_loaded_out_of_the_collectors_passes():
    import gc

    loaded = [object()]
    try:
        web_server.freeze_what_is_loaded()

        assert not any(o is loaded for o in gc.get_objects())
    finally:
        gc.unfreeze()
