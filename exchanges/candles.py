"""A market's price as candles, read from the account's venue through ccxt's `fetch_ohlcv`.

ccxt parses candles into floats; the numbers kept here are the venue's own strings from the raw
answer (`Venue.candle_rows`), as exact Decimals. Candles are public data, asked with a client of
their own (its last raw answer is read right after the call, which no other caller shares) and kept
for `CANDLE_CACHE_SECONDS` per process, so a page reloaded, or many pages of one market, cost the
venue one call. Async, so that a slow venue holds no thread of the web server.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import NamedTuple

import ccxt
from django.conf import settings

from .connectors import build_public_client
from .decimals import InexactNumber, parse_exact
from .models import ExchangeAccount


class Candle(NamedTuple):
    open_time: int  # epoch milliseconds
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


class CandlesUnavailable(Exception):
    """The venue did not answer with candles; the message says why, in one line."""


_cache: dict[tuple, tuple[float, list[Candle]]] = {}


def timeframe_ms(timeframe: str) -> int:
    units = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
    return int(timeframe[:-1]) * units[timeframe[-1]]


def candle(row: list) -> Candle:
    """One raw row as exact numbers; `CandlesUnavailable` when it is not one."""
    try:
        open_time = int(row[0])
        numbers = [parse_exact(text) if isinstance(text, str) else None for text in row[1:6]]
    except (IndexError, TypeError, ValueError, InexactNumber) as error:
        raise CandlesUnavailable(f"a candle the venue sent is not one: {row!r:.120}") from error
    if None in numbers or len(numbers) != 5:
        raise CandlesUnavailable(f"a candle the venue sent has a number that is not a string: {row!r:.120}")
    return Candle(open_time, *numbers)


async def fetch_candles(account: ExchangeAccount, market_symbol: str, timeframe: str, since_ms: int, limit: int) -> list[Candle]:
    """Up to `limit` candles of `timeframe` from the one covering `since_ms`, oldest first."""
    venue = account.venue_object
    client = build_public_client(account)
    try:
        await client.fetch_ohlcv(market_symbol, timeframe, since=since_ms, limit=min(limit, venue.candle_limit))
        rows = venue.candle_rows(client.last_json_response)
    except NotImplementedError:
        raise CandlesUnavailable(f"the tracker does not know where {venue.label}'s candles are in its answer") from None
    except (ccxt.BaseError, OSError, asyncio.TimeoutError) as error:
        raise CandlesUnavailable(f"{type(error).__name__}: {str(error).strip()[:200]}") from error
    finally:
        await client.close()
    return [candle(row) for row in rows]


async def cached_candles(account: ExchangeAccount, market_symbol: str, timeframe: str, since_ms: int, limit: int) -> list[Candle]:
    """`fetch_candles`, kept for `CANDLE_CACHE_SECONDS`."""
    key = (account.pk, account.base_url, market_symbol, timeframe, since_ms, limit)
    now = time.monotonic()
    kept = _cache.get(key)
    if kept is not None and now - kept[0] < settings.CANDLE_CACHE_SECONDS:
        return kept[1]
    candles = await fetch_candles(account, market_symbol, timeframe, since_ms, limit)
    for stale in [k for k, (at, _) in _cache.items() if now - at >= settings.CANDLE_CACHE_SECONDS]:
        del _cache[stale]
    _cache[key] = (now, candles)
    return candles


def forget_candles() -> None:
    _cache.clear()
