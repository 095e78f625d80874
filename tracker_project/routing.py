from channels.routing import ChannelNameRouter

from trades.consumers import STREAMS_CHANNEL, ExchangeStreamsConsumer

websocket_urlpatterns: list = []

channel_routes = ChannelNameRouter({STREAMS_CHANNEL: ExchangeStreamsConsumer.as_asgi()})
