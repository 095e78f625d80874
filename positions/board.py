"""The operator board: what `/positions/` shows, as plain strings ready to display. The page renders it
once; its WebSocket sends it again after every change of positions or marks."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from api.types import decimal_string
from exchanges.models import BotInstance, ExchangeAccount
from trades.health import sync_health

from .fold import AVG_PRICE_PLACES, EXACT, pnl_at_price
from .models import MarkPrice, Position


def number(value: Decimal | None) -> str:
    return "" if value is None else decimal_string(value)


def moment(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60}s"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600}h"


def tone(value: Decimal | None) -> str:
    return "" if value is None else "gain" if value > 0 else "loss" if value < 0 else ""


class OpenPosition(NamedTuple):
    """What the board shows of an open position, with its account's and bot's names and its mark."""

    id: int
    exchange_id: int
    bot_instance_id: int | None
    symbol: str
    side: str
    size: Decimal
    avg_price: Decimal | None
    p1: Decimal
    p2: Decimal
    p2_fee: Decimal
    last_update_time: datetime
    account: str
    bot: str | None
    mark_price: Decimal | None
    marked_at: datetime | None

    @property
    def pnl(self) -> Decimal | None:
        return None if self.mark_price is None else pnl_at_price(self.p1, self.p2, self.mark_price)


# One statement and no ORM: a live page reads this after every trade, and compiling the ORM's two
# queries (positions with their account and bot, then the latest marks) cost more than running them.
# The mark is the newest per (account, symbol), as `selectors.latest_marks` picks it.
_OPEN_POSITIONS = f"""
SELECT p.id, p.exchange_id, p.bot_instance_id, p.symbol, p.side, p.size, p.avg_price, p.p1, p.p2, p.p2_fee,
       p.last_update_time, a.name, b.name, m.price, m.fetched_at
FROM {Position._meta.db_table} p
JOIN {ExchangeAccount._meta.db_table} a ON a.id = p.exchange_id
LEFT JOIN {BotInstance._meta.db_table} b ON b.id = p.bot_instance_id
LEFT JOIN LATERAL (
    SELECT price, fetched_at FROM {MarkPrice._meta.db_table}
    WHERE account_id = p.exchange_id AND symbol = p.symbol
    ORDER BY fetched_at DESC, id DESC LIMIT 1
) m ON true
WHERE p.is_open
ORDER BY a.name, p.symbol, b.name
"""


def open_positions() -> list[OpenPosition]:
    with connection.cursor() as cursor:
        cursor.execute(_OPEN_POSITIONS)
        return [OpenPosition(*row) for row in cursor.fetchall()]


@lru_cache(maxsize=4096)
def detail_url(position_id: int) -> str:
    return reverse("positions:detail", args=[position_id])


def book_key(position: OpenPosition) -> str:
    return f"{position.exchange_id}:{position.bot_instance_id or ''}:{position.symbol}"


def board_snapshot(now: datetime | None = None, health: list[dict] | None = None) -> dict:
    """`health`: the rows of `health_rows` when the caller has them fresh enough."""
    now = now or timezone.now()
    positions = open_positions()
    by_symbol: dict[str, list[OpenPosition]] = defaultdict(list)
    for position in positions:
        by_symbol[position.symbol].append(position)
    rows = [
        {
            "key": book_key(position),
            "url": detail_url(position.id),
            "account": position.account,
            "bot": position.bot or "",
            "symbol": position.symbol,
            "side": position.side,
            "size": number(position.size),
            "avg_price": number(position.avg_price),
            "mark": number(position.mark_price),
            "pnl": number(position.pnl),
            "tone": tone(position.pnl),
            "last_trade": moment(position.last_update_time),
        }
        for position in positions
    ]
    return {
        "generated_at": moment(now),
        "positions": rows,
        "nets": [_net_row(symbol, entries) for symbol, entries in sorted(by_symbol.items())],
        "health": health if health is not None else health_rows(now),
    }


def health_rows(now: datetime) -> list[dict]:
    """The board's sync health table: a few queries, so a live page reuses it for a moment."""
    return [
        {
            "account": h.account,
            "ws": "stopped" if h.stopped_reason else "up" if h.ws_connected else "down",
            "ws_since": moment(h.ws_connected_since),
            "last_rest_sync": moment(h.last_rest_sync),
            "lag": duration(h.lag_seconds),
            "error": h.stopped_reason or h.last_error,
            "rejected": str(h.rejected_trades),
            "audit": f"{h.last_audit_missing} missing of {h.last_audit_checked} at {moment(h.last_audit_at)}" if h.last_audit_at else "",
        }
        for h in sync_health(now=now)
        if h.enabled
    ]


def _net_row(symbol: str, positions: list[OpenPosition]) -> dict:
    net = sum((p.p1 for p in positions), Decimal(0))
    quote = sum((p.p2 + p.p2_fee for p in positions), Decimal(0))
    pnls = [p.pnl for p in positions]
    pnl = sum(pnls, Decimal(0)) if None not in pnls else None
    marked = [p for p in positions if p.mark_price is not None]
    newest = max(marked, key=lambda p: p.marked_at, default=None)
    avg_price = EXACT.divide(-quote, net).quantize(AVG_PRICE_PLACES, context=EXACT) if net else None
    return {
        "key": symbol,
        "symbol": symbol,
        "side": "long" if net > 0 else "short" if net < 0 else "none",
        "net": number(abs(net)),
        "avg_price": number(avg_price),
        "mark": number(newest.mark_price if newest else None),
        "pnl": number(pnl),
        "tone": tone(pnl),
        "last_trade": moment(max(p.last_update_time for p in positions)),
    }
