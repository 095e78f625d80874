"""The simulator: its state, the aiohttp application serving every registered protocol and the control API,
and ways to run it (in the foreground, or on a background thread for tests)."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from aiohttp import web

from . import control
from .accounts import AccountConfig, SimConfig, history_window
from .faults import Faults
from .feed import Feed
from .generator import LivePlanner, stable_key
from .keys import SIMULATOR
from .ledger import FUNDING, TRADE, Book, Fill, Ledger
from .money import FEE_QUANTUM, WIDE, Rejected, plain, to_units
from .protocols import PROTOCOLS, exchange_classes
from .protocols.base import Exchange
from .state import StateFile

logger = logging.getLogger(__name__)


class Simulator:
    def __init__(self, config: SimConfig, *, clock=time.time, state: str | Path | None = None):
        """`state`: a state file keeping the ledger across restarts (see `state.StateFile`); without
        one, each start dates a new history and numbers live fills from where the history ends."""
        self.config = config
        self.clock = clock
        started = datetime.fromtimestamp(clock(), tz=timezone.utc)
        windows = {a.name: history_window(a.history, started) for a in config.accounts if a.history.trades}
        self.state = StateFile(state, config) if state is not None else None
        if self.state is not None and self.state.history_windows is not None:
            windows = self.state.history_windows
        self.history_windows = windows
        self.ledger = Ledger(config, windows)
        if self.state is not None:
            self.state.replay(self.ledger)
            self.state.open(windows)
            self.ledger.keep_in(self.state)
        self.stats: Counter[str] = Counter()
        # one per exchange API the registered protocols are served on: its routes, limiter, answers
        self.exchanges: dict[str, Exchange] = {
            cls.name: cls(self, [p for p in PROTOCOLS.values() if p.exchange is cls]) for cls in exchange_classes()
        }
        self.faults = Faults(config.seed, tuple(path for e in self.exchanges.values() for path in e.trade_list_paths))
        self.feed = Feed(self.faults, self.stats, config.reorder_flush_seconds)
        self.trickles: list[asyncio.Task] = []
        self.runner: web.AppRunner | None = None
        self.port: int | None = None

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def exchange_of(self, path: str) -> Exchange | None:
        return next((e for e in self.exchanges.values() if path.startswith(e.prefixes)), None)

    # --- executing -----------------------------------------------------------------------------

    def execute(self, book: Book, order: int, fills: list[tuple]) -> list[Fill]:
        """Execute (qty, price, fee, coin, maker[, kind, leg]) fills of `order` now and push them to
        subscribers. Without a kind a fill is a trade; without a leg it opens its side's (see `Book.opening_leg`)."""
        ts = self.now_ms()
        indices = []
        for q, p, f, c, m, *more in fills:
            kind, leg = (*more, TRADE, None)[:2]
            indices.append(book.add_fill(order, ts=ts, qty=q, price=p, fee=f, coin=c, maker=m, kind=kind, leg=leg))
        return self._published(book, indices)

    def _published(self, book: Book, indices: list[int]) -> list[Fill]:
        executed = [book.fill(i) for i in indices]
        if self.state is not None:
            self.state.sync()
        self.feed.publish(book.account.name, executed)
        return executed

    def settle_funding(self, book: Book, rate: Decimal, mark_price: Decimal | None = None) -> list[Fill]:
        """Funding now on every open position of a perpetual's book, at `rate` and the mark price
        (default: the last price): each leg pays size x mark x rate (a long pays a positive rate, a
        short receives it), rounded to the venue's `funding_places`, as a funding row of the leg."""
        market, venue = book.market, book.account.venue
        if not market.settle:
            raise Rejected(f"{market.symbol} is spot: no funding")
        mark = to_units(mark_price if mark_price is not None else Decimal(book.last_price()), market.price_step, "mark price")
        if mark <= 0:
            raise Rejected("the mark price is positive")
        ts = self.now_ms()
        quantum = Decimal(1).scaleb(-venue.funding_places)
        indices = []
        for leg, size in book.open_positions().items():
            if size == 0:
                continue
            value = WIDE.multiply(WIDE.multiply(Decimal(abs(size)), market.amount_step), WIDE.multiply(Decimal(mark), market.price_step))
            paid = WIDE.multiply(value, rate).copy_sign(rate if size > 0 else -rate).quantize(quantum, rounding=ROUND_HALF_UP)
            buy = venue.funding_row_buys(size)
            order = book.open_order(buy=buy, qty=abs(size), price=mark, market_order=True, created=ts)
            indices.append(
                book.add_fill(
                    order, ts=ts, qty=abs(size), price=mark, fee=to_units(paid, FEE_QUANTUM, "funding"),
                    coin=book.coin_index(market.settle), maker=False, kind=FUNDING, leg=leg, rate=plain(rate),
                )
            )
        return self._published(book, indices)

    async def _funding_schedule(self, book: Book, interval_hours: float, rate: Decimal) -> None:
        """Funding at the venue's times: every `interval_hours` from 00:00 UTC."""
        interval_ms = int(interval_hours * 3_600_000)
        while True:
            now = self.now_ms()
            await asyncio.sleep(((now // interval_ms + 1) * interval_ms - now) / 1000)
            self.settle_funding(book, rate)

    async def _trickle(self, account: AccountConfig) -> None:
        """Live orders at `orders_per_minute`, maker orders filling piece by piece."""
        generator = account.generator
        books = self.ledger.books_of(account.name)
        resumed = sum(len(book.order_qty) for book in books)  # live orders kept from an earlier run
        rng = random.Random(f"{self.config.seed}:{account.name}:live" + (f":{resumed}" if resumed else ""))
        planners = {
            book.market.symbol: LivePlanner(account, book.market, book.coins, rng, stable_key(self.config.seed, account.name, book.market.symbol, "history"))
            for book in books
        }
        if generator.start:
            await asyncio.sleep(max(0.0, generator.start.timestamp() - self.clock()))
        while True:
            await asyncio.sleep(rng.expovariate(generator.orders_per_minute / 60))
            book = rng.choice(books)
            plan = planners[book.market.symbol].plan(self.now_ms())
            order = book.open_order(buy=plan.buy, qty=plan.qty, price=plan.price, market_order=not plan.maker, created=self.now_ms())
            fills = [(q, p, f, c, plan.maker) for q, p, f, c in plan.fills]
            if not plan.maker:
                self.execute(book, order, fills)
                continue
            for n, fill in enumerate(fills):
                if n:
                    await asyncio.sleep(rng.uniform(0.2, 3.0))
                self.execute(book, order, [fill])

    # --- serving -------------------------------------------------------------------------------

    @web.middleware
    async def _gate(self, request: web.Request, handler):
        """Count exchange calls, and answer them with a pending REST fault instead, if one matches."""
        exchange = self.exchange_of(request.path)
        if exchange is None:
            return await handler(request)
        self.stats[f"{request.method} {request.path}"] += 1
        is_websocket = request.headers.get("Upgrade", "").lower() == "websocket"
        fault = None if is_websocket else self.faults.take_rest(exchange.name, request.path)
        if fault is not None and fault.kind == "429":
            return exchange.rate_limited(request.path, fault.retry_after)
        if fault is not None and fault.kind == "5xx":
            status = fault.status or 503
            return web.Response(status=status, text=f"<html><body><h1>{status} Service Unavailable</h1></body></html>", content_type="text/html")
        if fault is not None and fault.kind == "hang":
            await asyncio.sleep(fault.seconds)
        try:
            answer = await handler(request)
        except web.HTTPNotFound:
            logger.warning("the simulator does not serve %s %s", request.method, request.path)
            raise
        if fault is not None and fault.kind == "malformed":
            body = answer.body if isinstance(answer.body, bytes) else b"{}"
            return web.Response(status=200, body=body[: max(1, len(body) // 2)], content_type="application/json")
        if fault is not None and fault.kind == "corrupt":
            return self._corrupted(exchange, answer, fault)
        return answer

    def _corrupted(self, exchange: Exchange, answer: web.Response, fault) -> web.Response:
        """The answer with its first trade spoiled; with no trade in it, the fault waits for the next call."""
        try:
            body = json.loads(answer.body)
        except (TypeError, ValueError):
            body = None
        if body is None or not exchange.corrupt_rest(body, fault.how):
            self.faults.give_back(fault)
            return answer
        headers = {k: v for k, v in answer.headers.items() if k.lower() not in ("content-type", "content-length")}
        return web.Response(status=answer.status, text=json.dumps(body, separators=(",", ":")), content_type="application/json", headers=headers)

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._gate])
        app[SIMULATOR] = self
        for exchange in self.exchanges.values():
            exchange.add_routes(app)
        control.add_routes(app, self)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self.runner = web.AppRunner(self.build_app(), access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        for account in self.config.accounts:
            if account.generator.orders_per_minute > 0:
                self.trickles.append(asyncio.create_task(self._trickle(account)))
            for book in self.ledger.books_of(account.name):
                interval, rate = account.funding.for_market(book.market.symbol)
                if book.market.settle and interval > 0:
                    self.trickles.append(asyncio.create_task(self._funding_schedule(book, interval, rate)))
        return self.port

    async def stop(self) -> None:
        for task in self.trickles:
            task.cancel()
        await asyncio.gather(*self.trickles, return_exceptions=True)
        for connection in list(self.feed.connections):
            await connection.ws.close()
        if self.runner is not None:
            await self.runner.cleanup()
        if self.state is not None:
            self.state.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def serve_forever(
    config: SimConfig, host: str, port: int, ready=None, stop: asyncio.Event | None = None, *, state: str | Path | None = None
) -> None:
    """Serve until `stop` is set (or, without one, until cancelled)."""
    simulator = Simulator(config, state=state)
    await simulator.start(host, port)
    try:
        if ready is not None:
            await ready(simulator)
        await (stop or asyncio.Event()).wait()
    finally:
        await simulator.stop()


class SimulatorThread:
    """A simulator on its own event loop in a daemon thread: for tests and tools that run their own loop."""

    def __init__(self, config: SimConfig, port: int = 0, *, state: str | Path | None = None):
        self.config, self.requested_port, self.state = config, port, state
        self.simulator: Simulator | None = None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="exchange-simulator", daemon=True)

    def start(self) -> Simulator:
        self.thread.start()
        self.simulator = asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=30)
        return self.simulator

    async def _start(self) -> Simulator:
        simulator = Simulator(self.config, state=self.state)
        await simulator.start("127.0.0.1", self.requested_port)
        return simulator

    def call(self, function, *args):
        """Run `function(*args)` on the simulator's loop and return its result (for direct inspection)."""

        async def run():
            return function(*args)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=30)

    def stop(self) -> None:
        if self.simulator is not None:
            asyncio.run_coroutine_threadsafe(self.simulator.stop(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()
