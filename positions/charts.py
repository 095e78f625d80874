"""Small inline SVG line charts for the position page, drawn on the server (no script, no CDN)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from exchanges.decimals import decimal_string

PAD = 4


@dataclass(frozen=True)
class Chart:
    title: str
    width: int
    height: int
    points: str
    zero_y: str | None
    low: str
    high: str
    start: datetime
    end: datetime


def _fmt(value: Decimal) -> str:
    return f"{value:.1f}"


def line_chart(
    title: str,
    series: list[tuple[datetime, Decimal]],
    *,
    steps: bool = False,
    label: Callable[[Decimal], str] = decimal_string,
    width: int = 640,
    height: int = 140,
) -> Chart | None:
    """`series` in time order. With `steps`, the value holds until the next point (like a size).
    `label` writes the lowest and highest values the caption names."""
    if not series:
        return None
    times = [t for t, _ in series]
    values = [v for _, v in series]
    low, high = min(values + [Decimal(0)]), max(values + [Decimal(0)])
    span_t = (times[-1] - times[0]).total_seconds()
    span_v = high - low or Decimal(1)

    def x(i: int) -> Decimal:
        share = Decimal((times[i] - times[0]).total_seconds()) / Decimal(span_t) if span_t else Decimal(i) / Decimal(max(len(series) - 1, 1))
        return PAD + share * (width - 2 * PAD)

    def y(value: Decimal) -> Decimal:
        return PAD + (high - value) / span_v * (height - 2 * PAD)

    points = []
    for i, value in enumerate(values):
        if steps and i:
            points.append(f"{_fmt(x(i))},{_fmt(y(values[i - 1]))}")
        points.append(f"{_fmt(x(i))},{_fmt(y(value))}")
    return Chart(
        title=title,
        width=width,
        height=height,
        points=" ".join(points),
        zero_y=_fmt(y(Decimal(0))) if low < 0 < high else None,
        low=label(low),
        high=label(high),
        start=times[0],
        end=times[-1],
    )
