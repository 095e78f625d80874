"""Nobody in who does not belong: every operator page, admin page, API endpoint, operator socket and
program socket refuses anonymous visitors; API tokens are kept as hashes only."""

import hashlib
import re

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model

from api.models import ApiToken
from positions.models import Position
from tracker_project.asgi import application
from tracker_project.routing import websocket_urlpatterns

from ..factories import binance_trade, make_account, make_market
from .test_secrets import everything_in_the_database

OPERATOR_SOCKETS = ["/ws/positions/", "/ws/positions/{position_id}/"]
PROGRAM_SOCKETS = ["/ws/stream/"]  # an API token, not a session
OPERATOR_PAGES = ["/positions/", "/positions/{position_id}/", "/admin/", "/admin/exchanges/exchangeaccount/", "/admin/trades/trade/", "/admin/api/apitoken/"]


@pytest.fixture
def position(db):
    from trades.ingest import ingest_trades

    account = make_account()
    make_market(account, "BTC/USDT")
    ingest_trades(account, [binance_trade(1)])
    return Position.objects.get()


def api_paths(client) -> list[str]:
    schema = client.get("/api/openapi.json").json()
    return [re.sub(r"\{[^}]+\}", "1", path) for path in schema["paths"]]


@pytest.mark.django_db
@pytest.mark.parametrize("page", OPERATOR_PAGES)
def test_operator_pages_send_anonymous_visitors_to_the_login(client, position, page):
    response = client.get(page.format(position_id=position.pk))

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_every_api_endpoint_refuses_anonymous_callers(client, position):
    paths = api_paths(client)
    assert len(paths) >= 10

    refused = {path: client.get(path, {"symbol": "BTC/USDT", "since": "2024-01-01"}).status_code for path in paths}

    assert refused == {path: 401 for path in paths}


@pytest.mark.django_db
def test_a_logged_in_session_is_no_api_token(client, position):
    client.force_login(get_user_model().objects.create_user("operator", is_staff=True, is_superuser=True))

    assert {client.get(path).status_code for path in api_paths(client)} == {401}


def test_every_routed_socket_is_checked():
    unchecked = [
        str(route.pattern)
        for route in websocket_urlpatterns
        if not any(route.pattern.match(path.format(position_id=1).lstrip("/")) for path in OPERATOR_SOCKETS + PROGRAM_SOCKETS)
    ]

    assert unchecked == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("async_db")
@pytest.mark.parametrize("path", OPERATOR_SOCKETS)
async def test_operator_sockets_refuse_a_visitor_without_a_session(position, path):
    socket = WebsocketCommunicator(
        application, path.format(position_id=position.pk), headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    )

    connected, _ = await socket.connect()

    assert not connected


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("async_db")
@pytest.mark.parametrize("path", PROGRAM_SOCKETS)
async def test_program_sockets_refuse_a_caller_without_a_token_and_send_it_nothing(position, path):
    operator = await get_user_model().objects.acreate(username="operator", is_staff=True, is_superuser=True)
    socket = WebsocketCommunicator(application, path, headers=[(b"host", b"127.0.0.1")])
    socket.scope["user"] = operator  # a session is no token
    await socket.connect()
    await socket.send_json_to({"resume_after": 0})

    assert (await socket.receive_json_from(timeout=5))["code"] == "unauthorized"
    assert (await socket.receive_output(timeout=5)) == {"type": "websocket.close", "code": 4401}
    assert await socket.receive_nothing(timeout=1)


@pytest.mark.django_db
def test_api_tokens_are_stored_as_hashes_only(client):
    user = get_user_model().objects.create_user("operator", is_staff=True, is_superuser=True)
    api_token, token = ApiToken.issue(user, "bot")

    stored = ApiToken.objects.values_list("token_hash", "hint").get()

    assert stored == (hashlib.sha256(token.encode()).hexdigest(), token[:10])
    assert token not in everything_in_the_database()
    client.force_login(user)
    assert token not in client.get(f"/admin/api/apitoken/{api_token.pk}/change/").content.decode()
    assert token not in client.get("/admin/api/apitoken/").content.decode()
