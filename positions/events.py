"""What happens after a transaction that changed positions commits."""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from trades.db import loop_of_database_thread

logger = logging.getLogger(__name__)

POSITIONS_GROUP = "positions"


def positions_changed(books) -> None:
    from . import change_stamp
    from .repository import invalidate_cached_positions

    change_stamp.bump()
    invalidate_cached_positions(books)
    broadcast_positions_changed(books)


def broadcast_positions_changed(books) -> None:
    """Tell operator pages which books changed. A page that misses this refreshes on reconnect, so a
    channel layer that is down costs liveness, never data: log it and carry on. On a stream's
    `DatabaseThread` the message is handed to the stream's event loop and the thread goes on storing."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {
        "type": "positions.changed",
        "books": [{"exchange_id": b.exchange_id, "bot_instance_id": b.bot_instance_id, "symbol": b.symbol} for b in books],
    }
    loop = loop_of_database_thread()
    if loop is not None:
        sent = asyncio.run_coroutine_threadsafe(layer.group_send(POSITIONS_GROUP, message), loop)
        sent.add_done_callback(_warn_if_failed)
        return
    try:
        async_to_sync(layer.group_send)(POSITIONS_GROUP, message)
    except Exception:
        logger.warning("could not broadcast position changes", exc_info=True)


def _warn_if_failed(sent) -> None:
    if not sent.cancelled() and sent.exception() is not None:
        logger.warning("could not broadcast position changes", exc_info=sent.exception())
