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
    "issued in the admin or with `manage.py api_token create USERNAME`.\n\n"
    "**Live stream (WebSocket, not an HTTP route): `/ws/stream/`.** Connect with the same token "
    "(`Authorization: Bearer <token>`) and send one subscription, each part optional: "
    '`{"accounts": ["binance_spot"], "bots": ["grid-1"], "symbols": ["BTC/USDT"], "kinds": ["trade", "position"], "resume_after": 1234}`. '
    'The answer is `{"type": "subscribed", "sequence": S}`, then one message per event after S, in order: '
    '`{"type": "event", "sequence": N, "kind": "trade" | "position" | "funding" | "mark" | "alarm", "account_id", "account", '
    '"bot_instance_id", "symbol", "market_symbol", "committed_at", "data": {...}}`; `data` has the fields of this API\'s trade, '
    "position (its full state, `removed` when a replay refolds it), mark, funding payment, or the alarm (`alarm`, `state`: raised "
    "or cleared, `reason`). Sequences only grow, in commit order: resuming with the last one received sends every event missed, "
    "none twice, then live ones. A token sees the kinds its user may view, and only its accounts' events when it is limited to "
    'some. A bad subscription: `{"type": "error", "code": "bad_subscription" | "forbidden" | "unauthorized" | "history_gone", '
    '"detail": "..."}` and the socket closes (4400, 4401, or 4410 for a `resume_after` older than the history kept: read the state '
    "again here, then subscribe without it). `api.stream_client.stream` is a Python client with reconnect and resume.",
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
