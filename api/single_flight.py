"""Concurrent requests that need the same thing read wait for one reading of it, instead of each
reading it: when a cached token grant or positions page goes out of date under load, one query
replaces it rather than one per request in flight."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

T = TypeVar("T")

_flights: dict[tuple[asyncio.AbstractEventLoop, Hashable], asyncio.Task] = {}


async def once(key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
    """The result of `read()`, shared with every caller that asks for `key` while it runs."""
    loop = asyncio.get_running_loop()
    flight = _flights.get((loop, key))
    if flight is None:
        flight = loop.create_task(read())
        _flights[(loop, key)] = flight
        flight.add_done_callback(lambda _: _flights.pop((loop, key), None))
    return await asyncio.shield(flight)
