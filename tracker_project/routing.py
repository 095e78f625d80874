from channels.routing import ChannelNameRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from api.stream import ProgramStreamConsumer
from positions.consumers import PositionConsumer, PositionsConsumer
from trades.consumers import STREAMS_CHANNEL, ExchangeStreamsConsumer

websocket_urlpatterns: list = [
    # Session cookies authenticate these sockets, so only pages of this site may open them.
    path("ws/positions/", AllowedHostsOriginValidator(PositionsConsumer.as_asgi())),
    path("ws/positions/<int:position_id>/", AllowedHostsOriginValidator(PositionConsumer.as_asgi())),
    # Programs: an API token in the Authorization header, no cookie, so any origin (or none).
    path("ws/stream/", ProgramStreamConsumer.as_asgi()),
]

channel_routes = ChannelNameRouter({STREAMS_CHANNEL: ExchangeStreamsConsumer.as_asgi()})
