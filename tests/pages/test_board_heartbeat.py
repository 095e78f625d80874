"""The board's heartbeat: it comes through the channel layer (PostgreSQL's, in the test process, as
under `make run`), and a socket whose heartbeats stop coming back is closed for the page to reconnect."""

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model

from positions.consumers import PositionsConsumer
from tracker_project.channel_layer import PostgresChannelLayer
from tracker_project.routing import websocket_urlpatterns

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("async_db")]


@pytest.fixture(autouse=True)
def fast_heartbeat(monkeypatch):
    monkeypatch.setattr(PositionsConsumer, "heartbeat_seconds", 0.2)


async def board_socket() -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/positions/", headers=[(b"origin", b"http://127.0.0.1")])
    communicator.scope["user"] = await sync_to_async(get_user_model().objects.create_user)("operator")
    return communicator


async def test_the_default_layer_without_redis_is_postgresql():
    assert isinstance(get_channel_layer(), PostgresChannelLayer)


async def test_heartbeats_follow_the_board():
    socket = await board_socket()
    await socket.connect()
    assert (await socket.receive_json_from(timeout=5))["type"] == "board"

    heartbeats = [await socket.receive_json_from(timeout=5) for _ in range(2)]

    assert heartbeats == [{"type": "heartbeat", "every": 0.2}] * 2
    await socket.disconnect()


async def test_a_socket_whose_heartbeats_stop_coming_back_is_closed(monkeypatch):
    socket = await board_socket()
    await socket.connect()
    await socket.receive_json_from(timeout=5)

    async def lost(self, channel, message):
        pass

    monkeypatch.setattr(PostgresChannelLayer, "send", lost)

    assert (await socket.receive_output(timeout=5))["type"] == "websocket.close"
