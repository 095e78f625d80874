"""How the API writes numbers and times: Decimals as plain decimal strings (never floats, never
exponents, trailing zeros dropped: "0.000000000000000001", "100", "-1.5"), times as ISO 8601 in UTC
with a Z."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, PlainSerializer, WithJsonSchema
from typing_extensions import TypedDict

from exchanges.decimals import decimal_string


def utc_string(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


DecimalString = Annotated[
    Decimal,
    PlainSerializer(decimal_string, return_type=str),
    WithJsonSchema({"type": "string", "format": "decimal", "examples": ["42000.5"]}),
]
UtcDateTime = Annotated[
    datetime,
    PlainSerializer(utc_string, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2024-01-01T00:00:00Z"]}),
]


def _as_utc(value: datetime) -> datetime:
    """A time given without an offset is taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("time out of range") from None


# Inputs: bounded so that no value can reach the database and fail there.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Time = Annotated[datetime, AfterValidator(_as_utc)]


def row_type(schema: type[BaseModel]) -> type:
    """A TypedDict of `schema`'s fields with their types and serializers: a TypeAdapter over it writes
    plain dicts (rows read with `values_list`) as `schema` writes its objects, the same strings,
    without building and validating a model per row (ninja reads each field of each object through
    a getter of its own, which cost more than the query of a page of trades)."""
    fields = {
        name: Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
        for name, field in schema.model_fields.items()
    }
    return TypedDict(f"{schema.__name__}Row", fields)
