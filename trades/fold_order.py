"""The fold order, the one rule: trades fold by time, then by the exchange's trade id, shorter ids
first, so that numeric ids compare as numbers and equal-length ids (UUIDs) as text. An id qualified
by its market (`MARKET:id`, where a venue numbers ids per market) keeps that: a book is one market,
whose prefix is constant.

Written here once, as a Python sort key and as ORDER BY terms (ORM and raw SQL), for trades and for
positions (ordered by their last, or first, trade)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import F
from django.db.models.functions import Length


def trade_id_key(trade_id: str) -> tuple[int, str]:
    return (len(trade_id), trade_id)


def fold_order_key(timestamp: datetime, trade_id: str) -> tuple[datetime, int, str]:
    return (timestamp, *trade_id_key(trade_id))


def fold_order_by(time_field: str = "timestamp", id_field: str = "exchange_trade_id", *, descending: bool = False) -> tuple:
    """`order_by` terms of the fold order over a model's time and trade id fields."""
    terms = (F(time_field), Length(id_field), F(id_field))
    return tuple(term.desc() if descending else term.asc() for term in terms)


def fold_order_sql(time_column: str, id_column: str, *, descending: bool = False) -> str:
    """The same, as the terms of a raw SQL ORDER BY."""
    direction = " DESC" if descending else ""
    return ", ".join(f"{term}{direction}" for term in (time_column, f"length({id_column})", id_column))
