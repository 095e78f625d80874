"""Candles of a market, made from the simulator's own fills, so that a chart of them agrees with the
trades a tracker stores: every fill's price lies within the candle of its minute (or hour, or day).

A candle covers `[open_time, open_time + interval)`. With fills, open is the first fill's price,
close the last's, high and low the extremes, volume the amounts summed (and quote volume the costs).
Without fills, as on an exchange, the candle is flat at the last price before it, with no volume.
Before a market's first fill there are none, as before a market is listed: a price the simulator
never traded at would be a chart the trades do not agree with. Candles start no later than now: an
exchange serves no candle of the future.

Numbers are exact strings on the market's steps; each protocol writes the rows as its venue does.
"""

from __future__ import annotations

from typing import NamedTuple

from .money import scaled, step_parts

INTERVALS_MS = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
    "1w": 604_800_000,
}


class Candle(NamedTuple):
    open_time: int  # epoch milliseconds
    open: str
    high: str
    low: str
    close: str
    volume: str  # base units
    quote_volume: str
    trades: int
    buy_volume: str  # of fills whose taker bought (the simulator's own side: its account's)
    buy_quote_volume: str


def candle_times(interval_ms: int, *, start: int | None, end: int | None, limit: int, now: int) -> list[int]:
    """Open times of the candles asked for: from `start` forward (the first that covers it), or, with
    only `end` or neither, the last `limit` up to `end` (or now), as Binance and Bybit answer."""
    last = (min(end, now) if end is not None else now) // interval_ms * interval_ms
    if start is not None:
        first = start // interval_ms * interval_ms
        times = range(first, last + 1, interval_ms)
        return list(times[:limit])
    first = max(last - (limit - 1) * interval_ms, 0)
    return list(range(first, last + 1, interval_ms))


def candles(books: list, interval_ms: int, open_times: list[int]) -> list[Candle]:
    """The candles at `open_times` (ascending) of one market, over the fills of every book of it."""
    if not books or not open_times:
        return []
    market = books[0].market
    (step, step_exp), (tick, tick_exp) = step_parts(market.amount_step), step_parts(market.price_step)
    previous = _last_price_before(books, open_times[0])
    result = []
    for open_time in open_times:
        rows = sorted(
            (row for book in books for row in _rows(book, open_time, open_time + interval_ms - 1)),
            key=lambda row: row.ts,
        )
        if not rows:
            if previous is not None:
                flat = scaled(previous * tick, tick_exp)
                result.append(Candle(open_time, flat, flat, flat, flat, "0", "0", 0, "0", "0"))
            continue
        prices = [row.price for row in rows]
        volume = sum(row.qty for row in rows)
        quote = sum(row.qty * row.price for row in rows)
        buy_volume = sum(row.qty for row in rows if row.buy)
        buy_quote = sum(row.qty * row.price for row in rows if row.buy)

        def price(units: int) -> str:
            return scaled(units * tick, tick_exp)

        result.append(
            Candle(
                open_time,
                price(prices[0]),
                price(max(prices)),
                price(min(prices)),
                price(prices[-1]),
                scaled(volume * step, step_exp),
                scaled(quote * step * tick, step_exp + tick_exp),
                len(rows),
                scaled(buy_volume * step, step_exp),
                scaled(buy_quote * step * tick, step_exp + tick_exp),
            )
        )
        previous = prices[-1]
    return result


def _rows(book, since: int, until: int):
    for i in range(book.first_at_or_after(since), book.first_after(until)):
        yield book.row(i)


def _last_price_before(books: list, time: int) -> int | None:
    """The price (in ticks) of the latest fill before `time` over the books; None before any fill."""
    latest = None
    for book in books:
        i = book.first_at_or_after(time) - 1
        if i >= 0:
            row = book.row(i)
            if latest is None or row.ts >= latest.ts:
                latest = row
    return latest.price if latest is not None else None
