"""Keyset pagination over (time, id): a cursor names the last row a page gave; the next page starts
after it. Rows inserted meanwhile never shift a page, and no page costs an OFFSET scan."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from django.db.models import Q
from ninja.errors import HttpError

MAX_ID = 2**63 - 1


def encode_cursor(time: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{time.isoformat()}|{pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        time_text, pk_text = text.split("|")
        time, pk = datetime.fromisoformat(time_text), int(pk_text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise HttpError(422, "cursor: not a cursor this API gave") from None
    if time.tzinfo is None or not 1 <= pk <= MAX_ID:
        raise HttpError(422, "cursor: not a cursor this API gave")
    return time, pk


def after_cursor(time_field: str, cursor: str | None, descending: bool) -> Q:
    """The rows that come after `cursor` in (time_field, id) order."""
    if not cursor:
        return Q()
    time, pk = decode_cursor(cursor)
    op = "lt" if descending else "gt"
    return Q(**{f"{time_field}__{op}": time}) | Q(**{time_field: time, f"id__{op}": pk})


def page(queryset, *, time_field: str, cursor: str | None, limit: int, descending: bool = True) -> tuple[list, str | None]:
    """One page of `queryset` in (time_field, id) order and the cursor of the next, if there is one.
    The rows are objects, or dicts (a `values()` queryset)."""
    order = [f"-{time_field}", "-id"] if descending else [time_field, "id"]
    rows = list(queryset.filter(after_cursor(time_field, cursor, descending)).order_by(*order)[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    if isinstance(last, dict):
        return rows, encode_cursor(last[time_field], last["id"])
    return rows, encode_cursor(getattr(last, time_field), last.pk)
