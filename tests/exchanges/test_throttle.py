"""The clients' request limiter: calls spaced at the configured rate, idle time counted."""

import asyncio

from exchanges.throttle import IdleCreditingThrottler


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def bucket(clock: Clock) -> IdleCreditingThrottler:
    # Binance's myTrades as ccxt sees it: cost 4, one token every 51 ms, so a call every 204 ms.
    return IdleCreditingThrottler({"refillRate": 1 / 51, "capacity": 1, "tokens": 0, "delay": 0.001}, clock=clock)


async def released(call: asyncio.Future) -> bool:
    for _ in range(5):
        await asyncio.sleep(0)
    return call.done()


async def test_a_call_after_an_idle_spacing_goes_at_once():
    clock = Clock()
    throttle = bucket(clock)
    assert await released(throttle(4))

    clock.now += 0.250  # the caller stored a page meanwhile
    assert await released(throttle(4))


async def test_a_call_within_the_spacing_waits_for_the_rest_of_it():
    clock = Clock()
    throttle = bucket(clock)
    assert await released(throttle(4))

    clock.now += 0.100
    waiting = throttle(4)
    assert not await released(waiting)

    clock.now += 0.104
    await asyncio.wait_for(waiting, timeout=5)
