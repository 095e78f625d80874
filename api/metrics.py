"""`/metrics`: the tracker's metrics in Prometheus' text format (`trades.metrics`), behind the API's
tokens: `Authorization: Bearer <token>` of a user who may read sync health."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from ninja.errors import AuthorizationError
from prometheus_client import CONTENT_TYPE_LATEST

from trades.metrics import metrics_text

from .auth import TokenAuth

SYNC_HEALTH_AUTH = TokenAuth("trades.view_streamhealth", "trades.view_synccursor")


def metrics(request):
    if request.method not in ("GET", "HEAD"):
        return JsonResponse({"detail": "Method not allowed: /metrics is read with GET"}, status=405, headers={"Allow": "GET, HEAD"})
    try:
        grant = SYNC_HEALTH_AUTH(request)
    except AuthorizationError as refused:
        return JsonResponse({"detail": refused.message}, status=403)
    if grant is None:
        return JsonResponse({"detail": "Unauthorized: send Authorization: Bearer <API token>"}, status=401, headers={"WWW-Authenticate": "Bearer"})
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)
