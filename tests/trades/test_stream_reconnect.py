"""A stream backs off while it cannot connect, and reconnects at once after a connection that was up drops."""

import asyncio
from types import SimpleNamespace

import ccxt
import pytest

from trades.backoff import Backoff
from trades.streams import AccountStream

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("async_db")]


class FakeClient:
    """A ccxt.pro client whose WebSocket connects (or is refused) and is then cut."""

    def __init__(self, connects: bool):
        self.connects = connects
        self.clients = {}

    async def load_markets(self):
        return {}

    async def watch_my_trades(self):
        if not self.connects:
            raise ccxt.NetworkError("connection refused")
        connected = asyncio.get_running_loop().create_future()
        connected.set_result(True)
        self.clients = {"ws": SimpleNamespace(connected=connected)}
        await asyncio.sleep(0.3)
        raise ccxt.NetworkError("Connection closed by remote server, closing code 1006")

    async def close(self):
        self.clients = {}


async def backoff_attempts(account, connects: bool, drops: int = 4) -> list[int]:
    attempts = []
    backoff = Backoff()
    backoff.delay = lambda attempt, retry_after=None: attempts.append(attempt) or 0.0

    async def catch_up():
        pass

    stream = AccountStream(account, lambda: FakeClient(connects), catch_up, backoff=backoff)
    task = asyncio.create_task(stream.run())
    try:
        while len(attempts) < drops:
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return attempts[:drops]


async def test_a_dropped_connection_reconnects_without_growing_backoff(account):
    assert await backoff_attempts(account, connects=True) == [1, 1, 1, 1]


async def test_connections_refused_back_off_more_and_more(account):
    assert await backoff_attempts(account, connects=False) == [1, 2, 3, 4]
