"""ccxt's request limiter, crediting the time it sat idle, and the hook that puts a client's requests
on the venue's shared budgets.

ccxt's leaky bucket (`ccxt.async_support.base.throttler.Throttler`) refills only while calls wait in
its queue: its loop stops when the queue empties and, started again by the next call, counts from
then. A caller that does anything between calls (REST sync stores a page, then asks for the next)
therefore waits its whole spacing again after that work: Binance's backfill ran at 1.4 times the
time its weight limit allows. This bucket refills for all the time since it last did, so calls
come at the configured rate and no faster, whatever the caller does between them.
"""

from __future__ import annotations

import asyncio
import time
from contextvars import ContextVar

from ccxt.async_support.base.throttler import Throttler

from .budgets import Budget, SharedBudget, budget_key, request_priority, shared_budget, shared_budget_at


class IdleCreditingThrottler(Throttler):
    def __init__(self, config, loop=None, clock=time.time):
        super().__init__(config, loop)
        self.clock = clock
        self._refilled_at = clock() * 1000

    def _refill(self) -> None:
        now = self.clock() * 1000
        tokens = self.config["tokens"] + (now - self._refilled_at) * self.config["refillRate"]
        self.config["tokens"] = min(tokens, self.config["capacity"])
        self._refilled_at = now

    async def leaky_bucket_loop(self):
        while self.running:
            future, cost = self.queue[0]
            cost = self.config["cost"] if cost is None else cost
            self._refill()
            if self.config["tokens"] >= 0:
                self.config["tokens"] -= cost
                if not future.done():
                    future.set_result(None)
                self.queue.popleft()
                await asyncio.sleep(0)
                if not self.queue:
                    self.running = False
            else:
                await asyncio.sleep(self.config["delay"])


def credit_idle_time(client) -> None:
    """Give a ccxt client (before its first request) the limiter above, with the same settings."""
    client.throttler = IdleCreditingThrottler(client.tokenBucket, client.asyncio_loop)


_spent: ContextVar[tuple | None] = ContextVar("request_budget_spent", default=None)


class BudgetHook:
    """Puts a ccxt client's requests on the venue's shared budgets (`exchanges.budgets`), in ccxt's own
    request path: `fetch2` asks `calculate_rate_limiter_cost` (kept as ccxt's, noted here with the
    endpoint) and awaits `throttle(cost)` (the client's own pacing above, then every budget the
    request spends); `fetch` hands each answer's headers to `on_rest_response` (ccxt's, after the
    venue's usage headers resynchronise the budgets, and a 429 or 418's Retry-After closes them).

    `spent` counts the weight this client spent per budget key: what a pass cost."""

    def __init__(self, client, venue, *, api_key: str, base_url: str, redis_url: str):
        self.venue = venue
        self.api_key, self.base_url, self.redis_url = api_key, base_url, redis_url
        self.spent: dict[str, int] = {}
        self._request: tuple = ((), "")
        self._pace = client.throttle
        self._cost = client.calculate_rate_limiter_cost
        self._on_rest_response = client.on_rest_response
        self._pending: set[asyncio.Task] = set()
        client.calculate_rate_limiter_cost = self.calculate_rate_limiter_cost
        client.throttle = self.throttle
        client.on_rest_response = self.on_rest_response

    def budgets_of(self, api, path: str) -> list[tuple[str, Budget, SharedBudget]]:
        found = []
        for budget in self.venue.budgets:
            if budget.applies_to(api):
                key = budget_key(self.venue.exchange, self.base_url, budget, self.api_key, path)
                found.append((key, budget, shared_budget(key, budget, path, self.redis_url)))
        return found

    def calculate_rate_limiter_cost(self, api, method, path, params, config={}):  # noqa: B006 (ccxt's signature)
        cost = self._cost(api, method, path, params, config)
        self._request = (api, path)  # fetch2 awaits throttle(cost) next, in the same step
        return cost

    async def throttle(self, cost=None):
        (api, path), self._request = self._request, ((), "")
        await self._pace(cost)
        level = request_priority.get()
        spent = []
        for key, budget, shared in self.budgets_of(api, path):
            weight = budget.weight(cost)
            spent.append((shared, await shared.acquire(weight, level)))
            self.spent[key] = self.spent.get(key, 0) + weight
        _spent.set(tuple(spent))

    def on_rest_response(self, code, reason, url, method, response_headers, response_body, request_headers, request_body):
        spent = _spent.get() or ()
        if spent:
            usage = self.venue.budget_usage(response_headers or {})
            retry_after = _retry_after(response_headers) if code in (429, 418) else None
            if usage or retry_after:
                task = asyncio.ensure_future(self._learn(spent, usage, retry_after))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)
        return self._on_rest_response(code, reason, url, method, response_headers, response_body, request_headers, request_body)

    async def _learn(self, spent, usage, retry_after) -> None:
        for shared, spent_at in spent:
            for name, window_seconds, used in usage:
                if name == shared.budget.name:
                    await shared.resync(used, window_seconds, spent_at)
            if retry_after:
                await shared.block(retry_after)


def _retry_after(headers) -> float | None:
    value = next((v for k, v in (headers or {}).items() if k.lower() == "retry-after"), None)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def share_budgets(client, venue, *, api_key: str, base_url: str, redis_url: str = "") -> BudgetHook:
    """Give a ccxt client (after `credit_idle_time`, before its first request) the venue's shared budgets."""
    hook = BudgetHook(client, venue, api_key=api_key, base_url=base_url, redis_url=redis_url)
    client.budget_hook = hook
    return hook


async def pass_interval(member: str, spent_in_pass: dict[str, int], base_seconds: float) -> float:
    """The seconds to leave between `member`'s routine passes: `spent_in_pass` (weight
    per budget key, one pass's) is noted as its demand on each budget, and the budget most in demand
    sets the interval (`SharedBudget.pass_interval`)."""
    interval = base_seconds
    for key, weight in spent_in_pass.items():
        shared = shared_budget_at(key)
        if shared is not None and weight > 0:
            await shared.note_demand(member, weight)
            interval = max(interval, await shared.pass_interval(base_seconds))
    return interval
