"""Bybit (v5 unified API): what its venues share, Bybit linear perpetuals and Bybit spot."""

from __future__ import annotations

from .base import SPOT, LinearPerpetual, Venue
from .pagers import DAY_MS, Page, checked


class BybitPager:
    """Bybit v5 `execution/list`: at most 7 days per query, newest first, paged by `cursor`. A window
    counts as synced only when its last page is stored; the next window starts `overlap_ms` before the
    end of the last one, so trades that reach the REST view late are still found."""

    limit = 100
    window_ms = 7 * DAY_MS

    def __init__(self, overlap_ms: int = 60_000):
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
        params = {"until": end}
        if resume.get("page_cursor"):
            params["cursor"] = resume["page_cursor"]
        trades = checked(client, await client.fetch_my_trades(market_symbol, since=start, limit=self.limit, params=params))
        next_cursor = next((t["info"]["nextPageCursor"] for t in trades if t["info"].get("nextPageCursor")), None)
        if trades and next_cursor:
            return Page(
                trades, {"window_start": start, "window_end": end, "last": last, "page_cursor": next_cursor}, done=False, newest_first=True
            )
        return Page(trades, {"synced_until": end + 1}, done=last)


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

    def is_own_streamed_trade(self, trade: dict) -> bool:
        info = trade.get("info")
        return isinstance(info, dict) and info.get("category") == self.category

    def amount_step(self, info: dict) -> str | None:
        return info.get("lotSizeFilter", {}).get("qtyStep")

    def price_step(self, info: dict) -> str | None:
        return info.get("priceFilter", {}).get("tickSize")

    def candle_rows(self, response) -> list[list]:
        """`GET /v5/market/kline`: `result.list`, newest first, `["startTime", "open", "high",
        "low", "close", "volume", "turnover"]`, all strings."""
        rows = ((response or {}).get("result") or {}).get("list") if isinstance(response, dict) else None
        return [row[:6] for row in reversed(rows)] if isinstance(rows, list) else []


class BybitLinear(BybitVenue, LinearPerpetual):
    name = "bybit_linear"
    label = "Bybit linear perpetuals"
    category = "linear"
    client_options = {"defaultType": "swap", "defaultSubType": "linear", "fetchMarkets": {"types": ["linear"]}}


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
