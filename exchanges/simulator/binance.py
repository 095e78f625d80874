"""Binance spot, as ccxt's binance class uses it: exchangeInfo, time, myTrades over REST, and the
WebSocket API's signed user-data subscription pushing `executionReport` events.

Signed calls: HMAC-SHA256 (hex) with the secret over the query string (plus body) without the
signature itself; `timestamp` must be within `recvWindow` (default 5000, at most 60000) before the
server's time and not more than 1000 ms after it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from decimal import Decimal

from aiohttp import WSMsgType, web

from .config import AccountConfig, MarketConfig
from .faults import spoil
from .keys import SIMULATOR
from .ledger import Book, Fill
from .money import pad, plain, strip

PLACES = 8  # Binance prints every asset amount with 8 decimals
MAX_LIMIT, DEFAULT_LIMIT = 1000, 500
DAY_MS = 24 * 3600 * 1000

ERRORS = {
    -1003: "Too much request weight used; current limit is {limit} request weight per {interval}. Please use WebSocket Streams for live updates to avoid polling the API.",
    -1021: "Timestamp for this request is outside of the recvWindow.",
    -1022: "Signature for this request is not valid.",
    -1100: "Illegal characters found in parameter '{name}'; legal range is '{range}'.",
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


def _json(sim, data, status: int = 200, headers: dict | None = None) -> web.Response:
    headers = dict(headers or {})
    used = str(sim.binance_weights.used)
    headers.setdefault(sim.binance_weights.header, used)
    headers.setdefault("X-MBX-USED-WEIGHT", used)
    return web.Response(status=status, text=json.dumps(data, separators=(",", ":")), content_type="application/json", headers=headers)


def rate_limited(sim, status: int, retry_after: int | None = None) -> web.Response:
    weights, limits = sim.binance_weights, sim.config.binance
    if retry_after is None:
        retry_after = max(1, limits.interval_seconds - int(sim.clock() % limits.interval_seconds))
    if status == 418:
        msg = BANNED.format(until=int((sim.clock() + retry_after) * 1000))
    else:
        msg = ERRORS[-1003].format(limit=limits.weight_per_interval, interval=f"{weights.interval_num} {weights.interval_unit}")
    return _json(sim, {"code": -1003, "msg": msg}, status, {"Retry-After": str(retry_after)})


def weighted(name: str, handler: Callable) -> Callable:
    """Charge the endpoint's weight before answering; over the limit, answer 429 or 418 instead."""

    async def charged(request: web.Request) -> web.Response:
        sim = request.app[SIMULATOR]
        key = f"{name}:orderId" if name == "myTrades" and "orderId" in request.query else name
        verdict = sim.binance_weights.charge(int(sim.config.binance.weights.get(key, 1)))
        if verdict.status != 200:
            sim.stats[f"rate_limited.binance.{verdict.status}"] += 1
            return rate_limited(sim, verdict.status, verdict.retry_after)
        try:
            return await handler(request, sim)
        except Refused as refused:
            return _json(sim, refused.body(), refused.status)

    return charged


# --- signing --------------------------------------------------------------------------------------


def check_time(sim, params) -> None:
    timestamp = _integer(params, "timestamp", required=True)
    window = _integer(params, "recvWindow") or 5000
    if window > 60000:
        raise Refused(400, -1131)
    now = sim.now_ms()
    if timestamp >= now + 1000:
        raise Refused(400, -1021, AHEAD)
    if now - timestamp > window:
        raise Refused(400, -1021)


def account_for(sim, api_key: str | None) -> AccountConfig:
    if not api_key:
        raise Refused(401, -2014)
    account = sim.by_key.get(api_key)
    if account is None or account.protocol != "binance":
        raise Refused(401, -2015)
    return account


def verify_hmac(secret: str, payload: str, signature: str) -> None:
    expected = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise Refused(400, -1022)


def _without_signature(params: str) -> str:
    return "&".join(p for p in params.split("&") if p and not p.startswith("signature="))


async def signed(request: web.Request, sim) -> AccountConfig:
    """The account a signed call belongs to, once its key, time and signature check out."""
    account = account_for(sim, request.headers.get("X-MBX-APIKEY"))
    body = await request.text() if request.can_read_body else ""
    signature = request.query.get("signature") or (await request.post()).get("signature")
    if not signature:
        raise Refused(400, -1102, name="signature")
    check_time(sim, request.query)
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


