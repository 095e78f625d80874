"""Request budgets: one per limit a venue counts requests against, and per key it counts them by (an
IP, a user, a user's endpoint), shared by every client that spends it: in one process, and across
processes through Redis when `REDIS_URL` is set (the distributed deployment: `track` without Redis
shares within its one process).

A venue module declares its budgets (`Budget`: the windows and their limits, who the venue counts by,
how a ccxt cost becomes the venue's weight). The counting is pyrate-limiter's: its `FixedWindow`
(windows on the clock, as Binance's minute) or `SlidingWindowLog` (rolling, as Bybit's second), in
its `InMemoryBucket` or `RedisBucket`. What the venue knows better than the count comes on top:
- its usage headers (`resync`): where the venue says more was spent than counted here (another
  program on the IP, a WebSocket API request, a restart), the difference is spent here too;
- its refusals (`block`): a 429 or 418 with Retry-After closes the budget for every client until then;
- priority: a request of a catch-up (`CATCH_UP`: after a stream reconnect, or a REST catch-up) goes
  before any routine one; routine requests wait while a catch-up is waiting, in any process.

Requests near a fixed window's boundary wait until it has passed by `FIXED_GUARD_MS`, and rolling
windows are counted `ROLLING_MARGIN_MS` longer than the venue's: the venue counts a request when it
arrives, this budget when it leaves, and the clocks differ by a little.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import uuid
import weakref
from bisect import bisect_left, bisect_right
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from operator import attrgetter
from urllib.parse import urlsplit

import redis.asyncio
from pyrate_limiter import FixedWindow, InMemoryBucket, Rate, RateItem, RedisBucket, SlidingWindowLog
from pyrate_limiter.buckets.redis_bucket import LuaScript
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

IP, USER, USER_ENDPOINT = "ip", "user", "user endpoint"
CATCH_UP, ROUTINE = 0, 1
FIXED_GUARD_MS = 250
ROLLING_MARGIN_MS = 50
URGENT_TTL_MS = 30_000  # a catch-up waiter's mark outlives a process that died waiting by this much
DEMAND_TTL_MS = 15 * 60_000
ROUTINE_SHARE = 0.8  # of a budget's rate, what routine passes are planned to fill: the rest is headroom
POLL_MS = 50  # how often a routine request looks again while a catch-up waits
LEAK_EVERY = 200  # requests between two clean-ups of a budget's expired entries

REDIS_ERRORS = (RedisError, OSError)
_timestamp = attrgetter("timestamp")
request_priority: ContextVar[int] = ContextVar("request_priority", default=ROUTINE)


@contextlib.contextmanager
def priority(level: int):
    """Requests made within (and in tasks started within) go at this priority."""
    token = request_priority.set(level)
    try:
        yield
    finally:
        request_priority.reset(token)


@dataclass(frozen=True)
class Window:
    limit: int
    seconds: float


@dataclass(frozen=True)
class Budget:
    """One limit of a venue: its windows, who it is counted by, what a request weighs in it."""

    name: str  # weight, endpoint, ip
    counted_by: str  # IP, USER, USER_ENDPOINT
    windows: tuple[Window, ...]
    fixed_windows: bool = False  # windows on the clock (the minute) rather than rolling
    weight_per_cost: float | None = None  # the venue's weight = ccxt's cost x this; None: each request counts one
    endpoint_limits: dict = field(default_factory=dict)  # ccxt path -> the limit of its windows (USER_ENDPOINT)
    private_only: bool = False  # public endpoints do not spend it

    def weight(self, cost) -> int:
        if self.weight_per_cost is None:
            return 1
        return max(1, round(float(cost or 0) * self.weight_per_cost))

    def windows_for(self, path: str) -> tuple[Window, ...]:
        limit = self.endpoint_limits.get(path)
        if limit is None:
            return self.windows
        return tuple(Window(limit, w.seconds) for w in self.windows)

    def applies_to(self, api) -> bool:
        if not self.private_only:
            return True
        names = api if isinstance(api, (list, tuple)) else [api]
        return any("private" in str(name).lower() for name in names)

    def per_second(self, path: str = "") -> float:
        return min(w.limit / w.seconds for w in self.windows_for(path))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def budget_key(exchange: str, base_url: str, budget: Budget, api_key: str, path: str) -> str:
    """Where the budget is kept: the venue (the exchange at its address), the budget, and the key it is
    counted by. API keys are kept as digests."""
    where = urlsplit(base_url).netloc if base_url else "live"
    key = {IP: "ip", USER: _digest(api_key), USER_ENDPOINT: f"{_digest(api_key)}:{path}"}[budget.counted_by]
    return f"budget:{exchange}:{where}:{budget.name}:{key}"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class MemoryStore:
    """A budget's state in this process."""

    def __init__(self, rates: list[Rate], fixed: bool):
        self.algorithm = FixedWindow() if fixed else SlidingWindowLog()
        self.bucket = InMemoryBucket(rates, algorithm=self.algorithm)
        self.blocked_until_ms = 0
        self.urgent: dict[str, int] = {}
        self.demands: dict[str, tuple[float, int]] = {}

    async def put(self, weight: int, at_ms: int, name: str = "request") -> int:
        """Spend `weight` at `at_ms` if every window has room: 0; else the ms until one might."""
        decision = self.bucket.put_decision(RateItem(name, at_ms, weight))
        if decision.allowed:
            return 0
        return max(1, decision.retry_after_ms or POLL_MS)

    async def used(self, rate: Rate, at_ms: int) -> int:
        items = self.bucket.items
        start = bisect_left(items, self.algorithm.window_start(rate, at_ms), key=_timestamp)
        return bisect_right(items, at_ms, key=_timestamp) - start

    async def leak(self, at_ms: int) -> None:
        self.bucket.leak(at_ms)

    async def blocked_until(self) -> int:
        return self.blocked_until_ms

    async def block(self, until_ms: int) -> None:
        self.blocked_until_ms = max(self.blocked_until_ms, until_ms)

    async def mark_urgent(self, waiter: str, until_ms: int | None) -> None:
        if until_ms is None:
            self.urgent.pop(waiter, None)
        else:
            self.urgent[waiter] = until_ms

    async def urgent_waiting(self, at_ms: int) -> bool:
        return any(until > at_ms for until in self.urgent.values())

    async def set_demand(self, member: str, weight_per_pass: float, until_ms: int) -> None:
        self.demands[member] = (weight_per_pass, until_ms)

    async def demand(self, at_ms: int) -> float:
        return sum(weight for weight, until in self.demands.values() if until > at_ms)


