"""The operator pages' WebSockets: the board's (`/ws/positions/`) and a position's
(`/ws/positions/ID/`). Each sends its page's state on connect and after every change the page shows,
and a heartbeat every few seconds, so that the page can tell a quiet page from a dead one."""

from __future__ import annotations

import asyncio
import logging
import time

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone

from trades.db import db_sync_to_async

from .board import board_snapshot, health_rows
from .events import POSITIONS_GROUP
from .position_page import LivePosition, concerns, live_position

logger = logging.getLogger(__name__)

HEALTH_REUSE_SECONDS = 1.0
# The page calls itself stale when it has heard nothing for this many heartbeats; the consumer
# closes a socket whose heartbeats have not come back for as long (the page then reconnects).
MISSED_HEARTBEATS = 3


class LivePageConsumer(AsyncJsonWebsocketConsumer):
    """A live operator page's socket, for operators only: the page's state (`send_state`) on connect
    and after every change that `concerns` it, and the heartbeat. A subclass says what to watch
    (`watch`, before the socket is accepted) and how to send its state."""

    refresh: asyncio.Task | None = None
    stale = False
    heartbeat_seconds = 5.0
    heartbeat: asyncio.Task | None = None
    heard_at = 0.0

    async def dispatch(self, message):
        """Channels' own dispatch closes the database connection before every message (a new one for
        every page's state, with CONN_MAX_AGE=0: most of its cost). The pages' reads keep their
        connection, which `db_sync_to_async` drops when it is broken."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not await self.watch():
            await self.close()
            return
        await self.channel_layer.group_add(POSITIONS_GROUP, self.channel_name)
        await self.accept()
        await self.send_state()
        self.heard_at = time.monotonic()
        self.heartbeat = asyncio.create_task(self.beat())

    async def disconnect(self, code):
        for task in (self.refresh, self.heartbeat):
            if task is not None:
                task.cancel()
        await self.channel_layer.group_discard(POSITIONS_GROUP, self.channel_name)

    async def watch(self) -> bool:
        """Whether there is something to watch; false refuses the socket."""
        return True

    def concerns(self, event: dict) -> bool:
        return True

    async def send_state(self) -> None:
        raise NotImplementedError

    async def positions_changed(self, event):
        if self.concerns(event):
            self.changed()

    async def marks_changed(self, event):
        if self.concerns(event):
            self.changed()

    async def beat(self):
        """The heartbeat goes to this socket through the channel layer, the way the changes come, so a
        page that gets it knows that changes would reach it too: when the layer stops delivering, the
        heartbeats stop, the page says stale, and this socket is closed for the page to reconnect."""
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            silent = time.monotonic() - self.heard_at
            if silent > MISSED_HEARTBEATS * self.heartbeat_seconds:
                logger.warning("the page's heartbeat has not come back through the channel layer for %.0f s; closing the socket (the page reconnects)", silent)
                await self.close()
                return
            try:
                await self.channel_layer.send(self.channel_name, {"type": "page.heartbeat"})
            except Exception:
                logger.warning("could not send the page's heartbeat through the channel layer", exc_info=True)

    async def page_heartbeat(self, event):
        self.heard_at = time.monotonic()
        await self.send_json({"type": "heartbeat", "every": self.heartbeat_seconds})

    def changed(self) -> None:
        """A fresh state after every change. Changes that come while a state is being built are all
        covered by the one built after it, so a burst of trades costs two states, not one each."""
        self.stale = True
        if self.refresh is None or self.refresh.done():
            self.refresh = asyncio.create_task(self.send_fresh_states())

    async def send_fresh_states(self):
        try:
            while self.stale:
                self.stale = False
                await self.send_state()
        except Exception:
            logger.exception("the page's state could not be sent; closing the socket (the page reconnects)")
            await self.close()


class PositionsConsumer(LivePageConsumer):
    """The board: every change of positions or marks changes it."""

    health: list[dict] | None = None
    health_read_at = 0.0

    async def send_state(self):
        # db_sync_to_async keeps the connection (channels' database_sync_to_async would open one per board).
        await self.send_json({"type": "board", "board": await db_sync_to_async(self.fresh_board)()})

    def fresh_board(self) -> dict:
        """Positions and marks as of now; the sync health table (a few more queries than the rest of
        the board) is read again when older than a second, so each trade's board costs less."""
        now = time.monotonic()
        if self.health is None or now - self.health_read_at > HEALTH_REUSE_SECONDS:
            self.health, self.health_read_at = health_rows(timezone.now()), now
        return board_snapshot(health=self.health)


class PositionConsumer(LivePageConsumer):
    """One position's page: changes of its book and of its mark change it. A position that is gone
    when the page connects is refused (its page is a 404)."""

    watched: LivePosition | None = None
    unsent: LivePosition | None = None  # read to decide whether to accept, then sent first

    async def watch(self) -> bool:
        self.unsent = await self.read()
        return self.unsent.book is not None

    def concerns(self, event: dict) -> bool:
        return concerns(self.watched, event)

    async def read(self) -> LivePosition:
        return await db_sync_to_async(live_position)(self.scope["url_route"]["kwargs"]["position_id"])

    async def send_state(self):
        self.watched, self.unsent = self.unsent or await self.read(), None
        await self.send_json({"type": "position", "html": self.watched.html, "open": self.watched.is_open})
