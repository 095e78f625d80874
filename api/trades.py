"""The trades part of the JSON API: trades (paged, or all of them as CSV), statistics, sync health."""

from __future__ import annotations

from typing import Annotated, Literal

from asgiref.sync import sync_to_async
from django.http import HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from pydantic import TypeAdapter
from typing_extensions import TypedDict

from trades.health import sync_health
from trades.models import Trade
from trades.repository import TradeRepository

from . import filters as api_filters
from .auth import TokenAuth
from .csv_export import csv_response
from .filters import ACCOUNT_HELP, SYMBOL_HELP, AccountRef, SymbolRef, TimeRange
from .pagination import page
from .types import DecimalString, Id, Time, UtcDateTime, row_type

router = Router(tags=["trades"], auth=TokenAuth("trades.view_trade"))

Limit = Annotated[int, Field(ge=1, le=1000, description="At most this many trades (1 to 1000).")]
Cursor = Annotated[str, Field(max_length=200, description="`next_cursor` of the page before.")]


class TradeOut(Schema):
    id: int
    account_id: int
    bot_instance_id: int | None
    exchange_trade_id: str
    order_id: str
    symbol: str
    market_symbol: str
    side: str
    taker_or_maker: str
    amount: DecimalString
    contract_size: DecimalString
    price: DecimalString
    cost: DecimalString
    fee_cost: DecimalString
    fee_currency: str
    timestamp: UtcDateTime
    p1_delta: DecimalString
    p2_delta: DecimalString

    @staticmethod
    def resolve_account_id(trade: Trade) -> int:
        return trade.exchange_id


# Where each field of TradeOut is read from a trade: its attribute (`values()`'s column) of that name,
# but for the account's.
TRADE_COLUMNS = {name: "exchange_id" if name == "account_id" else name for name in TradeOut.model_fields}
CSV_COLUMNS = list(TRADE_COLUMNS)


class TradeFilters(TimeRange):
    account: AccountRef | None = Field(None, description=ACCOUNT_HELP)
    symbol: SymbolRef | None = Field(None, description=SYMBOL_HELP)
    side: Literal["buy", "sell"] | None = None
    bot_instance: Id | None = Field(None, description="Bot instance id.")

    def queryset(self):
        """The trades the filters match; a 422 for an account or a symbol the tracker does not know."""
        trades = Trade.objects.defer("raw")
        account, symbol = api_filters.filters(self.account, self.symbol)
        if account is not None:
            trades = trades.filter(exchange_id=account)
        if symbol is not None:
            trades = trades.filter(symbol.trades_q())
        if self.side is not None:
            trades = trades.filter(side=self.side)
        if self.bot_instance is not None:
            trades = trades.filter(bot_instance_id=self.bot_instance)
        return self.in_range(trades)


