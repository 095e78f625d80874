"""Binance spot, as ccxt's binance class uses it: exchangeInfo, time, myTrades over REST, and the
WebSocket API's signed user-data subscription pushing `executionReport` events.

Signed calls: HMAC-SHA256 (hex) with the secret over the query string (plus body) without the
signature itself; `timestamp` must be within `recvWindow` (default 5000, at most 60000) before the
server's time and not more than 1000 ms after it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

from aiohttp import web

from ..accounts import AccountConfig, MarketConfig
from ..candles import INTERVALS_MS, candle_times, candles
from ..faults import spoil
from ..money import pad, plain, strip
from ..ratelimit import BINANCE_WEIGHTS, BinanceLimits, BinanceWeights
from .base import Exchange, Protocol, Session, json_answer, signature_matches, timestamp_fault

PLACES = 8  # Binance prints every asset amount with 8 decimals
MAX_LIMIT, DEFAULT_LIMIT = 1000, 500
DAY_MS = 24 * 3600 * 1000

ERRORS = {
    -1003: "Too much request weight used; current limit is {limit} request weight per {interval}. Please use WebSocket Streams for live updates to avoid polling the API.",
    -1021: "Timestamp for this request is outside of the recvWindow.",
    -1022: "Signature for this request is not valid.",
    -1100: "Illegal characters found in parameter '{name}'; legal range is '{range}'.",
    -1120: "Invalid interval.",
    -1102: "Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
    -1121: "Invalid symbol.",
    -1127: "More than 24 hours between startTime and endTime.",
    -1128: "Combination of optional parameters invalid.",
    -1131: "recvWindow must be less than 60000",
    -2014: "API-key format invalid.",
    -2015: "Invalid API-key, IP, or permissions for action.",
}
AHEAD = "Timestamp for this request was 1000ms ahead of the server's time."
BANNED = "Way too much request weight used; IP banned until {until}. Please use WebSocket Streams for live updates to avoid bans."


class Refused(Exception):
    def __init__(self, status: int, code: int, msg: str | None = None, **values):
        super().__init__(code)
        self.status, self.code = status, code
        self.msg = msg or ERRORS[code].format(**values)

    def body(self) -> dict:
        return {"code": self.code, "msg": self.msg}


def _json(ex, data, status: int = 200, headers: dict | None = None) -> web.Response:
    headers = dict(headers or {})
    used = str(ex.limiter.used)
    headers.setdefault(ex.limiter.header, used)
    headers.setdefault("X-MBX-USED-WEIGHT", used)
    return json_answer(data, status, headers)


def rate_limited(ex, status: int, retry_after: int | None = None) -> web.Response:
    weights, limits = ex.limiter, ex.limits
    if retry_after is None:
        retry_after = max(1, limits.interval_seconds - int(ex.sim.clock() % limits.interval_seconds))
    if status == 418:
        msg = BANNED.format(until=int((ex.sim.clock() + retry_after) * 1000))
    else:
        msg = ERRORS[-1003].format(limit=limits.weight_per_interval, interval=f"{weights.interval_num} {weights.interval_unit}")
    return _json(ex, {"code": -1003, "msg": msg}, status, {"Retry-After": str(retry_after)})


def weighted(ex, name: str, handler: Callable) -> Callable:
    """Charge the endpoint's weight before answering; over the limit, answer 429 or 418 instead."""

    async def charged(request: web.Request) -> web.Response:
        key = f"{name}:orderId" if name == "myTrades" and "orderId" in request.query else name
        verdict = ex.limiter.charge(int(ex.limits.weights.get(key, 1)))
        if verdict.status != 200:
            ex.sim.stats[f"rate_limited.binance.{verdict.status}"] += 1
            return rate_limited(ex, verdict.status, verdict.retry_after)
        try:
            return await handler(request, ex)
        except Refused as refused:
            return _json(ex, refused.body(), refused.status)

    return charged


# --- signing --------------------------------------------------------------------------------------