class CountingAheadRedisBucket(RedisBucket):
    """pyrate-limiter's `RedisBucket`, counting a window's entries from its start to the end of time
    rather than to the new entry's timestamp. Processes read their clocks before their scripts run:
    one whose script runs second with the earlier reading would not count the first one's entry
    (stamped a moment later) and take the room twice. An entry stamped ahead can only make the count
    higher, never let a request through."""

    SCRIPT = LuaScript.PUT_ITEM.replace("redis.call('ZCOUNT', bucket, window_start, now)", "redis.call('ZCOUNT', bucket, window_start, '+inf')")

    @classmethod
    async def init(cls, rates, redis, bucket_key, algorithm=None):
        return cls(rates, redis, bucket_key, await redis.script_load(cls.SCRIPT), algorithm)


if CountingAheadRedisBucket.SCRIPT == LuaScript.PUT_ITEM:
    raise ImportError("pyrate-limiter's Redis script is not the one CountingAheadRedisBucket changes: check its version")


class RedisStore:
    """A budget's state in Redis, shared by every process of the deployment. The count is
    pyrate-limiter's `RedisBucket` (one atomic script per request); a redis.asyncio client belongs to
    one event loop, so each loop gets its own client and bucket."""

    def __init__(self, url: str, key: str, rates: list[Rate], fixed: bool):
        self.url, self.key, self.rates = url, key, rates
        self.algorithm = FixedWindow() if fixed else SlidingWindowLog()
        self._buckets: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    async def _bucket(self) -> CountingAheadRedisBucket:
        loop = asyncio.get_running_loop()
        bucket = self._buckets.get(loop)
        if bucket is None:
            client = redis.asyncio.Redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=5)
            bucket = await CountingAheadRedisBucket.init(self.rates, client, self.key, algorithm=self.algorithm)
            self._buckets[loop] = bucket
        return bucket

    async def _redis(self):
        return (await self._bucket()).redis

    async def put(self, weight: int, at_ms: int, name: str = "request") -> int:
        bucket = await self._bucket()
        decision = await bucket.put_decision(RateItem(name, at_ms, weight))
        if decision.allowed:
            return 0
        return max(1, decision.retry_after_ms or POLL_MS)

    async def used(self, rate: Rate, at_ms: int) -> int:
        return int(await (await self._redis()).zcount(self.key, self.algorithm.window_start(rate, at_ms), "+inf"))

    async def leak(self, at_ms: int) -> None:
        """Drop what every window has left behind; a budget no process spends any more expires."""
        bucket = await self._bucket()
        await bucket.leak(at_ms)
        await bucket.redis.pexpire(self.key, 2 * max(rate.interval for rate in self.rates))

    async def blocked_until(self) -> int:
        value = await (await self._redis()).get(self.key + ":blocked")
        return int(value) if value else 0

    async def block(self, until_ms: int) -> None:
        redis = await self._redis()
        ttl = max(1, until_ms - now_ms())
        current = await redis.get(self.key + ":blocked")
        if not current or int(current) < until_ms:
            await redis.set(self.key + ":blocked", until_ms, px=ttl)

    async def mark_urgent(self, waiter: str, until_ms: int | None) -> None:
        redis = await self._redis()
        if until_ms is None:
            await redis.zrem(self.key + ":urgent", waiter)
        else:
            await redis.zadd(self.key + ":urgent", {waiter: until_ms})
            await redis.pexpire(self.key + ":urgent", DEMAND_TTL_MS)

    async def urgent_waiting(self, at_ms: int) -> bool:
        return bool(await (await self._redis()).zcount(self.key + ":urgent", at_ms + 1, "+inf"))

    async def set_demand(self, member: str, weight_per_pass: float, until_ms: int) -> None:
        redis = await self._redis()
        await redis.hset(self.key + ":demand", member, f"{weight_per_pass}:{until_ms}")
        await redis.pexpire(self.key + ":demand", DEMAND_TTL_MS)

    async def demand(self, at_ms: int) -> float:
        total = 0.0
        for value in (await (await self._redis()).hgetall(self.key + ":demand")).values():
            weight, until = value.decode().split(":")
            if int(until) > at_ms:
                total += float(weight)
        return total


