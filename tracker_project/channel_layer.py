"""The channel layer when there is no Redis: channels-postgres on the project's own database.

PostgreSQL's LISTEN/NOTIFY reaches every process connected to the database, so `track`, the streams
worker and Celery tasks reach the board's sockets in the web server with no service beyond the
database they already use (the embedded one under `make run`). A message is a row whose insert
trigger sends a NOTIFY; the receiving process's one LISTEN connection puts it on the channel's queue.

What this subclass changes in channels-postgres 1.1.4, and why:
- It connects to the database of a Django alias as that alias is when the layer is made, so a test
  process reaches pytest-django's test database, not the one named in the settings.
- Its connection is one per event loop, closed when the loop ends. The package keeps one pool for
  the process, made on the first loop that used it: `async_to_sync` (a Celery task, a command) runs
  each call on a new loop, where that pool's tasks no longer run.
- The listener LISTENs before it takes the queued rows, and skips the notices of the rows it took:
  the package takes them first, so a message sent between the two was neither queued nor heard.
- One LISTEN task per event loop: the package starts one on every `receive` made on a loop other
  than the first, and two when two sockets open at once, which delivers each message twice.
- `group_send` is one statement (the package looks the group up twice, once under the wrong key).
- Expired messages are deleted by the senders, at most every `cleanup_seconds`. A message is read
  from its NOTIFY and its row left to expire; the package deletes expired rows only 10 to 20 minutes
  after a socket closes, so with sockets that stay open the table grew by a row per message forever.
- `group_discard` deletes the membership without the ORM (the package needs a database alias of its
  own for that one call) and starts no sleeping clean-up tasks.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
import weakref
from datetime import timedelta

import psycopg
from channels_postgres.core import PostgresChannelLayer as PackageLayer
from channels_postgres.db import GROUP_CHANNEL_TABLE, MESSAGE_TABLE, DatabaseLayer, utc_now
from psycopg import sql

from .database import connection_settings

logger = logging.getLogger(__name__)

GROUP_SEND = sql.SQL(
    "INSERT INTO {messages} (channel, message, expire)"
    " SELECT DISTINCT channel, %s::bytea, %s FROM {groups} WHERE group_key = %s"
).format(messages=sql.Identifier(MESSAGE_TABLE), groups=sql.Identifier(GROUP_CHANNEL_TABLE))
DELETE_EXPIRED = sql.SQL("DELETE FROM {messages} WHERE expire < %s").format(messages=sql.Identifier(MESSAGE_TABLE))
GROUP_DISCARD = sql.SQL("DELETE FROM {groups} WHERE group_key = %s AND channel = %s").format(
    groups=sql.Identifier(GROUP_CHANNEL_TABLE)
)


class LoopConnection:
    """One autocommit connection for one event loop, used by one statement at a time (each is a
    single short round trip), opened again after it broke. `connection()` is what `DatabaseLayer`
    asks of its pool."""

    def __init__(self, conninfo: str):
        self.conninfo = conninfo
        self.lock = asyncio.Lock()
        self.current: psycopg.AsyncConnection | None = None
        self.closer = None

    @contextlib.asynccontextmanager
    async def connection(self):
        async with self.lock:
            if self.current is None or self.current.closed or self.current.broken:
                self.current = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
                await self._close_when_the_loop_ends(self.current)
            yield self.current

    async def _close_when_the_loop_ends(self, connection: psycopg.AsyncConnection) -> None:
        """An async generator parked at its `yield` is closed by the loop's `shutdown_asyncgens`,
        which `asyncio.run` (and so `async_to_sync`) and pytest-asyncio call before closing a loop."""

        async def close_at_shutdown():
            try:
                yield
            finally:
                await connection.close()

        self.closer = close_at_shutdown()
        await self.closer.__anext__()


class LoopDatabaseLayer(DatabaseLayer):
    def __init__(self, psycopg_options, db_params, logger=logger):
        super().__init__(psycopg_options, db_params, logger=logger)
        self.conninfo = psycopg.conninfo.make_conninfo(conninfo="", **db_params)
        self.by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopConnection] = weakref.WeakKeyDictionary()

    async def get_db_pool(self, db_params=None) -> LoopConnection:
        loop = asyncio.get_running_loop()
        if loop not in self.by_loop:
            self.by_loop[loop] = LoopConnection(self.conninfo)
        return self.by_loop[loop]

    async def execute(self, statement, params) -> None:
        pool = await self.get_db_pool()
        async with pool.connection() as connection:
            await connection.execute(statement, params)

    async def delete_channel_group(self, group_key: str, channel: str) -> None:
        await self.execute(GROUP_DISCARD, (group_key, channel))


class PostgresChannelLayer(PackageLayer):
    def __init__(self, database: str = "default", cleanup_seconds: float = 30, **config):
        settings = connection_settings(database)
        super().__init__(**config, **{**settings, "OPTIONS": dict(settings["OPTIONS"])})
        self.django_db = LoopDatabaseLayer({}, self.db_params)
        self.cleanup_seconds = cleanup_seconds
        self.cleaned_at = time.monotonic()
        self.listeners: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task] = weakref.WeakKeyDictionary()

    def _get_or_create_listener_task(self) -> tuple[asyncio.Event, bool]:
        loop = asyncio.get_running_loop()
        listener = self.listeners.get(loop)
        if listener is None or listener.done():
            if listener is not None and not listener.cancelled() and listener.exception() is not None:
                logger.warning("the channel layer's LISTEN connection failed; listening again", exc_info=listener.exception())
            self.event_loop = loop
            self.listener_task_is_running = asyncio.Event()
            self.listeners[loop] = loop.create_task(self.listen_to_all_channels(), name="channel-layer-listen")
        return self.listener_task_is_running, False

    async def listen_to_all_channels(self) -> None:
        conninfo = psycopg.conninfo.make_conninfo(conninfo="", **self.db_params)
        async with await psycopg.AsyncConnection.connect(conninfo=conninfo, autocommit=True) as connection:
            await connection.execute("LISTEN channels_postgres_messages;")
            taken = set()
            queued = await self.django_db.retrieve_non_expired_queued_messages()
            for message_id, channel, message, timestamp in sorted(queued, key=lambda row: int(row[0])):
                taken.add(message_id)
                payload = f"{message_id}:{channel}:{base64.b64encode(message).decode()}:{timestamp}"
                self._get_or_create_queue(channel).put_nowait(payload)
            self.listener_task_is_running.set()
            async for event in connection.notifies():
                message_id, channel = event.payload.split(":", 2)[:2]
                if message_id in taken:
                    taken.discard(message_id)
                    continue
                if self._channel_advisory_locks.get(channel, False) is False:
                    continue  # another process receives on this channel
                self._get_or_create_queue(channel).put_nowait(event.payload)

    async def group_send(self, group: str, message: dict) -> None:
        assert self.require_valid_group_name(group), "Group name not valid"
        expire = utc_now() + timedelta(seconds=self.expiry)
        await self.django_db.execute(GROUP_SEND, (self.serialize(message), expire, self._group_key(group)))
        await self.delete_expired_messages_when_due()

    async def group_discard(self, group: str, channel: str, expire=None) -> None:
        assert self.require_valid_group_name(group), "Group name not valid"
        assert self.require_valid_channel_name(channel), "Channel name not valid"
        await self.django_db.delete_channel_group(self._group_key(group), channel)

    async def send(self, channel: str, message: dict) -> None:
        await super().send(channel, message)
        await self.delete_expired_messages_when_due()

    async def delete_expired_messages_when_due(self) -> None:
        if time.monotonic() - self.cleaned_at < self.cleanup_seconds:
            return
        self.cleaned_at = time.monotonic()
        await self.django_db.execute(DELETE_EXPIRED, (utc_now(),))
