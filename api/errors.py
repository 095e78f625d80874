"""Every error the API gives is JSON: `{"detail": "<message>"}`, with `errors` beside it for 422.

Those of its endpoints (`install`), those of its paths (`json_method_not_allowed` for a method a
path does not answer, `api_path_not_found` for a path that names nothing), and those Django gives
before any view runs, such as a 400 for a bad Host header (`django_error_handlers`).
"""

from __future__ import annotations

import functools
import logging

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, JsonResponse
from django.views import defaults
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


def suspicious_request(request, exc: SuspiciousOperation):
    """Django refuses to read the request (too many query parameters, a body too big): a 400."""
    return JsonResponse({"detail": f"bad request: {exc}" if str(exc) else "bad request"}, status=400)


def unexpected_error(request, exc: Exception):
    logger.exception("API error on %s %s", request.method, request.path)
    return JsonResponse({"detail": "internal error"}, status=500)


def install(api) -> None:
    api.add_exception_handler(ValidationError, validation_error)
    api.add_exception_handler(HttpError, http_error)
    api.add_exception_handler(Http404, not_found)
    api.add_exception_handler(SuspiciousOperation, suspicious_request)
    api.add_exception_handler(Exception, unexpected_error)


def api_path_not_found(request, path=""):
    """For URLs under /api/ that name no endpoint."""
    return JsonResponse({"detail": "not found"}, status=404)


def method_not_allowed(request, allowed: str) -> JsonResponse:
    response = JsonResponse({"detail": f"method {request.method} not allowed: the API is read-only; this path answers {allowed}"}, status=405)
    response["Allow"] = allowed
    return response


def json_method_not_allowed(view):
    """`view` (one of django-ninja's path views), with its 405 (plain text) answered as JSON."""
    if iscoroutinefunction(view):

        @functools.wraps(view)
        async def async_view(request, *args, **kwargs):
            response = await view(request, *args, **kwargs)
            return method_not_allowed(request, response["Allow"]) if response.status_code == 405 else response

        return markcoroutinefunction(async_view)

    @functools.wraps(view)
    def sync_view(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        return method_not_allowed(request, response["Allow"]) if response.status_code == 405 else response

    return sync_view


def django_error_handlers(prefix: str) -> tuple:
    """Django's `handler400`, `handler403`, `handler404` and `handler500` for a URLconf that mounts
    the API at `prefix`: JSON for a request under it, Django's own pages for the rest."""

    def json_or(default, status: int, detail: str):
        def handler(request, exception=None):
            if request.path_info.startswith(prefix):
                return JsonResponse({"detail": detail}, status=status)
            return default(request) if exception is None else default(request, exception)

        return handler

    return (
        json_or(defaults.bad_request, 400, "bad request"),
        json_or(defaults.permission_denied, 403, "forbidden"),
        json_or(defaults.page_not_found, 404, "not found"),
        json_or(defaults.server_error, 500, "internal error"),
    )
