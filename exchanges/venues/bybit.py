"""Bybit (v5 unified API): what its venues share, and Bybit linear perpetuals."""

from __future__ import annotations

from .base import LinearPerpetual, Venue
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
    `execution` topic (stream), with the same exact strings; `execId` is unique on the account."""

    exchange = "bybit"
    ccxt_id = "bybit"
    # bybit.py (ccxt 4.5.90) ignores options['fetchCurrencies']: load_markets calls fetch_currencies (a
    # signed /v5/asset/coin/query-info) whenever has['fetchCurrencies'] is True, so switch that off.
    client_has = {"fetchCurrencies": False}
    exact_fields = {
        "amount": ("execQty",),
        "price": ("execPrice",),
        "cost": ("execValue",),
        "fee_cost": ("execFee",),
    }
    pager_class = BybitPager
    ticker_price_keys = ("markPrice", "lastPrice")
    history_days = 730  # "Get Execution (2 years)"

    def amount_step(self, info: dict) -> str | None:
        return info.get("lotSizeFilter", {}).get("qtyStep")

    def price_step(self, info: dict) -> str | None:
        return info.get("priceFilter", {}).get("tickSize")


class BybitLinear(BybitVenue, LinearPerpetual):
    name = "bybit_linear"
    label = "Bybit linear perpetuals"
    client_options = {"defaultType": "swap", "defaultSubType": "linear", "fetchMarkets": {"types": ["linear"]}}
