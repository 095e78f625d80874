"""Retrying exchange calls: transient faults wait and retry; faults of the account stop it loudly."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import ccxt

from . import metrics

logger = logging.getLogger(__name__)

# Faults of the account itself: retrying cannot help, an operator must act.
ACCOUNT_FAULTS = (ccxt.AuthenticationError, ccxt.PermissionDenied, ccxt.AccountSuspended, ccxt.AccountNotEnabled)
# Faults that pass: rate limits (429), bans (418, ccxt's DDoSProtection), 5xx, timeouts, network.
TRANSIENT_FAULTS = (ccxt.RateLimitExceeded, ccxt.DDoSProtection, ccxt.ExchangeNotAvailable, ccxt.RequestTimeout, ccxt.NetworkError, ccxt.BadResponse)


class AccountStopped(Exception):
    """The exchange refused the account (bad keys, no permission, suspended): sync stops for it."""


@dataclass
class Backoff:
    base_seconds: float = 0.5
    max_seconds: float = 60.0
    max_attempts: int = 12
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Exponential with full jitter; a server's Retry-After is a floor."""
        delay = random.uniform(0, min(self.max_seconds, self.base_seconds * 2**attempt))
        return max(delay, retry_after or 0.0)

    async def call(self, client, make_call: Callable[[], Awaitable], what: str):
        for attempt in range(self.max_attempts):
            try:
                return await make_call()
            except ACCOUNT_FAULTS as error:
                raise AccountStopped(f"{what}: {type(error).__name__}: {error}") from error
            except TRANSIENT_FAULTS as error:
                metrics.venue_refused(client, error)
                if attempt + 1 == self.max_attempts:
                    raise
                wait = self.delay(attempt, retry_after_seconds(client))
                logger.warning("%s: %s; retry %d in %.1fs", what, type(error).__name__, attempt + 1, wait)
                await self.sleep(wait)


def retry_after_seconds(client) -> float | None:
    headers = getattr(client, "last_response_headers", None) or {}
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
