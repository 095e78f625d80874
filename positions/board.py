"""The operator board: what `/positions/` shows, as plain strings ready to display. The page renders it
once; its WebSocket sends it again after every change of positions or marks."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from api.types import decimal_string
from trades.health import sync_health

from .fold import AVG_PRICE_PLACES, EXACT
from .models import Position
from .selectors import latest_marks, mark_of, pnl_at_mark


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


def book_key(position: Position) -> str:
    return f"{position.exchange_id}:{position.bot_instance_id or ''}:{position.symbol}"


def board_snapshot(now: datetime | None = None, health: list[dict] | None = None) -> dict:
    """`health`: the rows of `health_rows` when the caller has them fresh enough."""
    now = now or timezone.now()
    positions = list(
        Position.objects.filter(is_open=True).with_account().select_related("bot_instance").order_by("exchange__name", "symbol", "bot_instance__name")
    )
    marks = latest_marks()
    rows = []
    by_symbol: dict[str, list[tuple[Position, Decimal | None, object]]] = defaultdict(list)
    for position in positions:
        mark = mark_of(position, marks)
        pnl = pnl_at_mark(position, mark)
        by_symbol[position.symbol].append((position, pnl, mark))
        rows.append(
            {
                "key": book_key(position),
                "url": reverse("positions:detail", args=[position.pk]),
                "account": position.exchange.name,
                "bot": position.bot_instance.name if position.bot_instance else "",
                "symbol": position.symbol,
                "side": position.side,
                "size": number(position.size),
                "avg_price": number(position.avg_price),
                "mark": number(mark.price if mark else None),
                "pnl": number(pnl),
                "tone": tone(pnl),
                "last_trade": moment(position.last_update_time),
            }
        )
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


def _net_row(symbol: str, entries) -> dict:
    net = sum((p.p1 for p, _, _ in entries), Decimal(0))
    quote = sum((p.p2 + p.p2_fee for p, _, _ in entries), Decimal(0))
    pnls = [pnl for _, pnl, _ in entries]
    pnl = sum(pnls, Decimal(0)) if None not in pnls else None
    marks = [m for _, _, m in entries if m is not None]
    newest = max(marks, key=lambda m: m.fetched_at, default=None)
    avg_price = EXACT.divide(-quote, net).quantize(AVG_PRICE_PLACES, context=EXACT) if net else None
    return {
        "key": symbol,
        "symbol": symbol,
        "side": "long" if net > 0 else "short" if net < 0 else "none",
        "net": number(abs(net)),
        "avg_price": number(avg_price),
        "mark": number(newest.price if newest else None),
        "pnl": number(pnl),
        "tone": tone(pnl),
        "last_trade": moment(max(p.last_update_time for p, _, _ in entries)),
    }
