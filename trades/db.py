"""Database calls from long-running async code (the streams worker, `track`, a bot's own process).

`db_sync_to_async` is asgiref's `sync_to_async` that first drops a connection the server has closed
(PostgreSQL restarted or failed over, the backend terminated). Django only checks its connections
between requests, and these processes have none: without this, one dead connection would fail every
later call of the process. (Channels' `database_sync_to_async` closes the connection after every call
instead, which with CONN_MAX_AGE=0 means a new connection for every message.)
"""

from __future__ import annotations

import asyncio
import functools
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.db import connections


def close_broken_connections() -> None:
    for connection in connections.all(initialized_only=True):
        if connection.connection is None or connection.in_atomic_block:
            continue
        if getattr(connection.connection, "closed", False):
            connection.close()
        elif connection.errors_occurred:
            if connection.is_usable():
                connection.errors_occurred = False
            else:
                connection.close()


def db_sync_to_async(func):
    @functools.wraps(func)
    def call(*args, **kwargs):
        close_broken_connections()
        return func(*args, **kwargs)

    return sync_to_async(call)


_this_thread = threading.local()


class DatabaseThread:
    """A thread with a database connection of its own, for async work whose database calls must not
    wait behind others': a stream stores each trade the moment it arrives, which it cannot do if its
    call queues behind a REST pass's page of a thousand trades or a mark refresh (asgiref's
    `sync_to_async` runs every call of a process on one thread)."""

    def __init__(self, name: str):
        self.name = name
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def run(self, func, /, *args, **kwargs):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(self._call, loop, func, args, kwargs))

    @staticmethod
    def _call(loop, func, args, kwargs):
        _this_thread.loop = loop
        close_broken_connections()
        return func(*args, **kwargs)

    async def close(self) -> None:
        """Close the thread's connection and let the thread end."""
        try:
            await self.run(connections.close_all)
        finally:
            self._executor.shutdown(wait=False)


def loop_of_database_thread():
    """The event loop a `DatabaseThread` works for, when called on one (None elsewhere): where work
    after a commit (a broadcast) can be handed without blocking the thread, as `async_to_sync` from
    a thread asgiref did not start would run it on a new event loop of its own each time."""
    return getattr(_this_thread, "loop", None)


STREAMING_SWITCH_INTERVAL = 0.0005  # seconds; Python's default is 0.005


def share_the_interpreter_finely() -> None:
    """In a process that stores streamed trades, let a thread that waits for the interpreter lock
    get it after 0.5 ms instead of 5: a stream's storing thread and its event loop each take the lock
    back several times per trade, and behind a REST pass's page of a thousand trades (normalised on
    another thread) every one of those waits would cost up to the whole interval."""
    sys.setswitchinterval(STREAMING_SWITCH_INTERVAL)
