"""A per-account lock in Redis that expires, so a worker that dies cannot hold it for long.

The lock lives `seconds` and is renewed every third of that while its holder runs, however long the
pass: a worker killed mid-pass (SIGKILL, a lost machine) releases it within `seconds`, not after the
longest pass anyone could expect.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

LOCK_SECONDS = 60
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"


def _redis():
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def _keep_renewing(client, key: str, token: str, seconds: float, done: threading.Event) -> None:
    while not done.wait(seconds / 3):
        try:
            if not client.eval(_RENEW, 1, key, token, int(seconds * 1000)):
                logger.warning("lock %s was lost (Redis restarted?); the work goes on unlocked", key)
                return
        except redis.RedisError as error:
            logger.warning("could not renew lock %s: %s", key, error)


@contextlib.contextmanager
def account_lock(account_id: int, seconds: float = LOCK_SECONDS):
    """Yields whether the lock was taken; releases it only if it is still ours."""
    client = _redis()
    key, token = f"tracker:sync-lock:{account_id}", uuid.uuid4().hex
    acquired = bool(client.set(key, token, nx=True, px=int(seconds * 1000)))
    done = threading.Event()
    renewer = threading.Thread(target=_keep_renewing, args=(client, key, token, seconds, done), name=f"renew {key}", daemon=True)
    if acquired:
        renewer.start()
    try:
        yield acquired
    finally:
        done.set()
        if acquired:
            renewer.join()
            try:
                client.eval(_RELEASE, 1, key, token)
            except redis.RedisError as error:  # it expires by itself
                logger.warning("could not release lock %s: %s", key, error)
        client.close()
