"""Bearer-token authentication for the JSON API.

`Authorization: Bearer <token>`. No token, an unknown or revoked one, or one whose user is inactive:
401. A valid token whose user lacks the view permission an endpoint needs: 403. A token limited to
some accounts (`ApiToken.accounts`) is for the live stream only (api/stream.py): 403 here.

What a token may do (its user and the user's permissions) is kept per process for
`API_TOKEN_CACHE_SECONDS` after it is read, so that a request with a known token costs no query
and, in an async endpoint, no thread. Revoking a token forgets it in the process that revokes it at
once; in other processes (another server worker, `manage.py api_token revoke`) it is refused within
`API_TOKEN_CACHE_SECONDS`, and so is a token whose user is deactivated or loses a permission.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import datetime

from asgiref.sync import sync_to_async
from django.utils import timezone
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer

from . import single_flight
from .grants import Grant, cached_grants
from .models import ApiToken, hash_token

def read_grant(token_hash: str) -> Grant | None:
    """The token's grant from the database (three queries), or None for an unknown, revoked or
    inactive user's token; cached for this process."""
    api_token = ApiToken.objects.active().select_related("user").filter(token_hash=token_hash).first()
    if api_token is None:
        cached_grants.pop(token_hash, None)
        return None
    user = api_token.user
    account_ids = frozenset(api_token.accounts.values_list("pk", flat=True))
    grant = Grant(
        token_id=api_token.pk,
        user=user,
        is_superuser=user.is_superuser,
        permissions=frozenset(user.get_all_permissions()),
        last_used_at=api_token.last_used_at,
        read_at=time.monotonic(),
        account_ids=account_ids or None,
    )
    cached_grants[token_hash] = grant
    return grant


def touch(grant: Grant, token_hash: str, now: datetime) -> None:
    ApiToken.objects.filter(pk=grant.token_id).update(last_used_at=now)
    if cached_grants.get(token_hash) is grant:
        cached_grants[token_hash] = replace(grant, last_used_at=now)


async def grant_of_token(token: str) -> Grant | None:
    """What `token` may do (None: not an active token), from this process's cache when fresh; for
    the async endpoints and the live stream's socket."""
    token_hash = hash_token(token)
    grant = cached_grants.get(token_hash)
    if grant is None or not grant.is_fresh():
        grant = await single_flight.once(("token grant", token_hash), lambda: sync_to_async(read_grant)(token_hash))
    if grant is None:
        return None
    now = timezone.now()
    if grant.needs_touch(now):
        await single_flight.once(("token touch", token_hash), lambda: sync_to_async(touch)(grant, token_hash, now))
    return grant


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class TokenAuth(HttpBearer):
    """Serves sync and async operations: django-ninja awaits what `__call__` returns when it is a
    coroutine, which it is when called on the event loop (an async endpoint)."""

    def __init__(self, *permissions: str):
        super().__init__()
        self.permissions = permissions
        self.is_async = True

    def __call__(self, request):
        if _in_event_loop():
            return self._authenticate_async(request)
        return super().__call__(request)

    async def _authenticate_async(self, request):
        token = self._bearer_token(request)
        if token is None:
            return None
        grant = await grant_of_token(token)
        if grant is None:
            return None
        return self._admit(request, grant)

    def authenticate(self, request, token: str):
        token_hash = hash_token(token)
        grant = cached_grants.get(token_hash)
        if grant is None or not grant.is_fresh():
            grant = read_grant(token_hash)
        if grant is None:
            return None
        now = timezone.now()
        if grant.needs_touch(now):
            touch(grant, token_hash, now)
        return self._admit(request, grant)

    def _bearer_token(self, request) -> str | None:
        """The token of `Authorization: Bearer <token>`, as HttpBearer reads it (from META: building
        `request.headers` costs more than the rest of a cached request's authentication)."""
        value = request.META.get("HTTP_AUTHORIZATION")
        if not value:
            return None
        scheme, _, token = value.partition(" ")
        if scheme.lower() != self.openapi_scheme:
            return None
        return token

    def _admit(self, request, grant: Grant) -> Grant:
        if grant.account_ids is not None:
            # The endpoints do not filter by a token's accounts yet: refused rather than let through.
            raise AuthorizationError(message="this token is limited to some accounts: it serves the live stream (/ws/stream/), not the JSON API")
        if not grant.allows(self.permissions):
            raise AuthorizationError(message=f"this token's user may not read this: needs {', '.join(self.permissions)}")
        request.user = grant.user
        return grant
