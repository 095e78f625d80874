"""Pushing executed fills to the WebSocket subscribers of their account, through the WebSocket faults."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Callable

from aiohttp import web

from .faults import Faults
from .ledger import Fill


class Connection:
    """One WebSocket. Replies to requests go out at once (`reply`); pushed events go through an
    outbox that honours pause, drop, duplicate and reorder."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, exchange, feed: Feed):
        self.ws, self.request, self.exchange, self.feed = ws, request, exchange, feed
        self.outbox: asyncio.Queue[str] = asyncio.Queue()
        self.writer = asyncio.create_task(self._write())

    async def reply(self, text: str) -> None:
        if not self.ws.closed:
            await self.ws.send_str(text)
            self.feed.stats["ws.replies"] += 1

    def push(self, text: str) -> None:
        self.outbox.put_nowait(text)

    async def _send(self, text: str) -> None:
        if not self.ws.closed:
            await self.ws.send_str(text)
            self.feed.stats[f"ws.events.{self.exchange.name}"] += 1

    async def _write(self) -> None:
        faults, held = self.feed.faults, []
        while True:
            try:
                timeout = self.feed.reorder_flush_seconds if held else None
                text = await asyncio.wait_for(self.outbox.get(), timeout)
            except TimeoutError:
                text = None
            await faults.running.wait()
            action = faults.take_ws() if text is not None else None
            if action == "drop":
                continue
            if action == "reorder":
                held.append(text)
                continue
            if action == "corrupt":
                text = self.feed.corrupt(self.exchange, text)
            if text is not None:
                await self._send(text)
                if action == "duplicate":
                    await self._send(text)
            # Held events go out after the event that overtook them (or when none came in time), newest first.
            for late in reversed(held):
                await self._send(late)
            held.clear()

    async def close(self) -> None:
        self.writer.cancel()
        await asyncio.gather(self.writer, return_exceptions=True)
        self.feed.disconnected(self)

    def drop(self) -> None:
        """Cut the connection as a network failure would: no close frame."""
        transport = self.request.transport
        if transport is not None:
            transport.abort()


class Feed:
    def __init__(self, faults: Faults, stats, reorder_flush_seconds: float):
        self.faults, self.stats, self.reorder_flush_seconds = faults, stats, reorder_flush_seconds
        self.connections: set[Connection] = set()
        # account -> {subscription key: deliver(fills)}
        self.subscribers: dict[str, dict[object, Callable[[list[Fill]], None]]] = defaultdict(dict)

    def connect(self, ws: web.WebSocketResponse, request: web.Request, exchange) -> Connection:
        """`exchange`: the `protocols.base.Exchange` whose WebSocket this is."""
        connection = Connection(ws, request, exchange, self)
        self.connections.add(connection)
        self.stats[f"ws.connections.{exchange.name}"] += 1
        return connection

    def disconnected(self, connection: Connection) -> None:
        self.connections.discard(connection)
        for subscriptions in self.subscribers.values():
            for key in [k for k in subscriptions if isinstance(k, tuple) and k[0] is connection]:
                del subscriptions[key]

    def subscribe(self, account: str, connection: Connection, name, deliver: Callable[[list[Fill]], None]) -> None:
        self.subscribers[account][(connection, name)] = deliver

    def unsubscribe(self, account: str, connection: Connection, name) -> bool:
        return self.subscribers[account].pop((connection, name), None) is not None

    def publish(self, account: str, fills: list[Fill]) -> None:
        for deliver in list(self.subscribers.get(account, {}).values()):
            deliver(fills)

    def corrupt(self, exchange, text: str) -> str:
        """The event with its first trade's amount spoiled (see `faults`)."""
        message = json.loads(text)
        exchange.corrupt_event(message, self.faults.ws_corruption)
        return json.dumps(message, separators=(",", ":"))

    def drop_all(self) -> int:
        dropped = list(self.connections)
        for connection in dropped:
            connection.drop()
        self.faults.injected["ws.disconnect"] += len(dropped)
        return len(dropped)