def check_time(ex, params) -> None:
    timestamp = _integer(params, "timestamp", required=True)
    window = _integer(params, "recvWindow") or 5000
    if window > 60000:
        raise Refused(400, -1131)
    fault = timestamp_fault(ex.sim.now_ms(), timestamp, window)
    if fault == "ahead":
        raise Refused(400, -1021, AHEAD)
    if fault == "stale":
        raise Refused(400, -1021)


def account_for(ex, api_key: str | None) -> AccountConfig:
    if not api_key:
        raise Refused(401, -2014)
    accounts = ex.accounts_with_key(api_key)
    if not accounts:
        raise Refused(401, -2015)
    return accounts[0]


def verify_hmac(secret: str, payload: str, signature: str) -> None:
    if not signature_matches(secret, payload, signature):
        raise Refused(400, -1022)


def _without_signature(params: str) -> str:
    return "&".join(p for p in params.split("&") if p and not p.startswith("signature="))


async def signed(request: web.Request, ex) -> AccountConfig:
    """The account a signed call belongs to, once its key, time and signature check out."""
    account = account_for(ex, request.headers.get("X-MBX-APIKEY"))
    body = await request.text() if request.can_read_body else ""
    signature = request.query.get("signature") or (await request.post()).get("signature")
    if not signature:
        raise Refused(400, -1102, name="signature")
    check_time(ex, request.query)
    # totalParams: the query string as sent, then the body, each without the signature itself.
    payload = _without_signature(request.raw_path.partition("?")[2]) + _without_signature(body)
    verify_hmac(account.api_secret, payload, signature)
    return account


def _integer(params, name: str, *, required: bool = False) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        if required:
            raise Refused(400, -1102, name=name)
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Refused(400, -1100, name=name, range="^[0-9]{1,20}$") from None


# --- REST -----------------------------------------------------------------------------------------


def _symbol_info(market: MarketConfig) -> dict:
    step, tick = pad(strip(str(market.amount_step)), PLACES), pad(strip(str(market.price_step)), PLACES)
    return {
        "symbol": market.market_id,
        "status": "TRADING",
        "baseAsset": market.base,
        "baseAssetPrecision": PLACES,
        "quoteAsset": market.quote,
        "quotePrecision": PLACES,
        "quoteAssetPrecision": PLACES,
        "baseCommissionPrecision": PLACES,
        "quoteCommissionPrecision": PLACES,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "otoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "amendAllowed": True,
        "pegInstructionsAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": tick, "maxPrice": pad("1000000", PLACES), "tickSize": tick},
            {"filterType": "LOT_SIZE", "minQty": step, "maxQty": pad("9000", PLACES), "stepSize": step},
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {"filterType": "MARKET_LOT_SIZE", "minQty": pad("0", PLACES), "maxQty": pad("100", PLACES), "stepSize": pad("0", PLACES)},
            {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10, "maxTrailingAboveDelta": 2000, "minTrailingBelowDelta": 10, "maxTrailingBelowDelta": 2000},
            {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": "5", "bidMultiplierDown": "0.2", "askMultiplierUp": "5", "askMultiplierDown": "0.2", "avgPriceMins": 5},
            {"filterType": "NOTIONAL", "minNotional": pad("5", PLACES), "applyMinToMarket": True, "maxNotional": pad("9000000", PLACES), "applyMaxToMarket": False, "avgPriceMins": 5},
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT"],
    }


def _weight_limit(ex, **extra) -> dict:
    weights = ex.limiter
    return {
        "rateLimitType": "REQUEST_WEIGHT",
        "interval": weights.interval_unit,
        "intervalNum": weights.interval_num,
        "limit": ex.limits.weight_per_interval,
        **extra,
    }


def _listed(ex) -> dict[str, MarketConfig]:
    """Every market exchangeInfo lists, by market id: the accounts' markets, and the third fee coin
    against each quote coin (BNB/USDT), as on Binance, where ccxt learns the coin from its markets."""
    markets: dict[str, MarketConfig] = {}
    for account in ex.accounts:
        for market in account.markets:
            markets.setdefault(market.market_id, market)
    for account in ex.accounts:
        coin, price = account.fees.third_coin, account.fees.third_coin_price
        for quote in {m.quote for m in account.markets} if coin and price > 0 else ():
            listed = MarketConfig(f"{coin}/{quote}", price, Decimal("0.001"), Decimal("0.01"), Decimal("0.001"), Decimal("1"))
            markets.setdefault(listed.market_id, listed)
    return markets


