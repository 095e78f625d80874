"""Binance: what its venues share, and Binance spot."""

from __future__ import annotations

from .base import SPOT, Venue
from .pagers import DAY_MS, Page, checked


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


class BinanceVenue(Venue):
    """Binance's markets describe their steps in `filters`; its trade ids are numbered per symbol
    (BTCUSDT's trade 123 and ETHUSDT's trade 123 both exist), so they are stored qualified by the
    market, `BTCUSDT:123`: myTrades' `symbol`, the stream's `s`."""

    exchange = "binance"
    market_id_keys = ("symbol", "s")

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
    # ccxt's limiter spaces calls by cost x rateLimit ms. Binance spot allows 6,000 request weight a
    # minute; ccxt's costs are a fifth of Binance's weights (myTrades: weight 20, cost 4) at a rateLimit
    # of 50 ms, which is that limit exactly. Binance counts in fixed minutes, and calls spaced exactly
    # at the limit can fit one more into a minute (301 myTrades: 6,020) and be refused with a 429,
    # which repeated earns an IP ban: space them 2 % wider.
    rate_limit_ms = 51
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