def _weight_limit(sim, **extra) -> dict:
    weights = sim.binance_weights
    return {
        "rateLimitType": "REQUEST_WEIGHT",
        "interval": weights.interval_unit,
        "intervalNum": weights.interval_num,
        "limit": sim.config.binance.weight_per_interval,
        **extra,
    }


def _listed(sim) -> dict[str, MarketConfig]:
    """Every market exchangeInfo lists, by market id: the accounts' markets, and the third fee coin
    against each quote coin (BNB/USDT), as on Binance, where ccxt learns the coin from its markets."""
    markets: dict[str, MarketConfig] = {}
    for account in sim.accounts("binance"):
        for market in account.markets:
            markets.setdefault(market.market_id, market)
    for account in sim.accounts("binance"):
        coin, price = account.fees.third_coin, account.fees.third_coin_price
        for quote in {m.quote for m in account.markets} if coin and price > 0 else ():
            listed = MarketConfig(f"{coin}/{quote}", price, Decimal("0.001"), Decimal("0.01"), Decimal("0.001"), Decimal("1"))
            markets.setdefault(listed.market_id, listed)
    return markets


async def ping(request, sim):
    return _json(sim, {})


async def server_time(request, sim):
    return _json(sim, {"serverTime": sim.now_ms()})


async def exchange_info(request, sim):
    markets = _listed(sim)
    wanted = request.query.get("symbol")
    if request.query.get("symbols"):
        wanted_list = json.loads(request.query["symbols"])
    else:
        wanted_list = [wanted] if wanted else list(markets)
    if any(symbol not in markets for symbol in wanted_list):
        raise Refused(400, -1121)
    return _json(
        sim,
        {
            "timezone": "UTC",
            "serverTime": sim.now_ms(),
            "rateLimits": [
                _weight_limit(sim),
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
                {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
                {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
            ],
            "exchangeFilters": [],
            "symbols": [_symbol_info(markets[symbol]) for symbol in wanted_list],
        },
    )


def my_trade(fill: Fill) -> dict:
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


def select_trades(book: Book, params) -> list[int]:
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
        indices = book.fills_of_order_id(str(order_id))
        if from_id is not None:
            indices = [i for i in indices if i >= book.index_of_trade_id(from_id)]
        return indices[:limit]
    size = len(book)
    if from_id is not None:
        first = max(0, book.index_of_trade_id(from_id))
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


async def margin_pairs(request, sim):
    """The margin pair lists ccxt reads while loading markets with credentials (unless fetchMargins
    is off): the simulated accounts trade no margin."""
    await signed(request, sim)
    return _json(sim, [])


async def my_trades(request, sim):
    account = await signed(request, sim)
    market_id = request.query.get("symbol")
    if not market_id:
        raise Refused(400, -1102, name="symbol")
    book = sim.ledger.book_by_market_id(account.name, market_id)
    if book is None:
        if market_id in _listed(sim):
            return _json(sim, [])
        raise Refused(400, -1121)
    indices = select_trades(book, request.query)
    return _json(sim, [my_trade(book.fill(i)) for i in indices])


def corrupt_rest(body, how: str) -> bool:
    """Spoil the first trade of a myTrades answer (a "corrupt" fault); False if it has none."""
    if not isinstance(body, list) or not body:
        return False
    spoil(body[0], "qty", how)
    return True


def corrupt_event(message: dict, how: str) -> None:
    """Spoil the fill amount of a pushed executionReport (a "corrupt" fault)."""
    event = message.get("event")
    if isinstance(event, dict) and event.get("e") == "executionReport":
        spoil(event, "l", how)


# --- WebSocket API --------------------------------------------------------------------------------


def execution_report(fill: Fill, now_ms: int) -> dict:
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




class WsApiSession:
    """One WebSocket API connection: requests in, replies and subscribed user-data events out."""

    def __init__(self, sim, connection):
        self.sim, self.connection = sim, connection
        self.subscriptions: dict[int, str] = {}  # subscription id -> account name
        self.next_subscription = 0

    def _deliver(self, subscription_id: int) -> Callable[[list[Fill]], None]:
        def deliver(fills: list[Fill]) -> None:
            for fill in fills:
                event = execution_report(fill, self.sim.now_ms())
                self.connection.push(json.dumps({"subscriptionId": subscription_id, "event": event}, separators=(",", ":")))

        return deliver

    def _reply(self, request_id, result) -> str:
        limits = [_weight_limit(self.sim, count=self.sim.binance_weights.used)]
        return json.dumps({"id": request_id, "status": 200, "result": result, "rateLimits": limits})

    def handle(self, message: dict) -> str:
        request_id, method = message.get("id"), message.get("method")
        params = message.get("params") or {}
        key = "ws:userDataStream.subscribe.signature" if method == "userDataStream.subscribe.signature" else "ws:other"
        verdict = self.sim.binance_weights.charge(int(self.sim.config.binance.weights.get(key, 2)))
        if verdict.status != 200:
            return _ws_error(request_id, verdict.status, -1003, "Too much request weight used; please use the websocket streams for live updates.")
        try:
            if method == "ping":
                return self._reply(request_id, {})
            if method == "time":
                return self._reply(request_id, {"serverTime": self.sim.now_ms()})
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
        account = account_for(self.sim, params.get("apiKey"))
        signature = str(params.get("signature") or "")
        if not signature:
            raise Refused(400, -1102, name="signature")
        check_time(self.sim, {k: str(v) for k, v in params.items()})
        payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "signature")
        verify_hmac(account.api_secret, payload, signature)
        subscription_id = self.next_subscription
        self.next_subscription += 1
        self.subscriptions[subscription_id] = account.name
        self.sim.feed.subscribe(account.name, self.connection, subscription_id, self._deliver(subscription_id))
        return subscription_id

    def unsubscribe(self, params: dict) -> dict:
        wanted = params.get("subscriptionId")
        for subscription_id in [s for s in list(self.subscriptions) if wanted is None or s == wanted]:
            self.sim.feed.unsubscribe(self.subscriptions.pop(subscription_id), self.connection, subscription_id)
        return {}


async def ws_api(request: web.Request) -> web.WebSocketResponse:
    sim = request.app[SIMULATOR]
    ws = web.WebSocketResponse(heartbeat=20.0, autoping=True, timeout=2.0)
    await ws.prepare(request)
    connection = sim.feed.connect(ws, request, "binance")
    session = WsApiSession(sim, connection)
    try:
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                parsed = json.loads(message.data)
            except json.JSONDecodeError:
                await connection.reply(_ws_error(None, 400, -1135, "Invalid JSON Request"))
                continue
            if not isinstance(parsed, dict):
                await connection.reply(_ws_error(None, 400, -1135, "Invalid JSON Request"))
                continue
            await connection.reply(session.handle(parsed))
    finally:
        await connection.close()
    return ws


async def ticker_price(request, sim):
    """`GET /api/v3/ticker/price`: the last price of one market (`symbol`) or of every listed one."""
    prices = {}
    for account in sim.accounts("binance"):
        for book in sim.ledger.books_of(account.name):
            prices.setdefault(book.market.market_id, book.last_price())
    for market_id, market in _listed(sim).items():
        prices.setdefault(market_id, plain(market.price))
    wanted = request.query.get("symbol")
    if wanted is not None:
        if wanted not in prices:
            return _json(sim, {"code": -1121, "msg": "Invalid symbol."}, 400)
        return _json(sim, {"symbol": wanted, "price": prices[wanted]})
    return _json(sim, [{"symbol": market_id, "price": price} for market_id, price in sorted(prices.items())])


def add_routes(app: web.Application, sim) -> None:
    app.router.add_get("/api/v3/ping", weighted("ping", ping))
    app.router.add_get("/api/v3/time", weighted("time", server_time))
    app.router.add_get("/api/v3/exchangeInfo", weighted("exchangeInfo", exchange_info))
    app.router.add_get("/api/v3/myTrades", weighted("myTrades", my_trades))
    app.router.add_get("/api/v3/ticker/price", weighted("ticker/price", ticker_price))
    app.router.add_get("/sapi/v1/margin/allPairs", weighted("margin/allPairs", margin_pairs))
    app.router.add_get("/sapi/v1/margin/isolated/allPairs", weighted("margin/isolated/allPairs", margin_pairs))
    app.router.add_get("/ws-api/v3", ws_api)
