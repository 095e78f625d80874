"""pytest fixtures and helpers for tests that talk to the simulator.

Use them from any conftest.py with `from exchanges.simulator.testing import *  # noqa: F401,F403`.

- `simulator_config`: the config dict the `simulator` fixture starts with; override the fixture in
  a test module (or conftest) for other accounts, history or limits.
- `simulator`: a fresh simulator on a free port of 127.0.0.1 for each test, as a `RunningSimulator`.
- `simulated_accounts`: its accounts registered as `ExchangeAccount` rows (needs the database).
- `VENUE_ACCOUNTS`: the simulated account each of the tracker's venues is tested against (the venue
  contract suite, tests/venues/); a new venue adds one line.
"""

from __future__ import annotations

import asyncio
import copy
import json
import urllib.error
import urllib.request

import pytest

from .config import parse_config
from .server import Simulator, SimulatorThread

__all__ = [
    "BINANCE",
    "BYBIT",
    "TEST_CONFIG",
    "VENUE_ACCOUNTS",
    "ControlError",
    "RunningSimulator",
    "Watcher",
    "simulated_accounts",
    "simulator",
    "simulator_config",
    "start_simulator",
]

BINANCE, BYBIT = "binance_spot", "bybit_perp"
TEST_CONFIG = {
    "seed": 7,
    "accounts": [
        {"name": BINANCE, "protocol": "binance", "markets": ["BTC/USDT", "ETH/USDT"]},
        {"name": BYBIT, "protocol": "bybit", "markets": ["BTC/USDT:USDT", "ETH/USDT:USDT"]},
    ],
}


VENUE_ACCOUNTS = {
    "binance_spot": TEST_CONFIG["accounts"][0],
    "bybit_linear": TEST_CONFIG["accounts"][1],
    "bybit_spot": {"name": "bybit_spot", "protocol": "bybit_spot", "markets": ["BTC/USDT", "ETH/USDT"]},
}


class ControlError(RuntimeError):
    pass