def rates_of(budget: Budget, path: str) -> list[Rate]:
    margin = 0 if budget.fixed_windows else ROLLING_MARGIN_MS
    return [Rate(w.limit, int(w.seconds * 1000) + margin) for w in budget.windows_for(path)]


class SharedBudget:
    """One budget at one key: what every client spending it asks before a request."""

    def __init__(self, budget: Budget, path: str, store, *, clock: Callable[[], int] = now_ms, sleep: Callable[[float], Awaitable] = asyncio.sleep):
        self.budget, self.path = budget, path
        self.rates = rates_of(budget, path)
        self.clock, self.sleep = clock, sleep
        self._puts = 0
        self._shared_store, self._local_store, self._local_until = store, None, 0

    @property
    def store(self):
        """The shared store; for a minute after it failed (Redis unreachable), one in this process."""
        if self._local_store is not None and self.clock() < self._local_until:
            return self._local_store
        return self._shared_store

    async def _with_fallback(self, work, default=None):
        try:
            return await work()
        except REDIS_ERRORS as error:
            if self.store is not self._shared_store:
                raise
            logger.warning("request budget %s: Redis failed (%s); counting in this process for a minute", self.budget.name, error)
            self._local_store = self._local_store or MemoryStore(self.rates, self.budget.fixed_windows)
            self._local_until = self.clock() + 60_000
            return await work() if default is None else default

    def _guard_wait_ms(self, at: int) -> int:
        """Ms to wait so as not to send within FIXED_GUARD_MS of a fixed window's boundary."""
        if not self.budget.fixed_windows:
            return 0
        wait = 0
        for rate in self.rates:
            into = at % rate.interval
            if into < FIXED_GUARD_MS:
                wait = max(wait, FIXED_GUARD_MS - into)
            elif rate.interval - into <= FIXED_GUARD_MS:
                wait = max(wait, rate.interval - into + FIXED_GUARD_MS)
        return wait

    async def acquire(self, weight: int, level: int = ROUTINE) -> int:
        """Wait until `weight` may be spent, spend it, and return the time (ms) it was spent at. A
        request heavier than a whole window (none is, at the venues' limits) spends the window."""
        weight = min(weight, *(rate.limit for rate in self.rates))
        return await self._with_fallback(lambda: self._acquire(weight, level))

    async def _acquire(self, weight: int, level: int) -> int:
        waiter = uuid.uuid4().hex
        marked = False
        try:
            while True:
                at = self.clock()
                wait = max(0, await self.store.blocked_until() - at)
                if level == CATCH_UP and not marked:
                    await self.store.mark_urgent(waiter, at + URGENT_TTL_MS)
                    marked = True
                elif level != CATCH_UP and await self.store.urgent_waiting(at):
                    wait = max(wait, POLL_MS)
                wait = max(wait, self._guard_wait_ms(at + wait))
                if not wait:
                    at = self.clock()  # the checks above may have waited on Redis
                    wait = await self.store.put(weight, at)
                    if not wait:
                        self._puts += 1
                        if self._puts % LEAK_EVERY == 1:
                            await self.store.leak(at)
                        return at
                if marked:  # still waiting: the mark lasts past this wait
                    await self.store.mark_urgent(waiter, self.clock() + wait + URGENT_TTL_MS)
                await self.sleep(wait / 1000)
        finally:
            if marked:
                await self.store.mark_urgent(waiter, None)

    async def resync(self, used: int, window_seconds: float, spent_at: int | None) -> int:
        return await self._with_fallback(lambda: self._resync(used, window_seconds, spent_at), 0)

    async def _resync(self, used: int, window_seconds: float, spent_at: int | None) -> int:
        """The venue says `used` is spent in its current window of `window_seconds`: spend here what
        it counted and this budget did not. A fixed window's count is taken only from an answer to a
        request spent in the window it is now (an answer from the previous one would close this one).
        Returns the weight added."""
        rate = next((r for r in self.rates if abs(r.interval - window_seconds * 1000) <= ROLLING_MARGIN_MS), None)
        if rate is None:
            return 0
        at = self.clock()
        if self.budget.fixed_windows and (spent_at is None or spent_at - spent_at % rate.interval != at - at % rate.interval):
            return 0
        missing = min(used, rate.limit) - await self.store.used(rate, at)
        if missing <= 0:
            return 0
        await self.store.put(missing, at, name="venue")
        return missing

    async def block(self, seconds: float) -> None:
        await self._with_fallback(lambda: self.store.block(self.clock() + int(seconds * 1000)), False)

    async def note_demand(self, member: str, weight_per_pass: float) -> None:
        await self._with_fallback(lambda: self.store.set_demand(member, weight_per_pass, self.clock() + DEMAND_TTL_MS), False)

    async def pass_interval(self, base_seconds: float) -> float:
        """How often each of the accounts on this budget can have a routine pass: every
        `base_seconds`, or, when their passes together would need more than ROUTINE_SHARE of the
        budget's rate, as often as fits."""
        demand = await self._with_fallback(lambda: self.store.demand(self.clock()), 0.0)
        return max(base_seconds, demand / (self.budget.per_second(self.path) * ROUTINE_SHARE))


_shared: dict[str, SharedBudget] = {}


def shared_budget(key: str, budget: Budget, path: str, redis_url: str = "") -> SharedBudget:
    """The process's one `SharedBudget` of a key; kept in Redis when `redis_url` is given."""
    found = _shared.get(key)
    if found is None:
        rates = rates_of(budget, path)
        store = RedisStore(redis_url, key, rates, budget.fixed_windows) if redis_url else MemoryStore(rates, budget.fixed_windows)
        found = _shared[key] = SharedBudget(budget, path, store)
    return found


def shared_budget_at(key: str) -> SharedBudget | None:
    return _shared.get(key)


def forget_budgets() -> None:
    """Drop this process's budgets (tests: a simulator's port may be reused by the next one)."""
    _shared.clear()

