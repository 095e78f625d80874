"""Bearer-token authentication for the JSON API.

`Authorization: Bearer <token>`. No token, an unknown or revoked one, or one whose user is inactive:
401. A valid token whose user lacks the view permission an endpoint needs: 403.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer

from .models import ApiToken, hash_token

# `last_used_at` is written at most this often per token, so reads stay reads.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenAuth(HttpBearer):
    def __init__(self, *permissions: str):
        super().__init__()
        self.permissions = permissions

    def authenticate(self, request, token: str):
        api_token = ApiToken.objects.active().select_related("user").filter(token_hash=hash_token(token)).first()
        if api_token is None:
            return None
        user = api_token.user
        if not user.has_perms(self.permissions):
            raise AuthorizationError(message=f"this token's user may not read this: needs {', '.join(self.permissions)}")
        now = timezone.now()
        if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        request.user = user
        return api_token
