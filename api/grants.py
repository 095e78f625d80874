"""What each API token may do, as this process last read it: the cache `auth` fills and reads, and
that revoking a token (the model, the admin) empties."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

# `last_used_at` is written at most this often per token, so reads stay reads.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Grant:
    """What one active token may do, as read at `read_at` (time.monotonic())."""

    token_id: int
    user: object
    is_superuser: bool
    permissions: frozenset[str]
    last_used_at: datetime | None
    read_at: float
    account_ids: frozenset[int] | None = None  # the accounts it may read; None: every account

    def allows(self, permissions: tuple[str, ...]) -> bool:
        return self.is_superuser or self.permissions.issuperset(permissions)

    def may_read_account(self, account_id: int) -> bool:
        return self.account_ids is None or account_id in self.account_ids

    def is_fresh(self) -> bool:
        return time.monotonic() - self.read_at < settings.API_TOKEN_CACHE_SECONDS

    def needs_touch(self, now: datetime) -> bool:
        return self.last_used_at is None or now - self.last_used_at > LAST_USED_RESOLUTION


cached_grants: dict[str, Grant] = {}


def forget_tokens(token_hashes) -> None:
    """Drop these tokens from this process's cache (they were revoked here)."""
    for token_hash in token_hashes:
        cached_grants.pop(token_hash, None)
