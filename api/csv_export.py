"""CSV exports (trades, funding): every row a query matches, streamed in chunks, numbers exact."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from django.http import StreamingHttpResponse

from .types import decimal_string, utc_string


class _Echo:
    def write(self, value):
        return value


def csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return utc_string(value)
    if isinstance(value, Decimal):
        return decimal_string(value)
    return str(value)


async def _csv_rows(queryset, columns: list[str], value_of: Callable):
    """Rows as the ASGI server sends them: fetched in chunks, never the whole export in memory."""
    writer = csv.writer(_Echo())
    yield writer.writerow(columns)
    async for row in queryset.aiterator(chunk_size=2000):
        yield writer.writerow([csv_value(value_of(row, name)) for name in columns])


def account_id_or_field(row, name: str):
    """A column's value: `account_id` is the row's exchange account, any other column its field."""
    return row.exchange_id if name == "account_id" else getattr(row, name)


def csv_response(queryset, columns: list[str], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_csv_rows(queryset, columns, account_id_or_field), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
