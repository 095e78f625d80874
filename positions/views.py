"""Operator pages: the live board of open positions and one position's page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from .board import board_snapshot, page_tables, script_tables, visible_columns
from .models import Position
from .position_page import position_page


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
