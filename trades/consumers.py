"""The Channels worker that holds the exchange WebSocket streams (`runworker exchange-streams`)."""

from __future__ import annotations

import asyncio
import logging
import os

from channels.consumer import AsyncConsumer

logger = logging.getLogger(__name__)

STREAMS_CHANNEL = "exchange-streams"


def shard_from_environment() -> tuple[int, int] | None:
    """`STREAM_SHARD=i/n`: this worker holds the accounts whose id % n == i."""
    value = os.environ.get("STREAM_SHARD", "")
    if not value:
        return None
    index, count = (int(part) for part in value.split("/"))
    if not 0 <= index < count:
        raise ValueError(f"STREAM_SHARD={value}: need 0 <= i < n")
    return index, count


class ExchangeStreamsConsumer(AsyncConsumer):
    """Started by a `streams.start` message (the worker sends one to itself at boot). REST passes
    run here only as catch-ups after a (re)connect; the periodic ones are Celery beat's."""

    follower_task: asyncio.Task | None = None
    # No channel layer of its own (no alias names one): it would only add a Redis receive whose
    # failure, while Redis restarts, would end this consumer and the streams with it.
    channel_layer_alias = None

    async def streams_start(self, message):
        if self.follower_task is not None:
            return
        # Here: every web server worker imports this module (routing); only this worker needs ccxt.
        from .synchronizer import AccountFollower

        follower = AccountFollower(shard=shard_from_environment(), rest=False)
        self.follower_task = asyncio.create_task(follower.run(), name="exchange-streams")
        logger.info("exchange streams started (shard %s)", shard_from_environment() or "all")
