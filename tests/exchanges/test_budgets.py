"""The shared request budgets, on a fake clock: windows, weights, the venue's headers, refusals,
priority, and the REST cadence they plan."""

import asyncio
import uuid

import pytest

from exchanges.budgets import CATCH_UP, FIXED_GUARD_MS, ROLLING_MARGIN_MS, ROUTINE, Budget, MemoryStore, RedisStore, SharedBudget, Window, rates_of
from exchanges.venues import VENUES

BINANCE_WEIGHT = VENUES["binance_spot"].budgets[0]
BYBIT_ENDPOINT = VENUES["bybit_linear"].budgets[0]
MINUTE = 60_000
T0 = 1_800_000_000_000 + 1_000  # a second into a minute


class FakeTime:
    def __init__(self, now: int = T0):
        self.now = now

    def clock(self) -> int:
        return self.now

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)


@pytest.fixture(autouse=True)
async def _no_request_left_waiting():
    """A test leaves requests waiting on its fake clock: cancel them with it."""
    yield
    left = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in left:
        task.cancel()
    await asyncio.gather(*left, return_exceptions=True)


def shared(budget: Budget, time: FakeTime, path: str = "", store=None) -> SharedBudget:
    store = store or MemoryStore(rates_of(budget, path), budget.fixed_windows)
    return SharedBudget(budget, path, store, clock=time.clock, sleep=time.sleep)


async def settle(task: asyncio.Task | None = None) -> bool:
    for _ in range(50):
        await asyncio.sleep(0)
    return task is None or task.done()


async def test_a_fixed_window_takes_its_limit_and_the_next_request_waits_for_the_next_window():
    time = FakeTime()
    budget = shared(BINANCE_WEIGHT, time)
    for _ in range(300):  # myTrades, weight 20: 6,000
        assert await budget.acquire(20) == T0

    waiting = asyncio.create_task(budget.acquire(20))
    assert not await settle(waiting)
    time.now = T0 - T0 % MINUTE + MINUTE  # the next minute begins: still within the guard
    assert not await settle(waiting)
    time.now += FIXED_GUARD_MS
    assert await settle(waiting)
    assert waiting.result() == time.now


