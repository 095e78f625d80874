"""Every error the API gives is JSON: `{"detail": "<message>"}`, with `errors` beside it for 422."""

from __future__ import annotations

import logging

from django.http import Http404, JsonResponse
from ninja.errors import HttpError, ValidationError

logger = logging.getLogger(__name__)


def _location(loc) -> str:
    return ".".join(str(part) for part in loc)


def validation_error(request, exc: ValidationError):
    errors = [{"loc": _location(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))} for e in exc.errors]
    detail = "; ".join(f"{e['loc']}: {e['msg']}" for e in errors) or "invalid request"
    return JsonResponse({"detail": detail, "errors": errors}, status=422)


def http_error(request, exc: HttpError):
    return JsonResponse({"detail": str(exc)}, status=exc.status_code)


def not_found(request, exc: Http404):
    return JsonResponse({"detail": str(exc) or "not found"}, status=404)


def unexpected_error(request, exc: Exception):
    logger.exception("API error on %s %s", request.method, request.path)
    return JsonResponse({"detail": "internal error"}, status=500)


def install(api) -> None:
    api.add_exception_handler(ValidationError, validation_error)
    api.add_exception_handler(HttpError, http_error)
    api.add_exception_handler(Http404, not_found)
    api.add_exception_handler(Exception, unexpected_error)


def api_path_not_found(request, path=""):
    """For URLs under /api/ that name no endpoint."""
    return JsonResponse({"detail": "not found"}, status=404)
