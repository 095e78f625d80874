"""Bybit (v5 unified API): what its venues share, Bybit linear perpetuals and Bybit spot."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import ccxt

from .base import SPOT, LinearPerpetual, Venue
from .pagers import DAY_MS, Page, checked


# v5's execTypes of the executions that change a position, and the kind the tracker stores each as.
# `Funding` changes none: it is a payment (see `BybitLinear`).
EXECUTION_KINDS = {
    "Trade": "fill",
    "BlockTrade": "fill",
    "MovePosition": "fill",
    "FutureSpread": "fill",
    "BustTrade": "liquidation",
    "AdlTrade": "adl",
    "Settle": "settlement",
    "Delivery": "delivery",
}
FUNDING = "Funding"


class BybitPager:
    """Bybit v5 `execution/list`: at most 7 days per query, newest first, paged by `cursor`. A window
    counts as synced only when its last page is stored; the next window starts `overlap_ms` before the
    end of the last one, so trades that reach the REST view late are still found.

    Asked without `execType`, the endpoint lists every kind of execution; ccxt's `fetch_my_trades`
    asks for `Trade` only (a liquidation or ADL fill would never be read) and `fetch_funding_history`
    for `Funding` only. One kind per call would cost a call per kind for each page; so each page is
    one unfiltered call, through ccxt's own signed implicit method, its rows parsed by ccxt's
    `parse_trade` and split by the venue into trades and funding payments: one call per page, and one
    cursor walking one list, so neither part can skip what the other has read."""

    limit = 100
    window_ms = 7 * DAY_MS

    def __init__(self, venue: BybitVenue, overlap_ms: int = 60_000):
        self.venue = venue
        self.overlap_ms = overlap_ms

    def initial(self, start_ms: int) -> dict:
        return {"synced_until": start_ms}

    async def fetch(self, client, market_symbol: str, resume: dict, now_ms: int) -> Page:
        if "window_start" in resume:
            start, end, last = int(resume["window_start"]), int(resume["window_end"]), bool(resume.get("last"))
        else:
            start = max(int(resume["synced_until"]) - self.overlap_ms, 0)
            end = min(start + self.window_ms - 1, now_ms)
            last = end >= now_ms  # this window reaches the present: the pass ends with it
        await client.load_markets()  # (once per client: as fetch_my_trades would)
        market = client.market(market_symbol)
        request = {"category": self.venue.category, "symbol": market["id"], "startTime": start, "endTime": end, "limit": self.limit}
        if resume.get("page_cursor"):
            request["cursor"] = resume["page_cursor"]
        response = await client.privateGetV5ExecutionList(request)
        result = response.get("result") if isinstance(response, dict) else None
        rows = result.get("list") if isinstance(result, dict) else None
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise ccxt.BadResponse(f"{client.id}: the answer was not the JSON expected")
        executions = checked(client, client.parse_trades(rows, market))
        trades = [e for e in executions if not self.venue.is_funding(e)]
        funding = [e for e in executions if self.venue.is_funding(e)]
        next_cursor = result.get("nextPageCursor") or None
        if executions and next_cursor:
            return Page(
                trades,
                {"window_start": start, "window_end": end, "last": last, "page_cursor": next_cursor},
                done=False,
                newest_first=True,
                funding=funding,
            )
        return Page(trades, {"synced_until": end + 1}, done=last, funding=funding)


class BybitVenue(Venue):
    """Bybit v5: every category's executions in `/v5/execution/list` (REST) and the private
    `execution` topic (stream), with the same exact strings; `execId` is unique on the account.

    On a unified account one `execution` stream carries the fills of every category, and ccxt names a
    pushed fill's market by its id alone when only one loaded market has that id: a spot-only client
    calls a linear BTCUSDT fill `BTC/USDT`. Only the payload's `category` tells whose fill it is. REST
    asks `/v5/execution/list` with the category, so its rows are the venue's own."""

    exchange = "bybit"
    category: str  # Bybit's v5 `category` of the venue's markets: linear, spot
    ccxt_id = "bybit"
    # bybit.py (ccxt 4.5.90) ignores options['fetchCurrencies']: load_markets calls fetch_currencies (a
    # signed /v5/asset/coin/query-info) whenever has['fetchCurrencies'] is True, so switch that off.
    client_has = {"fetchCurrencies": False}
    exact_fields = {
        "amount": ("execQty",),
        "price": ("execPrice",),
        "cost": ("execValue",),
        "fee_cost": ("execFee",),
        # REST rows name the fee coin `feeCurrency` (which ccxt does not read, and guesses), pushed
        # ones `feeCoin`.
        "fee_currency": ("feeCurrency", "feeCoin"),
    }
    pager_class = BybitPager
    ticker_price_keys = ("markPrice", "lastPrice")
    history_days = 730  # "Get Execution (2 years)"

    def pager(self) -> BybitPager:
        return BybitPager(self)

    def is_own_streamed_trade(self, trade: dict) -> bool:
        info = trade.get("info")
        return isinstance(info, dict) and info.get("category") == self.category

    def trade_kind(self, trade: dict) -> str | None:
        """From `execType` (the `execution.fast` topic has none: its rows are trades)."""
        info = trade.get("info")
        exec_type = (info.get("execType") if isinstance(info, dict) else None) or "Trade"
        return EXECUTION_KINDS.get(exec_type)

    def is_funding(self, execution: dict) -> bool:
        info = execution.get("info")
        return isinstance(info, dict) and info.get("execType") == FUNDING

    def amount_step(self, info: dict) -> str | None:
        return info.get("lotSizeFilter", {}).get("qtyStep")

    def price_step(self, info: dict) -> str | None:
        return info.get("priceFilter", {}).get("tickSize")

    def candle_rows(self, response) -> list[list]:
        """`GET /v5/market/kline`: `result.list`, newest first, `["startTime", "open", "high",
        "low", "close", "volume", "turnover"]`, all strings."""
        rows = ((response or {}).get("result") or {}).get("list") if isinstance(response, dict) else None
        return [row[:6] for row in reversed(rows)] if isinstance(rows, list) else []