class TradePage(Schema):
    items: list[TradeOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one.")


TradePageRows = TypedDict("TradePageRows", {"items": list[row_type(TradeOut)], "next_cursor": str | None})
TRADE_PAGE_JSON = TypeAdapter(TradePageRows)


def trade_page_json(filters: TradeFilters, *, limit: int, cursor: str | None, descending: bool) -> bytes:
    """A TradePage as JSON: the trades read as plain rows, not model objects, and written from
    TradeOut's own field types (see `row_type`)."""
    rows, next_cursor = page(
        filters.queryset().values(*TRADE_COLUMNS.values()), time_field="timestamp", cursor=cursor, limit=limit, descending=descending
    )
    items = [dict(zip(TRADE_COLUMNS, row.values())) for row in rows]
    return TRADE_PAGE_JSON.dump_json({"items": items, "next_cursor": next_cursor})


@router.get("/trades", response=TradePage, summary="Trades, newest first (or oldest first), one page at a time")
async def list_trades(
    request,
    filters: Query[TradeFilters],
    limit: Limit = 100,
    cursor: Cursor | None = None,
    order: Literal["desc", "asc"] = "desc",
):
    content = await sync_to_async(trade_page_json)(filters, limit=limit, cursor=cursor, descending=order == "desc")
    return HttpResponse(content, content_type="application/json; charset=utf-8")


@router.get(
    "/trades.csv",
    summary="All the trades a query matches, as CSV, oldest first",
    openapi_extra={"responses": {200: {"description": "CSV", "content": {"text/csv": {}}}}},
)
def export_trades(request, filters: Query[TradeFilters]):
    return csv_response(filters.queryset().order_by("timestamp", "id"), CSV_COLUMNS, "trades.csv")


class TradeStatisticsOut(Schema):
    symbol: str
    start_time: UtcDateTime
    end_time: UtcDateTime | None
    count: int
    buy_volume: DecimalString
    sell_volume: DecimalString
    notional: DecimalString
    fees: dict[str, DecimalString]
    vwap: DecimalString | None
    funding: dict[str, DecimalString] = Field(description="Funding per settle coin in the range: received minus paid.")
    funding_paid: dict[str, DecimalString]
    funding_received: dict[str, DecimalString]


@router.get("/trades/statistics", response=TradeStatisticsOut, summary="Count, volumes, notional, fees, VWAP and funding of a symbol")
async def trade_statistics(
    request,
    symbol: SymbolRef = Query(..., description=SYMBOL_HELP),
    since: Time = Query(..., description="From this time on (inclusive). Without an offset: UTC."),
    until: Time | None = Query(None, description="Before this time (exclusive). Without an offset: UTC."),
):
    if until is not None and since >= until:
        raise HttpError(422, "since must be before until")
    known = await sync_to_async(api_filters.symbol_filter)(symbol)
    return await TradeRepository().get_trade_statistics(known.symbol, since, until)


class SymbolHealthOut(Schema):
    symbol: str
    last_trade_id: str
    last_trade_time: UtcDateTime | None
    last_sync_at: UtcDateTime | None
    lag_seconds: float | None = Field(description="Seconds since this symbol's last successful REST pass.")
    last_pass_fetched: int
    last_pass_new: int
    last_error: str
    last_error_at: UtcDateTime | None


class AccountHealthOut(Schema):
    account_id: int
    account: str
    enabled: bool
    state: Literal["ok", "down"] = Field(description="down while the venue refuses the account or its sync cannot run.")
    reason: str = Field(description="Why the account is down, one line (never its credentials); empty while it is ok.")
    down_since: UtcDateTime | None = Field(description="When the account went down, while it is down for a reason other than a refusal.")
    ws_connected: bool
    ws_connected_since: UtcDateTime | None
    ws_last_message_at: UtcDateTime | None
    ws_reconnects: int
    stopped_reason: str
    last_error: str
    last_error_at: UtcDateTime | None
    last_rest_sync: UtcDateTime | None = Field(description="The most recent successful REST pass of any symbol.")
    lag_seconds: float | None = Field(description="Age of the stalest symbol's last successful REST pass.")
    rejected_trades: int = Field(description="Payloads from the exchange kept aside instead of stored (see the admin's rejected trades).")
    last_audit_at: UtcDateTime | None = Field(description="When the gap audit last read this account back from the exchange.")
    last_audit_checked: int = Field(description="Trades the last audit read back.")
    last_audit_missing: int = Field(description="Of those, how many were not stored.")
    last_audit_differing: int = Field(description="Of those, how many are stored with content other than the exchange's (an alarm).")
    rest_interval_seconds: float | None = Field(description="Seconds between the starts of the account's last two REST passes: the cadence it gets.")
    rest_planned_interval_seconds: float | None = Field(
        description="The REST interval its request budgets allow: SYNC_INTERVAL_SECONDS, or longer where the accounts sharing a budget do not all fit in it."
    )
    symbols: list[SymbolHealthOut]


@router.get(
    "/sync-health",
    response=list[AccountHealthOut],
    summary="WebSocket and REST sync state per account and symbol",
    auth=TokenAuth("trades.view_streamhealth", "trades.view_synccursor"),
)
def get_sync_health(request, account: AccountRef | None = Query(None, description=ACCOUNT_HELP)):
    return sync_health(now=timezone.now(), account_id=api_filters.account_id(account) if account is not None else None)
