"""ccxt's request limiter, crediting the time it sat idle.

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

from ccxt.async_support.base.throttler import Throttler


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