async def test_no_request_leaves_just_before_a_fixed_window_ends():
    time = FakeTime(T0 - T0 % MINUTE + MINUTE - FIXED_GUARD_MS // 2)
    waiting = asyncio.create_task(shared(BINANCE_WEIGHT, time).acquire(20))
    assert not await settle(waiting)
    time.now += FIXED_GUARD_MS // 2 + FIXED_GUARD_MS
    assert await settle(waiting)


async def test_a_rolling_window_frees_each_request_a_second_after_it():
    time = FakeTime()
    budget = shared(BYBIT_ENDPOINT, time, "v5/execution/list")
    for _ in range(50):  # execution/list's own limit, not the default 10
        await budget.acquire(1)
        time.now += 10

    waiting = asyncio.create_task(budget.acquire(1))
    assert not await settle(waiting)
    time.now = T0 + 1000 + ROLLING_MARGIN_MS + 1  # the first request has left the window
    assert await settle(waiting)


async def test_other_endpoints_of_the_user_have_the_default_limit():
    time = FakeTime()
    budget = shared(BYBIT_ENDPOINT, time, "v5/account/info")
    for _ in range(10):
        await budget.acquire(1)
    assert not await settle(asyncio.create_task(budget.acquire(1)))


def test_a_request_weighs_its_ccxt_cost_in_the_venues_weight():
    assert BINANCE_WEIGHT.weight(4) == 20  # myTrades and exchangeInfo: ccxt's cost 4, Binance's weight 20
    assert BINANCE_WEIGHT.weight(0.2) == 1  # ping
    assert BYBIT_ENDPOINT.weight(5) == 1  # Bybit counts requests


def test_the_venues_headers_say_what_is_spent():
    assert VENUES["binance_spot"].budget_usage({"X-MBX-USED-WEIGHT-1M": "1234", "Content-Type": "x"}) == [("weight", 60, 1234)]
    assert VENUES["bybit_spot"].budget_usage({"X-Bapi-Limit": "50", "X-Bapi-Limit-Status": "47"}) == [("endpoint", 1, 3)]
    assert VENUES["bybit_spot"].budget_usage({}) == []


async def test_a_header_counting_more_than_the_budget_spends_the_difference():
    time = FakeTime()
    budget = shared(BINANCE_WEIGHT, time)
    spent_at = await budget.acquire(20)
    assert await budget.resync(5990, 60, spent_at) == 5970  # another program on the IP spent the rest

    waiting = asyncio.create_task(budget.acquire(20))
    assert not await settle(waiting)


async def test_a_header_counting_less_changes_nothing():
    time = FakeTime()
    budget = shared(BINANCE_WEIGHT, time)
    spent_at = await budget.acquire(20)
    await budget.acquire(20)
    assert await budget.resync(20, 60, spent_at) == 0


async def test_an_answer_to_a_request_of_the_previous_window_is_not_taken_for_this_one():
    time = FakeTime()
    budget = shared(BINANCE_WEIGHT, time)
    spent_at = await budget.acquire(20)
    time.now += MINUTE
    assert await budget.resync(6000, 60, spent_at) == 0
    assert await settle(asyncio.create_task(budget.acquire(20)))


async def test_a_refusal_closes_the_budget_for_its_retry_after():
    time = FakeTime()
    budget = shared(BINANCE_WEIGHT, time)
    await budget.block(120)  # a 418's Retry-After
    waiting = asyncio.create_task(budget.acquire(20))
    time.now += 119_000
    assert not await settle(waiting)
    time.now += 1_000
    assert await settle(waiting)


async def test_a_catch_up_goes_before_routine_requests_that_waited_longer():
    time = FakeTime()
    budget = shared(Budget("weight", "ip", (Window(20, 60),), fixed_windows=True, weight_per_cost=5), time)
    await budget.acquire(20)  # the window is full
    routine = asyncio.create_task(budget.acquire(20, ROUTINE))
    assert not await settle(routine)
    catch_up = asyncio.create_task(budget.acquire(20, CATCH_UP))
    assert not await settle(catch_up)

    time.now = T0 - T0 % MINUTE + MINUTE + FIXED_GUARD_MS  # room for one request
    assert await settle(catch_up)
    assert not await settle(routine)
    time.now += MINUTE
    assert await settle(routine)


async def test_routine_passes_are_spread_when_their_accounts_do_not_fit():
    time = FakeTime()
    budget = shared(BINANCE_WEIGHT, time)
    for account in range(2):
        await budget.note_demand(f"account {account}", 600)
    assert await budget.pass_interval(30) == 30  # 1,200 a pass of both: well within 6,000 a minute

    for account in range(2, 10):
        await budget.note_demand(f"account {account}", 600)
    # 6,000 weight for one pass of each: at 80 % of 100 a second, one pass each per 75 s.
    assert await budget.pass_interval(30) == pytest.approx(75)


REDIS_URL = "redis://127.0.0.1:6379/9"


async def test_budgets_in_redis_are_one_for_every_process():
    time = FakeTime()
    key = f"budget:test:{uuid.uuid4().hex}"
    small = Budget("weight", "ip", (Window(40, 60),), fixed_windows=True, weight_per_cost=5)
    first, second = (shared(small, time, store=RedisStore(REDIS_URL, key, rates_of(small, ""), True)) for _ in range(2))
    await first.acquire(20)
    await second.acquire(20)
    waiting = asyncio.create_task(first.acquire(20))
    assert not await settle(waiting)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)


async def test_in_redis_an_entry_stamped_a_moment_later_by_another_process_still_counts():
    """Two processes read their clocks, and the one with the earlier reading runs its script second."""
    key = f"budget:test:{uuid.uuid4().hex}"
    small = Budget("weight", "ip", (Window(40, 60),), fixed_windows=True, weight_per_cost=5)
    first, second = (RedisStore(REDIS_URL, key, rates_of(small, ""), True) for _ in range(2))
    assert await first.put(40, T0 + 5) == 0
    assert await second.put(20, T0) > 0


async def test_a_budget_counts_on_in_the_process_while_redis_is_unreachable():
    time = FakeTime()
    budget = shared(BINANCE_WEIGHT, time, store=RedisStore("redis://127.0.0.1:1/0", "budget:test:gone", rates_of(BINANCE_WEIGHT, ""), True))
    assert await budget.acquire(20) == T0


async def test_a_request_heavier_than_a_window_spends_the_whole_window_rather_than_wait_forever():
    time = FakeTime()
    budget = shared(Budget("weight", "ip", (Window(10, 60),), fixed_windows=True, weight_per_cost=5), time)
    assert await budget.acquire(50) == T0
    assert not await settle(asyncio.create_task(budget.acquire(1)))
