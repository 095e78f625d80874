"""Operator pages: the live board of open positions and one position's page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from api.types import decimal_string

from .board import board_snapshot, page_tables, script_tables
from .charts import line_chart
from .models import Position
from .selectors import latest_marks, mark_of, pnl_at_mark, position_history, position_trades


def _trade_rows(trades, history):
    """Each trade with the position as it stood after it."""
    after = {point.trade_id: point for point in history}
    return [(trade, after.get(trade.exchange_trade_id)) for trade in trades]


@login_required
def board(request):
    return render(request, "positions/board.html", {"tables": page_tables(board_snapshot()), "script_tables": script_tables()})


@login_required
def position_detail(request, pk: int):
    position = get_object_or_404(Position.objects.with_account().select_related("bot_instance"), pk=pk)
    history = position_history(position)
    mark = mark_of(position, latest_marks([position.exchange_id]))
    pnl = pnl_at_mark(position, mark)
    sizes = [(point.time, point.p1) for point in history]
    pnls = [(point.time, point.pnl) for point in history]
    if mark is not None and history:
        now = max(timezone.now(), history[-1].time)
        sizes.append((now, position.p1))
        pnls.append((now, pnl))
    context = {
        "position": position,
        "rows": _trade_rows(list(position_trades(position)), history),
        "mark": mark,
        "pnl": "" if pnl is None else decimal_string(pnl),
        "charts": [
            chart
            for chart in (
                line_chart("Size (base units, short below zero)", sizes, steps=True),
                line_chart("PnL (quote) at each trade's price" + (", then at the mark" if mark else ""), pnls),
            )
            if chart
        ],
    }
    return render(request, "positions/position.html", context)
