"""Database calls from long-running async code (the streams worker, `track`, a bot's own process).

`db_sync_to_async` is asgiref's `sync_to_async` that first drops a connection the server has closed
(PostgreSQL restarted or failed over, the backend terminated). Django only checks its connections
between requests, and these processes have none: without this, one dead connection would fail every
later call of the process. (Channels' `database_sync_to_async` closes the connection after every call
instead, which with CONN_MAX_AGE=0 means a new connection for every message.)
"""

from __future__ import annotations

import functools

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
