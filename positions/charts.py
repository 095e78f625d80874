"""What the position page's chart draws, as JSON: the market's candles from the venue, one marker
per trade of the position, its average price as a line, and its size and PnL below, on one time
axis (`/positions/ID/chart/`).

Every number is an exact decimal string, with the text a person reads beside it where the page
shows one (rounded by `formatting`). The browser turns the strings into JavaScript numbers only to
draw them; what it writes for hover is the string.

Size, average price and PnL are taken at each candle: the position as it stood after its last
trade up to the candle's end, its PnL at the candle's close (`p2 + p1 x close + funding`, the
funding folded into the position up to the candle's end). Without candles (the venue did not
answer) they are taken at each trade instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from exchanges.candles import Candle, CandlesUnavailable, cached_candles, timeframe_ms
from exchanges.decimals import EXACT, decimal_string

from . import formatting
from .models import Position
from .selectors import HistoryPoint, position_funding, position_history, position_trades
from .totals import base_coin, quote_coin

MOST_CANDLES = 400  # the shortest timeframe that shows the position in at most this many candles
CANDLES_BEFORE = 20  # candles shown before the position opened, for the context a trader expects


def _ms(time: datetime) -> int:
    return int(time.timestamp() * 1000)


def choose_timeframe(timeframes: tuple[str, ...], start_ms: int, end_ms: int) -> str:
    """The shortest of the venue's timeframes that shows `[start_ms, end_ms]` in `MOST_CANDLES`."""
    for timeframe in timeframes:
        if (end_ms - start_ms) / timeframe_ms(timeframe) + CANDLES_BEFORE <= MOST_CANDLES:
            return timeframe
    return timeframes[-1]


def candle_window(timeframe: str, start_ms: int, end_ms: int, most: int) -> tuple[int, int]:
    """`(since, limit)`: from `CANDLES_BEFORE` candles before the start to the one covering the end,
    at most `most` candles, keeping the latest."""
    step = timeframe_ms(timeframe)
    last = end_ms // step * step
    since = max(start_ms // step * step - CANDLES_BEFORE * step, last - (most - 1) * step)
    return since, (last - since) // step + 1


def _after(history: list[HistoryPoint], end_ms: int, start: int) -> int:
    """Index just past the last history point at or before `end_ms`, searching from `start`."""
    while start < len(history) and _ms(history[start].time) <= end_ms:
        start += 1
    return start


def _samples(
    history: list[HistoryPoint], times: list[tuple[int, int, Decimal | None]], payments: list[tuple[int, Decimal]] = ()
) -> dict[str, list[dict]]:
    """Size, average price and PnL at each `(time, end, price)`: the position after its last trade
    up to `end`, its PnL at `price` (or at that trade's price when none is given) with the funding
    `payments` (`(time, amount)`, in time order) made up to `end`."""
    size, average, pnl = [], [], []
    seen = paid = 0
    funding = Decimal(0)
    for time, end, price in times:
        seen = _after(history, end, seen)
        while paid < len(payments) and payments[paid][0] <= end:
            funding, paid = EXACT.add(funding, payments[paid][1]), paid + 1
        if not seen:
            continue
        point = history[seen - 1]
        p2 = EXACT.subtract(point.pnl, EXACT.multiply(point.p1, point.price))
        at = price if price is not None else point.price
        size.append({"time": time, "value": decimal_string(point.p1)})
        pnl.append({"time": time, "value": decimal_string(EXACT.add(EXACT.add(p2, EXACT.multiply(point.p1, at)), funding))})
        if point.avg_price is not None:
            average.append({"time": time, "value": decimal_string(point.avg_price)})
    return {"size": size, "average_price": average, "pnl": pnl}


def _candle_json(candle: Candle) -> dict:
    return {
        "time": candle.open_time,
        **{name: decimal_string(getattr(candle, name)) for name in ("open", "high", "low", "close", "volume")},
    }


@dataclass(frozen=True)
class ChartPlan:
    """What the chart draws from the database, and which candles it asks the venue for."""

    position: Position
    amount_step: Decimal | None
    price_step: Decimal | None
    history: list[HistoryPoint]
    trades: list
    payments: list[tuple[int, Decimal]]  # the funding folded into the position: (time, amount)
    market_symbol: str
    timeframe: str
    since: int
    limit: int


def plan_chart(position: Position, amount_step: Decimal | None, price_step: Decimal | None) -> ChartPlan:
    venue = position.exchange.venue_object
    start_ms = _ms(position.entry_time)
    end_ms = _ms(timezone.now()) if position.is_open else _ms(position.last_update_time)
    timeframe = choose_timeframe(venue.candle_timeframes, start_ms, end_ms)
    since, limit = candle_window(timeframe, start_ms, end_ms, venue.candle_limit)
    return ChartPlan(
        position=position,
        amount_step=amount_step,
        price_step=price_step,
        history=position_history(position),
        trades=list(position_trades(position)),
        payments=[(_ms(p.timestamp), p.amount) for p in position_funding(position)],
        market_symbol=position.exchange.market_symbol(position.symbol),
        timeframe=timeframe,
        since=since,
        limit=limit,
    )


async def candles_of(plan: ChartPlan) -> tuple[list[Candle], str | None]:
    """The plan's candles from the venue, or none and why."""
    try:
        return await cached_candles(plan.position.exchange, plan.market_symbol, plan.timeframe, plan.since, plan.limit), None
    except CandlesUnavailable as unavailable:
        return [], str(unavailable)


def chart_json(plan: ChartPlan, candles: list[Candle], error: str | None) -> dict:
    """The chart's JSON (times in epoch milliseconds; see the module docstring)."""
    position, trades, history = plan.position, plan.trades, plan.history
    amount_step, price_step = plan.amount_step, plan.price_step
    base, quote = base_coin(position.symbol), quote_coin(position.symbol)
    step = timeframe_ms(plan.timeframe)
    if candles:
        at = [(c.open_time, c.open_time + step - 1, c.close) for c in candles]
    else:
        at = [(_ms(point.time), _ms(point.time), None) for point in history]
    reference = trades[-1].price if trades else None
    places = formatting.price_places(reference, quote, price_step) if reference is not None else formatting.coin_places(quote)
    return {
        "position": position.pk,
        "symbol": position.symbol,
        "base": base,
        "quote": quote,
        "timeframe": plan.timeframe,
        "timeframe_ms": step,
        "candles": [_candle_json(c) for c in candles],
        "candles_error": error,
        "formats": {
            "price": {"places": places, "step": decimal_string(price_step) if price_step else None},
            "size": {"places": formatting.step_places(amount_step) if amount_step else formatting.coin_places(base)},
            "pnl": {"places": formatting.coin_places(quote)},
        },
        "markers": [
            {
                "time": _ms(trade.timestamp),
                "candle_time": _ms(trade.timestamp) // step * step,
                "trade_id": trade.exchange_trade_id,
                "side": trade.side,
                "amount": decimal_string(EXACT.multiply(trade.amount, trade.contract_size)),
                "price": decimal_string(trade.price),
                "text": f"{trade.side} {formatting.amount(EXACT.multiply(trade.amount, trade.contract_size), base, amount_step).text}"
                f" @ {formatting.price(trade.price, quote, price_step).text}",
            }
            for trade in trades
        ],
        **_samples(history, at, plan.payments),
    }