class RunningSimulator:
    """A simulator running on its own thread, driven through its control API like any client would."""

    def __init__(self, thread: SimulatorThread):
        self.thread = thread
        self.simulator: Simulator = thread.simulator
        self.config = self.simulator.config
        self.base_url = self.simulator.base_url

    def account(self, name: str):
        return self.config.account(name)

    def exchange_account(self, name: str, **changes):
        """An unsaved `ExchangeAccount` for a simulated account (what `build_client` needs, no database)."""
        from exchanges.models import ExchangeAccount  # the simulator itself runs without Django
        from exchanges.venues import venue_for

        account = self.config.account(name)
        fields = {
            "name": name,
            "venue": venue_for(account.ccxt_id, account.market_type).name,
            "api_key": account.api_key,
            "api_secret": account.api_secret,
            "base_url": self.base_url,
            "symbols": [market.symbol for market in account.markets],
        }
        return ExchangeAccount(**{**fields, **changes})

    def _call(self, method: str, path: str, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise ControlError(f"{method} {path}: {error.code} {error.read().decode()}") from None

    def post_trades(self, *trades: dict) -> list[dict]:
        return self._call("POST", "/_sim/trades", {"trades": list(trades)})["trades"]

    def truth(self, **filters) -> list[dict]:
        query = "&".join(f"{key}={value}" for key, value in filters.items() if value is not None)
        return self._call("GET", f"/_sim/trades?{query}")["trades"]

    def post_funding(self, **body) -> list[dict]:
        """Settle funding now (`account`, `symbol`, `rate`, `mark_price`: see `control.post_funding`)."""
        return self._call("POST", "/_sim/funding", body)["funding"]

    def funding_truth(self, **filters) -> list[dict]:
        query = "&".join(f"{key}={value}" for key, value in filters.items() if value is not None)
        return self._call("GET", f"/_sim/funding?{query}")["funding"]

    def positions(self, **filters) -> list[dict]:
        query = "&".join(f"{key}={value}" for key, value in filters.items() if value is not None)
        return self._call("GET", f"/_sim/positions?{query}")["positions"]

    def faults(self, *specs: dict) -> dict:
        return self._call("POST", "/_sim/faults", list(specs))

    def clear_faults(self) -> dict:
        return self._call("DELETE", "/_sim/faults")

    def stats(self) -> dict:
        return self._call("GET", "/_sim/stats")

    def accounts(self) -> list[dict]:
        return self._call("GET", "/_sim/accounts")["accounts"]

    # The same, without blocking an event loop that runs ccxt clients.
    async def apost_trades(self, *trades: dict) -> list[dict]:
        return await asyncio.to_thread(self.post_trades, *trades)

    async def atruth(self, **filters) -> list[dict]:
        return await asyncio.to_thread(self.truth, **filters)

    async def afaults(self, *specs: dict) -> dict:
        return await asyncio.to_thread(self.faults, *specs)

    async def apost_funding(self, **body) -> list[dict]:
        return await asyncio.to_thread(lambda: self.post_funding(**body))

    async def afunding_truth(self, **filters) -> list[dict]:
        return await asyncio.to_thread(lambda: self.funding_truth(**filters))


def start_simulator(config: dict, *, state=None) -> RunningSimulator:
    """`state`: a state file to keep the ledger in across restarts (see `state.StateFile`)."""
    thread = SimulatorThread(parse_config(copy.deepcopy(config)), state=state)
    thread.start()
    return RunningSimulator(thread)


@pytest.fixture
def simulator_config() -> dict:
    return copy.deepcopy(TEST_CONFIG)


@pytest.fixture
def simulator(simulator_config):
    running = start_simulator(simulator_config)
    try:
        yield running
    finally:
        running.thread.stop()


@pytest.fixture
def simulated_accounts(simulator, db):
    """name -> `ExchangeAccount` registered against the running simulator."""
    from .register import register_accounts  # the simulator itself runs without Django

    return {row.name: row for row in register_accounts(simulator.config.accounts, simulator.base_url)}


class Watcher:
    """Keeps one `watch_my_trades` pending and collects what arrives.

    ccxt.pro resolves a pending watch with each message and caches what arrives between calls, so
    a loop of awaited watches can leave the last trades in the cache; this reads the cache too.
    Trades are kept by id for the watcher's own symbol only: Binance numbers ids per symbol, so
    another symbol's trade in the cache may carry the same id.
    """

    def __init__(self, client, symbol: str):
        self.client, self.symbol = client, symbol
        self.pending: asyncio.Future | None = None
        self.seen: dict[str, dict] = {}

    def _see(self, trade: dict) -> None:
        if not self.symbol or trade.get("symbol") == self.symbol:
            self.seen.setdefault(trade["id"], trade)

    def _keep_watching(self) -> None:
        if self.pending is not None and self.pending.done():
            for trade in self.pending.result():  # raises what the watch raised
                self._see(trade)
            self.pending = None
        if self.pending is None:
            self.pending = asyncio.ensure_future(self.client.watch_my_trades(self.symbol))

    async def subscribed(self, simulator: RunningSimulator, account: str, timeout: float = 30.0) -> Watcher:
        """Start watching and wait until the simulator holds a new subscription for `account` (one
        that was not there when called: after a disconnect, the old one may linger a moment)."""
        feed = simulator.simulator.feed

        def subscriptions():
            return {key for key in feed.subscribers.get(account, {}) if not key[0].ws.closed}

        before = simulator.thread.call(subscriptions)
        deadline = asyncio.get_running_loop().time() + timeout
        while not simulator.thread.call(subscriptions) - before:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"no subscription for {account}")
            self._keep_watching()
            await asyncio.wait({self.pending}, timeout=0.05)
        return self

    async def trades(self, trade_ids: set[str], timeout: float = 30.0) -> dict[str, dict]:
        """Every trade in `trade_ids`, by id, once all have arrived."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for trade in list(self.client.myTrades or []):
                self._see(trade)
            if trade_ids <= self.seen.keys():
                return {trade_id: self.seen[trade_id] for trade_id in trade_ids}
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"still missing {sorted(trade_ids - self.seen.keys())}")
            self._keep_watching()
            await asyncio.wait({self.pending}, timeout=0.1)

    def close(self) -> None:
        if self.pending is not None and not self.pending.done():
            self.pending.cancel()
