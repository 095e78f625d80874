"""How to walk one symbol's trade history on each exchange, one page at a time, resumably.

A pager turns a saved `resume` state into one request and returns the trades with the state that
follows them. The state is saved with the trades of its page, so a sync killed at any point resumes
from the last stored page and re-fetches at most one.
"""

from __future__ import annotations

from dataclasses import dataclass

import ccxt

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


@dataclass(frozen=True)
class Page:
    trades: list[dict]
    resume: dict
    done: bool
    newest_first: bool = False  # older pages follow: fold once the run is complete, not page by page


class BinancePager:
    """Binance spot `myTrades`: ids grow with time per symbol, and with `fromId` the exchange returns
    trades from that id on, ascending. A new symbol first walks 24-hour windows (the longest Binance
    allows) from the start date until it finds a trade; from then on it pages by id. Each page asks
    from the last id already stored, so the overlap is one trade. The ids here are ccxt's, Binance's
    own numbers, counted per symbol like the cursor: never the stored `MARKET:id`."""

    limit = 1000
    window_ms = DAY_MS

    def initial(self, start_ms: int) -> dict:
        return {"window_start": start_ms}

    async def fetch(self, client, market_symbol: str, resume: dict, now_ms: int) -> Page:
        if "from_id" in resume:
            from_id = int(resume["from_id"])
            trades = checked(client, await client.fetch_my_trades(market_symbol, limit=self.limit, params={"fromId": from_id}))
            last_id = max((int(t["id"]) for t in trades), default=from_id)
            return Page(trades, {"from_id": last_id}, done=len(trades) < self.limit)

        start = int(resume["window_start"])
        end = min(start + self.window_ms - 1, now_ms)
        trades = checked(client, await client.fetch_my_trades(market_symbol, since=start, limit=self.limit, params={"until": end}))
        if trades:
            # Found the first trades: from here on, page by id (a window covers only 24 hours).
            last_id = max(int(t["id"]) for t in trades)
            return Page(trades, {"from_id": last_id}, done=False)
        return Page([], {"window_start": end + 1}, done=end >= now_ms)


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


def checked(client, trades: list[dict]) -> list[dict]:
    """ccxt does not raise on a body it cannot parse: Bybit's then reads as "no trades" and Binance's
    as a junk trade. Taken as an answer, either could move a cursor past trades never read; raise
    `BadResponse` instead, which backs off and asks again."""
    if getattr(client, "last_json_response", None) is None or any(not isinstance(t.get("info"), dict) for t in trades):
        raise ccxt.BadResponse(f"{client.id}: the answer was not the JSON expected")
    return trades


PAGERS = {"binance": BinancePager, "bybit": BybitPager}


def pager_for(ccxt_id: str):
    try:
        return PAGERS[ccxt_id]()
    except KeyError:
        raise ValueError(f"no REST pager for exchange {ccxt_id!r}") from None
