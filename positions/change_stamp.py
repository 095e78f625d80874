"""A stamp that changes whenever positions or marks change, in any process: a counter in Redis that
each change increments right after its transaction commits (`bump`, run by `positions_changed` and
`store_marks`). A reader that sees the same stamp as when it built something knows that no change
has committed since, so what it built is still current.

Without `REDIS_URL` there is no stamp (`current` gives None) and nothing may be cached on it: the
processes that change positions (`track`, Celery workers) cannot reach the web server's memory.
Redis unreachable for a reader gives None too; for a writer, the bump is lost and a warning logged,
so what readers cache on the stamp also has an age limit of its own. The counter starts at a random
number, so that after Redis loses it (a restart without persistence) it does not count through the
stamps of before again.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import weakref

import redis
import redis.asyncio
from django.conf import settings

logger = logging.getLogger(__name__)

KEY = "tracker:positions:change-stamp"
TIMEOUT_SECONDS = 0.5

_sync_clients: dict[str, redis.Redis] = {}
# One client per event loop (its connections belong to the loop), per URL.
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, redis.asyncio.Redis]] = weakref.WeakKeyDictionary()


def enabled() -> bool:
    return bool(settings.REDIS_URL)


def bump() -> None:
    """Say that positions or marks changed; call after the change has committed."""
    if not enabled():
        return
    try:
        with _sync_client().pipeline(transaction=False) as pipeline:
            pipeline.set(KEY, _random_start(), nx=True).incr(KEY).execute()
    except redis.RedisError:
        logger.warning("could not bump the positions change stamp", exc_info=True)


def _sync_client() -> redis.Redis:
    client = _sync_clients.get(settings.REDIS_URL)
    if client is None:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS)
        _sync_clients[settings.REDIS_URL] = client
    return client


def _async_client() -> redis.asyncio.Redis:
    clients = _async_clients.setdefault(asyncio.get_running_loop(), {})
    client = clients.get(settings.REDIS_URL)
    if client is None:
        client = redis.asyncio.Redis.from_url(settings.REDIS_URL, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS)
        clients[settings.REDIS_URL] = client
    return client


async def abump() -> None:
    """`bump` from an event loop, without holding up its thread."""
    if not enabled():
        return
    try:
        async with _async_client().pipeline(transaction=False) as pipeline:
            await pipeline.set(KEY, _random_start(), nx=True).incr(KEY).execute()
    except (redis.RedisError, OSError, asyncio.TimeoutError):
        logger.warning("could not bump the positions change stamp", exc_info=True)


async def current() -> bytes | None:
    """The stamp now, or None when there is none to trust (nor yet any counter: this starts one)."""
    if not enabled():
        return None
    client = _async_client()
    try:
        stamp = await client.get(KEY)
        if stamp is None:
            await client.set(KEY, _random_start(), nx=True)
        return stamp
    except (redis.RedisError, OSError, asyncio.TimeoutError):
        logger.warning("could not read the positions change stamp", exc_info=True)
        return None


def _random_start() -> int:
    return secrets.randbits(62)
