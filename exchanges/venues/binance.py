"""Binance: what its venues share, and Binance spot."""

from __future__ import annotations

import re

from ..budgets import IP, Budget, Window
from .base import SPOT, Venue
from .pagers import DAY_MS, Page, checked, newest_time


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
            done = len(trades) < self.limit
            return Page(trades, {"from_id": last_id}, done=done, reached_ms=now_ms if done else newest_time(trades))

        start = int(resume["window_start"])
        end = min(start + self.window_ms - 1, now_ms)
        trades = checked(client, await client.fetch_my_trades(market_symbol, since=start, limit=self.limit, params={"until": end}))
        if trades:
            # Found the first trades: from here on, page by id (a window covers only 24 hours).
            last_id = max(int(t["id"]) for t in trades)
            return Page(trades, {"from_id": last_id}, done=False, reached_ms=newest_time(trades))
        return Page([], {"window_start": end + 1}, done=end >= now_ms, reached_ms=end)


USED_WEIGHT_HEADER = re.compile(r"x-mbx-used-weight-(\d+)([smhd])$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class BinanceVenue(Venue):
    """Binance's markets describe their steps in `filters`; its trade ids are numbered per symbol
    (BTCUSDT's trade 123 and ETHUSDT's trade 123 both exist), so they are stored qualified by the
    market, `BTCUSDT:123`: myTrades' `symbol`, the stream's `s`."""

    exchange = "binance"
    market_id_keys = ("symbol", "s")

    def budget_usage(self, headers: dict) -> list[tuple[str, float, int]]:
        """`X-MBX-USED-WEIGHT-1M: 1234`: the IP's weight used in the current minute (the header's name
        says the window)."""
        usage = []
        for name, value in headers.items():
            match = USED_WEIGHT_HEADER.match(name.lower())
            if match and str(value).strip().isdigit():
                usage.append(("weight", int(match[1]) * UNIT_SECONDS[match[2]], int(value)))
        return usage

    def _filters(self, info: dict) -> dict:
        return {f.get("filterType"): f for f in info.get("filters", [])}

    def amount_step(self, info: dict) -> str | None:
        return self._filters(info).get("LOT_SIZE", {}).get("stepSize")

    def price_step(self, info: dict) -> str | None:
        return self._filters(info).get("PRICE_FILTER", {}).get("tickSize")

    def candle_rows(self, response) -> list[list]:
        """`GET /api/v3/klines`: a list of rows, oldest first, `[openTime, "open", "high", "low",
        "close", "volume", closeTime, ...]`."""
        return [row[:6] for row in response] if isinstance(response, list) else []


class BinanceSpot(BinanceVenue):
    name = "binance_spot"
    label = "Binance spot"
    ccxt_id = "binance"
    market_type = SPOT
    # fetchMargins: with credentials, binance's fetch_markets also asks the two sapi margin pair lists.
    client_options = {"defaultType": "spot", "fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "fetchMargins": False}
    # ccxt's own limiter spaces one client's calls by cost x rateLimit ms; ccxt's costs are 0.2 x Binance's
    # weights (binance.py: "Weight(IP): 20 => cost = 0.2 * 20 = 4"), so at 10 ms one client may go at five
    # times the IP's rate. What keeps the IP within its limit is the shared budget below: each
    # client's own pacing only keeps it from flooding the others, and no longer makes the first
    # calls of a minute wait for a rate the minute's limit does not ask.
    rate_limit_ms = 10
    # REQUEST_WEIGHT, 6,000 a minute per IP (exchangeInfo's rateLimits), in minutes on Binance's clock;
    # every Binance account behind the IP, in every process, spends it.
    budgets = (Budget("weight", IP, (Window(6000, 60),), fixed_windows=True, weight_per_cost=5),)
    # One account's calls at the IP's limit (myTrades: weight 20 of 6,000 a minute), for progress estimates.
    history_call_spacing_ms = 200
    # The executionReport keeps the order quantity in `q`; the fill's own is `l`.
    exact_fields = {
        "amount": ("qty", "l"),
        "price": ("price", "L"),
        "cost": ("quoteQty", "Y"),
        "fee_cost": ("commission", "n"),
    }
    pager_class = BinancePager
    # GET /api/v3/ticker/price: one light call for every symbol.
    ticker_method = "fetch_last_prices"
    ticker_price_keys = ("price", "lastPrice")
