"""Operator pages: the live board of open positions and one position's page."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import render

from .board import board_snapshot, page_tables, script_tables, visible_columns
from .charts import candles_of, chart_json
from .models import Position
from .position_page import chart_plan, position_page


@login_required
def board(request):
    columns = visible_columns()
    return render(
        request, "positions/board.html", {"tables": page_tables(board_snapshot(), columns), "script_tables": script_tables(columns)}
    )


@login_required
def position_detail(request, pk: int):
    try:
        context = position_page(pk)
    except Position.DoesNotExist:
        raise Http404("No such position.") from None
    return render(request, "positions/position.html", context)


@login_required
async def position_chart(request, pk: int):
    """The position page's chart as JSON (`positions.charts`): exact strings, never floats. Async: the
    venue's candles are awaited, holding no thread while it answers."""
    try:
        plan = await sync_to_async(chart_plan)(pk)
    except Position.DoesNotExist:
        raise Http404("No such position.") from None
    candles, error = await candles_of(plan)
    return JsonResponse(chart_json(plan, candles, error))
