"""What happens after a transaction that changed positions commits."""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from trades.db import loop_of_database_thread

from . import change_stamp
from .repository import invalidate_cached_positions

logger = logging.getLogger(__name__)

POSITIONS_GROUP = "positions"


def positions_changed(books) -> None:
    """After a commit that changed positions: this process's position cache, the change stamp (for
    other processes' caches) and the operator pages. On a stream's `DatabaseThread` the stamp and the
    broadcast are handed to the stream's event loop, in that order, and the thread goes on storing
    the next trade instead of waiting for two Redis round trips."""
    invalidate_cached_positions(books)
    loop = loop_of_database_thread()
    if loop is not None:
        told = asyncio.run_coroutine_threadsafe(_tell_async(books), loop)
        told.add_done_callback(_warn_if_failed)
        return
    change_stamp.bump()
    broadcast_positions_changed(books)


async def _tell_async(books) -> None:
    await change_stamp.abump()
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(POSITIONS_GROUP, _changed_message(books))


def _changed_message(books) -> dict:
    return {
        "type": "positions.changed",
        "books": [{"exchange_id": b.exchange_id, "bot_instance_id": b.bot_instance_id, "symbol": b.symbol, "leg": b.leg} for b in books],
    }


def broadcast_positions_changed(books) -> None:
    """Tell operator pages which books changed. A page that misses this refreshes on reconnect, so a
    channel layer that is down costs liveness, never data: log it and carry on."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(POSITIONS_GROUP, _changed_message(books))
    except Exception:
        logger.warning("could not broadcast position changes", exc_info=True)


def _warn_if_failed(sent) -> None:
    if not sent.cancelled() and sent.exception() is not None:
        logger.warning("could not broadcast position changes", exc_info=sent.exception())
