"""The JSON API: `/api/`, its OpenAPI schema at `/api/openapi.json`, its docs at `/api/docs`.
Read-only; every data endpoint needs an API token (`Authorization: Bearer <token>`)."""

from django.urls import path, re_path
from ninja import NinjaAPI

from . import errors
from .accounts import router as accounts_router
from .auth import TokenAuth
from .funding import router as funding_router
from .positions import router as positions_router
from .trades import router as trades_router

api = NinjaAPI(
    title="Trade tracker",
    version="1",
    description="Trades, funding payments, positions, marks and sync health of the tracked exchange accounts. Read-only. "
    "Decimals are strings; times are ISO 8601 in UTC. Send `Authorization: Bearer <token>`; tokens are "
    "issued in the admin or with `manage.py api_token create USERNAME`.",
    auth=TokenAuth(),
    urls_namespace="api",
)
errors.install(api)
api.add_router("", accounts_router)
api.add_router("", trades_router)
api.add_router("", funding_router)
api.add_router("", positions_router)

api_urls = api.urls
for endpoint in api_urls[0]:
    endpoint.callback = errors.json_method_not_allowed(endpoint.callback)

urlpatterns = [
    path("", api_urls),
    re_path(r"^.*$", errors.api_path_not_found),
]