def _closed_size(info: dict) -> Decimal:
    try:
        return Decimal(str(info.get("closedSize") or "0"))
    except InvalidOperation:
        return Decimal(0)


class BybitLinear(BybitVenue, LinearPerpetual):
    """Bybit linear perpetuals. Funding is an execution too (`execType=Funding`, in REST and on the
    stream): `execQty` the position's size, `execPrice` the mark price, `feeRate` the funding rate,
    `execFee` the payment, positive when paid, and the row's side the one that would close the
    position (a long's row is a sell).

    A hedge-mode account (`positionIdx` 1 and 2 in `/v5/position/list`) holds a long and a short
    leg; an execution does not name its leg, but says how much of a position it closed
    (`closedSize`): in hedge mode an order either opens or adds to its side's leg (a buy the long)
    or only reduces the other (a sell closing the long), so the side and whether it closed tell the leg."""

    name = "bybit_linear"
    label = "Bybit linear perpetuals"
    category = "linear"
    client_options = {
        "defaultType": "swap",
        "defaultSubType": "linear",
        "fetchMarkets": {"types": ["linear"]},
        # ccxt.pro drops funding rows from watch_my_trades by default; the stream hands them over
        # and the tracker keeps them apart (`is_funding`), so a payment is stored the moment it is pushed.
        "watchMyTrades": {"execType": [*EXECUTION_KINDS, FUNDING]},
    }
    has_funding = True
    funding_fields = {"amount": ("execFee",), "rate": ("feeRate",), "position_size": ("execQty",), "currency": ("feeCurrency", "feeCoin")}
    funding_paid_positive = True
    position_modes = ("one_way", "hedge")

    def trade_leg(self, trade: dict) -> str:
        info = trade.get("info") or {}
        closes = _closed_size(info) > 0
        return "long" if (trade.get("side") == "buy") != closes else "short"

    def funding_leg(self, payment: dict) -> str:
        info = payment.get("info") or {}
        side = str(info.get("side") or payment.get("side") or "").lower()
        return {"sell": "long", "buy": "short"}.get(side, "")

    async def read_position_mode(self, client, market_symbols: list[str]) -> str | None:
        """From `/v5/position/list` (ccxt's fetch_positions, one call per settle coin): positionIdx 1
        or 2 is a hedge-mode account's, 0 a one-way account's."""
        await client.load_markets()
        indices = set()
        for settle in sorted({client.market(symbol)["settle"] for symbol in market_symbols}):
            for position in await client.fetch_positions(None, {"settleCoin": settle}):
                index = str((position.get("info") or {}).get("positionIdx", ""))
                if index.isdigit():
                    indices.add(int(index))
        if indices & {1, 2}:
            return "hedge"
        return "one_way" if indices else None


class BybitSpot(BybitVenue):
    """Bybit spot on a unified account. Its fee is in the coin received (a maker's rebate in the coin
    given), which only the payload names exactly; its instruments give the amount step as
    `basePrecision` (no `qtyStep`); its tickers have no mark price."""

    name = "bybit_spot"
    label = "Bybit spot"
    market_type = SPOT
    category = "spot"
    # fetchMarkets.types: load_markets makes one call, instruments-info?category=spot.
    client_options = {"defaultType": "spot", "fetchMarkets": {"types": ["spot"]}}
    ticker_price_keys = ("lastPrice",)

    def amount_step(self, info: dict) -> str | None:
        return info.get("lotSizeFilter", {}).get("basePrecision")
