"""The funding part of the JSON API: the ledger of funding payments, paged or as CSV."""

from __future__ import annotations

from typing import Annotated, Literal

from ninja import Field, Query, Router, Schema

from trades.models import FundingPayment

from . import filters as api_filters
from .auth import TokenAuth
from .csv_export import csv_response
from .filters import ACCOUNT_HELP, SYMBOL_HELP, AccountRef, SymbolRef, TimeRange
from .pagination import page
from .types import DecimalString, Id, UtcDateTime

router = Router(tags=["funding"], auth=TokenAuth("trades.view_fundingpayment"))

Limit = Annotated[int, Field(ge=1, le=1000, description="At most this many payments (1 to 1000).")]
Cursor = Annotated[str, Field(max_length=200, description="`next_cursor` of the page before.")]


class FundingOut(Schema):
    id: int
    account_id: int
    bot_instance_id: int | None
    exchange_funding_id: str
    symbol: str
    market_symbol: str
    leg: str = Field(description='A hedge-mode account\'s "long" or "short" leg; "" for a one-way account.')
    timestamp: UtcDateTime
    amount: DecimalString = Field(description="In the settle coin: positive when received, negative when paid.")
    currency: str
    rate: DecimalString | None
    position_size: DecimalString | None = Field(description="As the venue reports it: contracts.")

    @staticmethod
    def resolve_account_id(payment: FundingPayment) -> int:
        return payment.exchange_id


CSV_COLUMNS = list(FundingOut.model_fields)


class FundingFilters(TimeRange):
    account: AccountRef | None = Field(None, description=ACCOUNT_HELP)
    symbol: SymbolRef | None = Field(None, description=SYMBOL_HELP)
    leg: Literal["net", "long", "short"] | None = Field(None, description="net: one-way accounts' payments; long or short: a hedge-mode leg.")
    direction: Literal["paid", "received"] | None = None
    bot_instance: Id | None = Field(None, description="Bot instance id.")

    def queryset(self):
        """The payments the filters match; a 422 for an account or a symbol the tracker does not know."""
        payments = FundingPayment.objects.defer("raw")
        account, symbol = api_filters.filters(self.account, self.symbol)
        if account is not None:
            payments = payments.filter(exchange_id=account)
        if symbol is not None:
            payments = payments.filter(symbol.trades_q())
        if self.leg is not None:
            payments = payments.filter(leg="" if self.leg == "net" else self.leg)
        if self.direction is not None:
            payments = payments.filter(amount__lt=0) if self.direction == "paid" else payments.filter(amount__gt=0)
        if self.bot_instance is not None:
            payments = payments.filter(bot_instance_id=self.bot_instance)
        return self.in_range(payments)


class FundingPage(Schema):
    items: list[FundingOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one.")


@router.get("/funding", response=FundingPage, summary="Funding payments, newest first (or oldest first), one page at a time")
def list_funding(
    request,
    filters: Query[FundingFilters],
    limit: Limit = 100,
    cursor: Cursor | None = None,
    order: Literal["desc", "asc"] = "desc",
):
    items, next_cursor = page(filters.queryset(), time_field="timestamp", cursor=cursor, limit=limit, descending=order == "desc")
    return {"items": items, "next_cursor": next_cursor}


@router.get(
    "/funding.csv",
    summary="All the funding payments a query matches, as CSV, oldest first",
    openapi_extra={"responses": {200: {"description": "CSV", "content": {"text/csv": {}}}}},
)
def export_funding(request, filters: Query[FundingFilters]):
    return csv_response(filters.queryset().order_by("timestamp", "id"), CSV_COLUMNS, "funding.csv")
