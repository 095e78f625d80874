"""Rate limits the way each exchange enforces them.

Binance: request weight per IP in fixed windows (one minute by default); every answer carries the
weight used so far (`X-MBX-USED-WEIGHT-1M`). Over the limit: HTTP 429 with Retry-After; carrying on
while limited: HTTP 418, an IP ban that starts at two minutes and doubles for each repeat.
Bybit: per API key and endpoint, a rolling one-second window reported in `X-Bapi-Limit*` headers;
over it: retCode 10006 "Too many visits!". And per IP, 600 requests in 5 s, beyond which: HTTP 403.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_BAN_SECONDS = 3 * 24 * 3600
WINDOWS_KEPT = 60
BYBIT_ENDPOINT_LIMITS = {"/v5/execution/list": 50}
BINANCE_WEIGHTS = {
    "ping": 1,
    "time": 1,
    "exchangeInfo": 20,
    "ticker/price": 4,
    "klines": 2,
    "myTrades": 20,
    "myTrades:orderId": 5,
    "margin/allPairs": 1,
    "margin/isolated/allPairs": 10,
    "ws:userDataStream.subscribe.signature": 2,
    "ws:other": 2,
}


@dataclass(frozen=True)
class BinanceLimits:
    weight_per_interval: int = 6000
    interval_seconds: int = 60
    violations_before_ban: int = 3  # 429s answered within one interval before the 418 ban
    ban_seconds: int = 120  # the first ban; each further ban doubles, up to three days
    weights: dict = field(default_factory=lambda: dict(BINANCE_WEIGHTS))


@dataclass(frozen=True)
class BybitLimits:
    per_second: int = 10  # per API key (UID) and endpoint, rolling one-second window
    # path -> per-second limit, overriding per_second; execution/list allows 50/s on a UTA 2.0 account
    endpoints: dict = field(default_factory=lambda: dict(BYBIT_ENDPOINT_LIMITS))
    ip_requests: int = 600  # per IP, any endpoint ...
    ip_window_seconds: int = 5  # ... in this rolling window; beyond it: HTTP 403


@dataclass(frozen=True)
class Verdict:
    status: int  # 200 (go ahead), 429 or 418
    used: int  # weight used in the current window
    retry_after: int = 0  # seconds


UNITS = ((86400, "D", "DAY"), (3600, "H", "HOUR"), (60, "M", "MINUTE"), (1, "S", "SECOND"))


def interval_parts(seconds: int) -> tuple[int, str, str]:
    """How Binance names an interval: 60 -> (1, "M", "MINUTE"), 10 -> (10, "S", "SECOND")."""
    for size, letter, unit in UNITS:
        if seconds % size == 0:
            return seconds // size, letter, unit
    raise ValueError(seconds)


class BinanceWeights:
    def __init__(self, limits: BinanceLimits, clock: Callable[[], float]):
        self.limits, self.clock = limits, clock
        self.window_start = 0.0
        self.used = 0
        self.violations = 0
        self.bans = 0
        self.banned_until = 0.0
        self.windows: dict[int, int] = {}  # window start (ms) -> weight served in it, the last WINDOWS_KEPT
        self.interval_num, letter, self.interval_unit = interval_parts(limits.interval_seconds)
        self.header = f"X-MBX-USED-WEIGHT-{self.interval_num}{letter}"

    def _roll(self, now: float) -> None:
        start = now - now % self.limits.interval_seconds
        if start != self.window_start:
            self.window_start, self.used, self.violations = start, 0, 0

    def _spend(self, weight: int) -> None:
        self.used += weight
        self.windows[int(self.window_start * 1000)] = self.used
        while len(self.windows) > WINDOWS_KEPT:
            del self.windows[min(self.windows)]

    def charge(self, weight: int) -> Verdict:
        now = self.clock()
        self._roll(now)
        if now < self.banned_until:
            return Verdict(418, self.used, math.ceil(self.banned_until - now))
        if self.used + weight > self.limits.weight_per_interval:
            self.violations += 1
            if self.violations > self.limits.violations_before_ban:
                seconds = min(MAX_BAN_SECONDS, self.limits.ban_seconds * 2**self.bans)
                self.bans += 1
                self.banned_until = now + seconds
                return Verdict(418, self.used, seconds)
            return Verdict(429, self.used, max(1, math.ceil(self.window_start + self.limits.interval_seconds - now)))
        self._spend(weight)
        return Verdict(200, self.used)

    def ban(self, seconds: float) -> None:
        """Ban the IP now for `seconds` (an injected fault), as if it had carried on while limited."""
        self.banned_until = max(self.banned_until, self.clock() + seconds)

    def state(self) -> dict:
        self._roll(self.clock())
        return {
            "used": self.used,
            "limit": self.limits.weight_per_interval,
            "interval_seconds": self.limits.interval_seconds,
            "violations": self.violations,
            "bans": self.bans,
            "banned_until_ms": int(self.banned_until * 1000) if self.banned_until > self.clock() else None,
            "windows": [{"start_ms": start, "used": used} for start, used in sorted(self.windows.items())],
        }


@dataclass(frozen=True)
class BybitVerdict:
    allowed: bool
    limit: int
    remaining: int
    reset_ms: int


class BybitRates:
    def __init__(self, limits: BybitLimits, clock: Callable[[], float]):
        self.limits, self.clock = limits, clock
        self.calls: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self.ip_calls: deque[float] = deque()
        self.refused = 0

    def ip_allows(self) -> bool:
        now = self.clock()
        calls = self.ip_calls
        while calls and calls[0] <= now - self.limits.ip_window_seconds:
            calls.popleft()
        if len(calls) >= self.limits.ip_requests:
            self.refused += 1
            return False
        calls.append(now)
        return True

    def charge(self, api_key: str, path: str) -> BybitVerdict:
        now = self.clock()
        limit = int(self.limits.endpoints.get(path, self.limits.per_second))
        calls = self.calls[(api_key, path)]
        while calls and calls[0] <= now - 1:
            calls.popleft()
        if len(calls) >= limit:
            self.refused += 1
            return BybitVerdict(False, limit, 0, int((calls[0] + 1) * 1000))
        calls.append(now)
        return BybitVerdict(True, limit, limit - len(calls), int(now * 1000))

    def state(self) -> dict:
        now = self.clock()
        return {
            "per_second": self.limits.per_second,
            "endpoints": dict(self.limits.endpoints),
            "refused": self.refused,
            "in_last_second": {f"{key} {path}": sum(1 for t in calls if t > now - 1) for (key, path), calls in self.calls.items()},
        }
