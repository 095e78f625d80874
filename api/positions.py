"""The positions part of the JSON API: positions and their trades and funding, net positions, marks,
PnL at mark (with and without funding)."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Annotated, Literal

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Path, Query, Router, Schema
from ninja.renderers import JSONRenderer

from positions import change_stamp
from positions.fold import side_of
from positions.models import MarkPrice, Position
from positions.repository import PositionRepository
from positions.selectors import latest_marks, mark_of, pnl_at_mark, position_funding, position_trades, realised_without_funding
from positions.totals import pnl_totals

from . import filters as api_filters
from . import single_flight
from .auth import TokenAuth
from .filters import ACCOUNT_HELP, SYMBOL_HELP, AccountRef, SymbolRef
from .funding import FundingOut
from .pagination import page
from .trades import TradeOut
from .types import DecimalString, Id, UtcDateTime

router = Router(tags=["positions"], auth=TokenAuth("positions.view_position"))
VIEW_POSITIONS_AND_MARKS = TokenAuth("positions.view_position", "positions.view_markprice")


class PositionOut(Schema):
    id: int
    account_id: int
    account: str
    bot_instance_id: int | None
    symbol: str
    leg: str = Field(description='A hedge-mode account\'s "long" or "short" leg; "" for a one-way account\'s net position.')
    side: str
    size: DecimalString
    p1: DecimalString
    p2: DecimalString
    p1_fee: DecimalString
    p2_fee: DecimalString
    other_fees: dict[str, DecimalString]
    avg_price: DecimalString | None
    is_open: bool
    entry_time: UtcDateTime
    last_update_time: UtcDateTime
    closed_time: UtcDateTime | None
    realized_pnl: DecimalString | None = Field(description="Of a closed position: p2 + funding.")
    realized_pnl_without_funding: DecimalString | None = Field(description="Of a closed position: p2.")
    funding: DecimalString = Field(description="Funding folded into the position: received minus paid.")
    funding_paid: DecimalString
    funding_received: DecimalString
    funding_count: int
    trade_count: int
    first_trade_id: str
    last_trade_id: str
    mark_price: DecimalString | None = Field(description="Latest mark of an open position's market.")
    marked_at: UtcDateTime | None
    pnl_at_mark: DecimalString | None = Field(description="p2 + p1 * mark + funding, for an open position with a mark.")
    pnl_at_mark_without_funding: DecimalString | None = Field(description="p2 + p1 * mark.")


class PositionDetailOut(PositionOut):
    trades: list[TradeOut]
    funding_payments: list[FundingOut]


def _position_row(position: Position, marks) -> dict:
    mark = mark_of(position, marks)
    return {
        **{name: getattr(position, name) for name in PositionOut.model_fields if hasattr(position, name)},
        "account_id": position.exchange_id,
        "account": position.exchange.name,
        "other_fees": {coin: Decimal(cost) for coin, cost in position.other_fees.items()},
        "mark_price": mark.price if mark else None,
        "marked_at": mark.fetched_at if mark else None,
        "pnl_at_mark": pnl_at_mark(position, mark),
        "pnl_at_mark_without_funding": pnl_at_mark(position, mark, with_funding=False),
        "realized_pnl_without_funding": realised_without_funding(position),
    }


class PositionFilters(Schema):
    status: Literal["open", "closed", "all"] = "open"
    account: AccountRef | None = Field(None, description=ACCOUNT_HELP)
    symbol: SymbolRef | None = Field(None, description=SYMBOL_HELP + " A position is per pair: a market's are those of the accounts that hold it.")
    bot_instance: Id | None = Field(None, description="Bot instance id.")
    leg: Literal["net", "long", "short"] | None = Field(None, description="net: one-way accounts' positions; long or short: a hedge-mode leg.")

    def queryset(self):
        """The positions the filters match; a 422 for an account or a symbol the tracker does not know."""
        positions = Position.objects.with_account()
        if self.leg is not None:
            positions = positions.filter(leg="" if self.leg == "net" else self.leg)
        if self.status != "all":
            positions = positions.filter(is_open=self.status == "open")
        account, symbol = api_filters.filters(self.account, self.symbol)
        if account is not None:
            positions = positions.filter(exchange_id=account)
        if symbol is not None:
            positions = positions.filter(symbol.positions_q())
        if self.bot_instance is not None:
            positions = positions.filter(bot_instance_id=self.bot_instance)
        return positions


class PositionPage(Schema):
    items: list[PositionOut]
    next_cursor: str | None


def _position_page(filters: PositionFilters, limit: int, cursor: str | None) -> dict:
    items, next_cursor = page(filters.queryset(), time_field="last_update_time", cursor=cursor, limit=limit)
    marks = latest_marks({p.exchange_id for p in items})
    return {"items": [_position_row(p, marks) for p in items], "next_cursor": next_cursor}


# The positions list's JSON per query, with the change stamp it was built at and until when it may
# serve. It is served while the stamp is the same (no change of positions or marks has committed
# since, in any process) and for at most POSITIONS_LIST_CACHE_SECONDS, which bounds what the stamp
# does not see: an account renamed, a bump lost while Redis was unreachable.
_pages: dict[tuple, tuple[bytes, bytes, float]] = {}
MAX_CACHED_PAGES = 256
_RENDERER = JSONRenderer()  # the API's own (NinjaAPI's default)


def _cached_page(key: tuple, stamp: bytes | None) -> bytes | None:
    cached = _pages.get(key)
    if stamp is None or cached is None or cached[0] != stamp or time.monotonic() >= cached[2]:
        return None
    return cached[1]


def _keep_page(key: tuple, stamp: bytes | None, content: bytes, stamp_read_at: float) -> None:
    if stamp is None:
        return
    if key not in _pages and len(_pages) >= MAX_CACHED_PAGES:
        _pages.pop(next(iter(_pages)))
    _pages[key] = (stamp, content, stamp_read_at + settings.POSITIONS_LIST_CACHE_SECONDS)


@router.get("/positions", response=PositionPage, summary="Positions, most recently changed first")
async def list_positions(
    request,
    filters: Query[PositionFilters],
    limit: Annotated[int, Field(ge=1, le=1000)] = 100,
    cursor: Annotated[str, Field(max_length=200)] | None = None,
):
    key = (filters.status, filters.account, filters.symbol, filters.bot_instance, filters.leg, limit, cursor)
    stamp_read_at = time.monotonic()
    stamp = await change_stamp.current()
    content = _cached_page(key, stamp)
    if content is None:

        async def build() -> bytes:
            data = PositionPage.model_validate(await sync_to_async(_position_page)(filters, limit, cursor))
            built = _RENDERER.render(request, data.model_dump(), response_status=200)
            _keep_page(key, stamp, built, stamp_read_at)
            return built

        # Requests that saw the same stamp share one build; without a stamp each builds its own.
        content = await (single_flight.once(("positions page", key, stamp), build) if stamp is not None else build())
    return HttpResponse(content, content_type=f"{_RENDERER.media_type}; charset={_RENDERER.charset}")


class NetPositionOut(Schema):
    symbol: str
    net: DecimalString = Field(description="Sum of p1 over the open positions of the pair, all accounts.")
    side: str
    avg_price: DecimalString | None
    shares: dict[str, DecimalString] = Field(description="Each account's p1.")
    positions: list[int]
    funding: DecimalString = Field(description="Sum of the positions' funding.")
    mark_price: DecimalString | None = Field(description="The newest mark among the positions' markets.")
    pnl_at_mark: DecimalString | None = Field(description="Sum of the positions' PnL at their own marks, funding included; null while one has none.")
    pnl_at_mark_without_funding: DecimalString | None


@router.get("/positions/net", response=list[NetPositionOut], summary="Net open position per pair across accounts", auth=VIEW_POSITIONS_AND_MARKS)
async def net_positions(request, symbol: SymbolRef | None = Query(None, description="BASE/QUOTE; a full market symbol is netted as its pair.")):
    if symbol is not None:
        symbols = [(await sync_to_async(api_filters.symbol_filter)(symbol)).pair]
    else:
        symbols = [s async for s in Position.objects.filter(is_open=True).values_list("symbol", flat=True).distinct().order_by("symbol")]
    marks = await sync_to_async(latest_marks)()
    result = []
    for pair in symbols:
        net = await PositionRepository().calculate_net_position(pair)
        position_marks = [mark_of(p, marks) for p in net.positions]
        pnls = [pnl_at_mark(p, m) for p, m in zip(net.positions, position_marks)]
        pnl_without_funding = sum(pnls, Decimal(0)) - net.funding if pnls and None not in pnls else None
        newest = max((m for m in position_marks if m), key=lambda m: m.fetched_at, default=None)
        result.append(
            {
                "symbol": pair,
                "net": net.net,
                "side": side_of(net.net),
                "avg_price": net.avg_price,
                "shares": net.shares,
                "positions": [p.id for p in net.positions],
                "funding": net.funding,
                "mark_price": newest.price if newest else None,
                "pnl_at_mark": sum(pnls, Decimal(0)) if pnls and None not in pnls else None,
                "pnl_at_mark_without_funding": pnl_without_funding,
            }
        )
    return result


@router.get(
    "/positions/{position_id}",
    response=PositionDetailOut,
    summary="One position with its trades and funding payments",
    auth=TokenAuth("positions.view_position", "trades.view_trade", "trades.view_fundingpayment"),
)
def get_position(request, position_id: Path[Id]):
    position = get_object_or_404(Position.objects.with_account(), pk=position_id)
    return {
        **_position_row(position, latest_marks([position.exchange_id])),
        "trades": list(position_trades(position)),
        "funding_payments": list(position_funding(position)),
    }


class MarkOut(Schema):
    account_id: int
    account: str
    market_symbol: str
    symbol: str
    price: DecimalString
    fetched_at: UtcDateTime

    @staticmethod
    def resolve_account(mark: MarkPrice) -> str:
        return mark.account.name


@router.get("/marks", response=list[MarkOut], summary="Latest mark price per market", auth=TokenAuth("positions.view_markprice"))
def list_marks(
    request,
    account: AccountRef | None = Query(None, description=ACCOUNT_HELP),
    symbol: SymbolRef | None = Query(None, description=SYMBOL_HELP),
):
    marks = MarkPrice.objects.select_related("account").order_by("account__name", "market_symbol")
    account_id, symbol_filter = api_filters.filters(account, symbol)
    if account_id is not None:
        marks = marks.filter(account_id=account_id)
    if symbol_filter is not None:
        marks = marks.filter(symbol_filter.trades_q())
    return marks


class PositionPnlOut(Schema):
    position_id: int
    account_id: int
    account: str
    bot_instance_id: int | None
    symbol: str
    leg: str
    p1: DecimalString
    p2: DecimalString
    funding: DecimalString
    mark_price: DecimalString | None
    marked_at: UtcDateTime | None
    pnl_at_mark: DecimalString | None = Field(description="p2 + p1 * mark + funding.")
    pnl_at_mark_without_funding: DecimalString | None = Field(description="p2 + p1 * mark.")


class PnlOut(Schema):
    positions: list[PositionPnlOut]
    totals: dict[str, DecimalString] = Field(description="PnL at mark, funding included, summed per quote coin, over the priced positions.")
    totals_without_funding: dict[str, DecimalString] = Field(description="The same without the positions' funding.")
    unpriced: list[int] = Field(description="Open positions without a mark yet.")


@router.get("/pnl", response=PnlOut, summary="PnL at mark of the open positions", auth=VIEW_POSITIONS_AND_MARKS)
def pnl(
    request,
    account: AccountRef | None = Query(None, description=ACCOUNT_HELP),
    symbol: SymbolRef | None = Query(None, description=SYMBOL_HELP),
    bot_instance: Id | None = None,
):
    filters = PositionFilters(status="open", account=account, symbol=symbol, bot_instance=bot_instance)
    positions = list(filters.queryset().order_by("exchange__name", "symbol", "id"))
    marks = latest_marks({p.exchange_id for p in positions})
    rows = [{**_position_row(position, marks), "position_id": position.id} for position in positions]
    return {
        "positions": rows,
        "totals": pnl_totals((row["symbol"], row["pnl_at_mark"]) for row in rows),
        "totals_without_funding": pnl_totals((row["symbol"], row["pnl_at_mark_without_funding"]) for row in rows),
        "unpriced": [row["position_id"] for row in rows if row["pnl_at_mark"] is None],
    }