async def ping(request, ex):
    return _json(ex, {})


async def server_time(request, ex):
    return _json(ex, {"serverTime": ex.sim.now_ms()})


async def exchange_info(request, ex):
    markets = _listed(ex)
    wanted = request.query.get("symbol")
    if request.query.get("symbols"):
        wanted_list = json.loads(request.query["symbols"])
    else:
        wanted_list = [wanted] if wanted else list(markets)
    if any(symbol not in markets for symbol in wanted_list):
        raise Refused(400, -1121)
    return _json(
        ex,
        {
            "timezone": "UTC",
            "serverTime": ex.sim.now_ms(),
            "rateLimits": [
                _weight_limit(ex),
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
                {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
                {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
            ],
            "exchangeFilters": [],
            "symbols": [_symbol_info(markets[symbol]) for symbol in wanted_list],
        },
    )


def my_trade(fill) -> dict:
    return {
        "symbol": fill.market_id,
        "id": int(fill.trade_id),
        "orderId": int(fill.order_id),
        "orderListId": -1,
        "price": pad(fill.price, PLACES),
        "qty": pad(fill.amount, PLACES),
        "quoteQty": strip(fill.cost),
        "commission": pad(strip(fill.fee), PLACES),
        "commissionAsset": fill.fee_coin,
        "time": fill.timestamp,
        "isBuyer": fill.side == "buy",
        "isMaker": fill.maker,
        "isBestMatch": True,
    }


def select_trades(book, params) -> list[int]:
    """Indices of the fills myTrades returns, with Binance's rules for combining its parameters."""
    limit = _integer(params, "limit")
    limit = DEFAULT_LIMIT if limit is None else limit
    if limit <= 0:
        raise Refused(400, -1100, name="limit", range="^[0-9]{1,20}$")
    limit = min(limit, MAX_LIMIT)
    start, end = _integer(params, "startTime"), _integer(params, "endTime")
    from_id, order_id = _integer(params, "fromId"), _integer(params, "orderId")
    if from_id is not None and (start is not None or end is not None):
        raise Refused(400, -1128)
    if order_id is not None and (start is not None or end is not None):
        raise Refused(400, -1128)
    if start is not None and end is not None:
        if end < start or end - start > DAY_MS:
            raise Refused(400, -1127)
    if order_id is not None:
        indices = fills_of_order_id(book, str(order_id))
        if from_id is not None:
            indices = [i for i in indices if i >= index_of_trade_id(book, from_id)]
        return indices[:limit]
    size = len(book)
    if from_id is not None:
        first = max(0, index_of_trade_id(book, from_id))
        return list(range(first, min(size, first + limit)))
    if start is not None:
        first = book.first_at_or_after(start)
        stop = book.first_after(end if end is not None else start + DAY_MS)
        return list(range(first, min(stop, first + limit)))
    if end is not None:
        stop = book.first_after(end)
        first = max(book.first_at_or_after(end - DAY_MS), stop - limit)
        return list(range(first, stop))
    return list(range(max(0, size - limit), size))


async def margin_pairs(request, ex):
    """The margin pair lists ccxt reads while loading markets with credentials (unless fetchMargins
    is off): the simulated accounts trade no margin."""
    await signed(request, ex)
    return _json(ex, [])


async def my_trades(request, ex):
    account = await signed(request, ex)
    market_id = request.query.get("symbol")
    if not market_id:
        raise Refused(400, -1102, name="symbol")
    book = ex.sim.ledger.book_by_market_id(account.name, market_id)
    if book is None:
        if market_id in _listed(ex):
            return _json(ex, [])
        raise Refused(400, -1121)
    indices = select_trades(book, request.query)
    return _json(ex, [my_trade(book.fill(i)) for i in indices])


# --- WebSocket API --------------------------------------------------------------------------------


def execution_report(fill, now_ms: int) -> dict:
    leaves = strip(fill.leaves_qty) != "0"
    return {
        "e": "executionReport",
        "E": now_ms,
        "s": fill.market_id,
        "c": f"sim{fill.order_id}",
        "S": fill.side.upper(),
        "o": fill.order_type,
        "f": "GTC",
        "q": pad(fill.order_qty, PLACES),
        "p": pad(fill.order_price if fill.order_type == "LIMIT" else "0", PLACES),
        "P": pad("0", PLACES),
        "F": pad("0", PLACES),
        "g": -1,
        "C": "",
        "x": "TRADE",
        "X": "PARTIALLY_FILLED" if leaves else "FILLED",
        "r": "NONE",
        "i": int(fill.order_id),
        "l": pad(fill.amount, PLACES),
        "z": pad(fill.cum_qty, PLACES),
        "L": pad(fill.price, PLACES),
        "n": pad(strip(fill.fee), PLACES),
        "N": fill.fee_coin,
        "T": fill.timestamp,
        "t": int(fill.trade_id),
        "v": 0,
        "I": int(fill.trade_id) * 2 + 1,
        "w": leaves and fill.order_type == "LIMIT",
        "m": fill.maker,
        "M": True,
        "O": fill.order_created,
        "Z": strip(fill.cum_quote),
        "Y": strip(fill.cost),
        "Q": pad("0", PLACES),
        "W": fill.order_created,
        "V": "EXPIRE_MAKER",
    }


def _ws_error(request_id, status: int, code: int, msg: str) -> str:
    return json.dumps({"id": request_id, "status": status, "error": {"code": code, "msg": msg}})


class WsApiSession(Session):
    """One WebSocket API connection: requests in, replies and subscribed user-data events out."""

    def __init__(self, exchange, connection):
        super().__init__(exchange, connection)
        self.ex = exchange
        self.subscriptions: dict[int, str] = {}  # subscription id -> account name
        self.next_subscription = 0

    def _deliver(self, subscription_id: int) -> Callable[[list], None]:
        def deliver(fills: list) -> None:
            for fill in fills:
                self.push({"subscriptionId": subscription_id, "event": execution_report(fill, self.ex.sim.now_ms())})

        return deliver

    def _reply(self, request_id, result) -> str:
        limits = [_weight_limit(self.ex, count=self.ex.limiter.used)]
        return json.dumps({"id": request_id, "status": 200, "result": result, "rateLimits": limits})

    def not_json(self) -> str:
        return _ws_error(None, 400, -1135, "Invalid JSON Request")

    def handle(self, message: dict) -> str:
        request_id, method = message.get("id"), message.get("method")
        params = message.get("params") or {}
        key = "ws:userDataStream.subscribe.signature" if method == "userDataStream.subscribe.signature" else "ws:other"
        verdict = self.ex.limiter.charge(int(self.ex.limits.weights.get(key, 2)))
        if verdict.status != 200:
            return _ws_error(request_id, verdict.status, -1003, "Too much request weight used; please use the websocket streams for live updates.")
        try:
            if method == "ping":
                return self._reply(request_id, {})
            if method == "time":
                return self._reply(request_id, {"serverTime": self.ex.sim.now_ms()})
            if method == "userDataStream.subscribe.signature":
                return self._reply(request_id, {"subscriptionId": self.subscribe(params)})
            if method == "userDataStream.unsubscribe":
                return self._reply(request_id, self.unsubscribe(params))
            if method == "session.subscriptions":
                return self._reply(request_id, [{"subscriptionId": s} for s in self.subscriptions])
        except Refused as refused:
            return _ws_error(request_id, refused.status, refused.code, refused.msg)
        return _ws_error(request_id, 400, -1100, f"Unknown method '{method}'.")

    def subscribe(self, params: dict) -> int:
        account = account_for(self.ex, params.get("apiKey"))
        signature = str(params.get("signature") or "")
        if not signature:
            raise Refused(400, -1102, name="signature")
        check_time(self.ex, {k: str(v) for k, v in params.items()})
        payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "signature")
        verify_hmac(account.api_secret, payload, signature)
        subscription_id = self.next_subscription
        self.next_subscription += 1
        self.subscriptions[subscription_id] = account.name
        self.ex.sim.feed.subscribe(account.name, self.connection, subscription_id, self._deliver(subscription_id))
        return subscription_id

    def unsubscribe(self, params: dict) -> dict:
        wanted = params.get("subscriptionId")
        for subscription_id in [s for s in list(self.subscriptions) if wanted is None or s == wanted]:
            self.ex.sim.feed.unsubscribe(self.subscriptions.pop(subscription_id), self.connection, subscription_id)
        return {}


async def ticker_price(request, ex):
    """`GET /api/v3/ticker/price`: the last price of one market (`symbol`) or of every listed one."""
    prices = {}
    for account in ex.accounts:
        for book in ex.sim.ledger.books_of(account.name):
            prices.setdefault(book.market.market_id, book.last_price())
    for market_id, market in _listed(ex).items():
        prices.setdefault(market_id, plain(market.price))
    wanted = request.query.get("symbol")
    if wanted is not None:
        if wanted not in prices:
            return _json(ex, {"code": -1121, "msg": "Invalid symbol."}, 400)
        return _json(ex, {"symbol": wanted, "price": prices[wanted]})
    return _json(ex, [{"symbol": market_id, "price": price} for market_id, price in sorted(prices.items())])


async def klines(request, ex):
    """`GET /api/v3/klines`: a market's candles from the fills of every account trading it (see
    `candles`), each row as Binance writes it: times as numbers, prices and volumes as strings."""
    market_id = request.query.get("symbol")
    if not market_id:
        raise Refused(400, -1102, name="symbol")
    interval = request.query.get("interval")
    if not interval:
        raise Refused(400, -1102, name="interval")
    if interval not in INTERVALS_MS:
        raise Refused(400, -1120)
    books = [book for account in ex.accounts for book in ex.sim.ledger.books_of(account.name) if book.market.market_id == market_id]
    if not books and market_id not in _listed(ex):
        raise Refused(400, -1121)
    limit = _integer(request.query, "limit")
    limit = DEFAULT_LIMIT if limit is None else limit
    if not 0 < limit:
        raise Refused(400, -1100, name="limit", range="^[0-9]{1,20}$")
    interval_ms = INTERVALS_MS[interval]
    times = candle_times(
        interval_ms,
        start=_integer(request.query, "startTime"),
        end=_integer(request.query, "endTime"),
        limit=min(limit, MAX_LIMIT),
        now=ex.sim.now_ms(),
    )
    return _json(ex, [kline(candle, interval_ms) for candle in candles(books, interval_ms, times)])


def kline(candle, interval_ms: int) -> list:
    return [
        candle.open_time,
        pad(candle.open, PLACES),
        pad(candle.high, PLACES),
        pad(candle.low, PLACES),
        pad(candle.close, PLACES),
        pad(candle.volume, PLACES),
        candle.open_time + interval_ms - 1,
        pad(candle.quote_volume, PLACES),
        candle.trades,
        pad(candle.buy_volume, PLACES),
        pad(candle.buy_quote_volume, PLACES),
        "0",
    ]


# --- ids: numbers, per symbol ------------------------------------------------------------------------


def trade_id_base(book) -> int:
    """Binance numbers trade ids per symbol: every book's ids start at the same base, so the ids of
    two markets overlap (BTCUSDT's and ETHUSDT's trade 1000000000 both exist), as they do there."""
    return 1_000_000_000 + book.seed % 1000 * 1_000_000


def order_id_base(book) -> int:
    """Order ids are numbers too, unique over all books (the book's number is part of them)."""
    return (book.number + 1) * 10_000_000_000 + book.seed % 1000 * 10_000_000


def index_of_trade_id(book, trade_id: int) -> int:
    """The index a trade id has or would have in `book` (ids are consecutive per symbol)."""
    return trade_id - trade_id_base(book)


def fills_of_order_id(book, order_id: str) -> list[int]:
    """Indices of an order's fills."""
    if not order_id.isdigit():
        return []
    order = int(order_id) - order_id_base(book)
    if 0 <= order < book.first_live_order:
        first, parts = book.history.order_of(order)
        return list(range(order, min(order + parts, book.history_len))) if first == order else []
    return [book.history_len + j for j, number in enumerate(book.order) if number == order]


# --- the API and the venue ---------------------------------------------------------------------------


class BinanceExchange(Exchange):
    name = "binance"
    prefixes = ("/api/", "/sapi/", "/ws-api/")
    trade_list_paths = ("/api/v3/myTrades",)
    limits_class = BinanceLimits
    stats_key = "binance_weight"

    @classmethod
    def parse_limits(cls, raw: dict) -> BinanceLimits:
        return BinanceLimits(**{**raw, "weights": {**BINANCE_WEIGHTS, **raw.get("weights", {})}})

    def make_limiter(self) -> BinanceWeights:
        return BinanceWeights(self.limits, self.sim.clock)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/api/v3/ping", weighted(self, "ping", ping))
        app.router.add_get("/api/v3/time", weighted(self, "time", server_time))
        app.router.add_get("/api/v3/exchangeInfo", weighted(self, "exchangeInfo", exchange_info))
        app.router.add_get("/api/v3/myTrades", weighted(self, "myTrades", my_trades))
        app.router.add_get("/api/v3/ticker/price", weighted(self, "ticker/price", ticker_price))
        app.router.add_get("/api/v3/klines", weighted(self, "klines", klines))
        app.router.add_get("/sapi/v1/margin/allPairs", weighted(self, "margin/allPairs", margin_pairs))
        app.router.add_get("/sapi/v1/margin/isolated/allPairs", weighted(self, "margin/isolated/allPairs", margin_pairs))
        app.router.add_get("/ws-api/v3", self.ws_api)

    async def ws_api(self, request: web.Request) -> web.WebSocketResponse:
        return await self.serve_websocket(request, WsApiSession, heartbeat=20.0)

    def rate_limited(self, path: str, retry_after: int | None) -> web.Response:
        return rate_limited(self, 429, retry_after)

    def corrupt_rest(self, body, how: str) -> bool:
        if not isinstance(body, list) or not body:
            return False
        spoil(body[0], "qty", how)
        return True

    def corrupt_event(self, message: dict, how: str) -> None:
        event = message.get("event")
        if isinstance(event, dict) and event.get("e") == "executionReport":
            spoil(event, "l", how)

    def ban(self, seconds: float) -> bool:
        self.limiter.ban(seconds)
        return True


class BinanceSpot(Protocol):
    name = "binance"
    exchange = BinanceExchange
    title = "binance spot"
    ccxt_id = "binance"
    market_type = "spot"
    symbol_form = "BTC/USDT"
    known_markets = {
        "BTC": {"price": "60000", "amount_step": "0.00001", "price_step": "0.01", "min_amount": "0.00010", "max_amount": "0.05000"},
        "ETH": {"price": "3000", "amount_step": "0.0001", "price_step": "0.01", "min_amount": "0.0020", "max_amount": "1.5000"},
        "SOL": {"price": "150", "amount_step": "0.001", "price_step": "0.01", "min_amount": "0.050", "max_amount": "20.000"},
        "BNB": {"price": "600", "amount_step": "0.001", "price_step": "0.01", "min_amount": "0.010", "max_amount": "5.000"},
    }
    # VIP 0: 0.1% maker and taker, 0.075% when paid in BNB.
    default_fees = {"maker": "0.001", "taker": "0.001", "third_coin": "BNB", "third_coin_price": "600", "third_coin_rate": "0.00075", "third_coin_share": 0.3}
    fee_in = "received"
    fee_places = PLACES

    def symbol_is_valid(self, symbol: str) -> bool:
        return ":" not in symbol and symbol.count("/") == 1

    def trade_id(self, book, index: int) -> str:
        return str(trade_id_base(book) + index)

    def order_id(self, book, order: int) -> str:
        return str(order_id_base(book) + order)
