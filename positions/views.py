"""Operator pages: the live board of open positions and one position's page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import render

from .board import board_snapshot, page_tables, script_tables
from .models import Position
from .position_page import chart_of, position_page


@login_required
def board(request):
    return render(request, "positions/board.html", {"tables": page_tables(board_snapshot()), "script_tables": script_tables()})


@login_required
def position_detail(request, pk: int):
    try:
        context = position_page(pk)
    except Position.DoesNotExist:
        raise Http404("No such position.") from None
    return render(request, "positions/position.html", context)


@login_required
def position_chart(request, pk: int):
    """The position page's chart as JSON (`positions.charts`): exact strings, never floats."""
    try:
        chart = chart_of(pk)
    except Position.DoesNotExist:
        raise Http404("No such position.") from None
    return JsonResponse(chart)
