"""A per-account lock in Redis that expires, so a worker that dies cannot hold it forever."""

from __future__ import annotations

import contextlib
import uuid

import redis
from django.conf import settings

LOCK_SECONDS = 15 * 60
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


def _redis():
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


@contextlib.contextmanager
def account_lock(account_id: int, seconds: int = LOCK_SECONDS):
    """Yields whether the lock was taken; releases it only if it is still ours."""
    client = _redis()
    key, token = f"tracker:sync-lock:{account_id}", uuid.uuid4().hex
    acquired = bool(client.set(key, token, nx=True, ex=seconds))
    try:
        yield acquired
    finally:
        if acquired:
            client.eval(_RELEASE, 1, key, token)
        client.close()
