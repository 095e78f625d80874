import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker_project.settings")
django.setup(set_prefix=False)  # what django.core.asgi.get_asgi_application does, with our handler

from .middleware import ASGIHandler  # noqa: E402

django_asgi_app = ASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from .routing import channel_routes, websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
        "channel": channel_routes,
    }
)
