"""Bybit v5 for linear perpetuals, as ccxt's bybit class uses it: instruments-info, time, the account
checks it makes before private WebSocket calls, execution/list over REST, and the private
WebSocket (`auth`, `subscribe` to executions, `ping`).

Signed calls: HMAC-SHA256 (hex) over timestamp + API key + recv window + the query string as sent
(GET) or the body (POST); the timestamp must be within the recv window (default 5000 ms) before
the server's time and less than 1000 ms after it. The WebSocket `auth` signs "GET/realtime" + expires.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import json
import uuid
from decimal import Decimal, InvalidOperation
from urllib.parse import unquote

from aiohttp import WSMsgType, web

from .config import AccountConfig
from .faults import spoil
from .keys import SIMULATOR
from .ledger import Book, Fill
from .money import decimals, plain, strip

WEEK_MS = 7 * 24 * 3600 * 1000
MAX_LIMIT, DEFAULT_LIMIT = 100, 50
CATEGORIES = ("linear", "inverse", "spot", "option")
EXECUTION_TOPICS = ("execution", "execution.linear", "execution.fast", "execution.fast.linear")
OTHER_PRIVATE_TOPICS = ("order", "order.linear", "position", "position.linear", "wallet", "greeks", "dcp")


class Failed(Exception):
    def __init__(self, code: int, msg: str, status: int = 200, headers: dict | None = None):
        super().__init__(code)
        self.code, self.msg, self.status, self.headers = code, msg, status, headers or {}


def _answer(sim, result=None, *, code: int = 0, msg: str = "OK", status: int = 200, headers: dict | None = None) -> web.Response:
    now = sim.now_ms()
    body = {"retCode": code, "retMsg": msg, "result": {} if result is None else result, "retExtInfo": {}, "time": now}
    return web.Response(
        status=status,
        text=json.dumps(body, separators=(",", ":")),
        content_type="application/json",
        headers={"Traceid": uuid.uuid4().hex, "Timenow": str(now), **(headers or {})},
    )


def rate_limited(sim, path: str) -> web.Response:
    limit = int(sim.config.bybit.endpoints.get(path, sim.config.bybit.per_second))
    headers = {"X-Bapi-Limit": str(limit), "X-Bapi-Limit-Status": "0", "X-Bapi-Limit-Reset-Timestamp": str(sim.now_ms() + 1000)}
    return _answer(sim, code=10006, msg="Too many visits!", headers=headers)


def endpoint(handler, *, private: bool):
    """IP limit for every call; for private calls also key, time, signature and the per-key limit."""

    async def answer(request: web.Request) -> web.Response:
        sim = request.app[SIMULATOR]
        if not sim.bybit_rates.ip_allows():
            sim.stats["rate_limited.bybit.403"] += 1
            return web.Response(status=403, text="403 Forbidden: access too frequent", content_type="text/plain")
        try:
            if not private:
                return _answer(sim, await handler(request, sim))
            account, headers = await _signed(request, sim)
            return _answer(sim, await handler(request, sim, account), headers=headers)
        except Failed as failed:
            return _answer(sim, code=failed.code, msg=failed.msg, status=failed.status, headers=failed.headers)

    return answer


def _sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


async def _signed(request: web.Request, sim) -> tuple[AccountConfig, dict]:
    key = request.headers.get("X-BAPI-API-KEY", "")
    account = sim.by_key.get(key)
    if account is None or account.protocol != "bybit":
        raise Failed(10003, "API key is invalid.", status=401)
    timestamp = request.headers.get("X-BAPI-TIMESTAMP", "")
    window_text = request.headers.get("X-BAPI-RECV-WINDOW", "")
    window = int(window_text) if window_text.isdigit() else 5000
    now = sim.now_ms()
    if not timestamp.isdigit() or not now - window <= int(timestamp) < now + 1000:
        raise Failed(
            10002,
            f"invalid request, please check your server timestamp or recv_window param. req_timestamp[{timestamp}],server_timestamp[{now}],recv_window[{window}]",
        )
    params = await request.text() if request.method == "POST" else request.raw_path.partition("?")[2]
    payload = timestamp + key + window_text + params
    if not hmac.compare_digest(_sign(account.api_secret, payload), request.headers.get("X-BAPI-SIGN", "").lower()):
        raise Failed(10004, f"error sign! origin_string[{payload}]")
    verdict = sim.bybit_rates.charge(key, request.path)
    headers = {
        "X-Bapi-Limit": str(verdict.limit),
        "X-Bapi-Limit-Status": str(verdict.remaining),
        "X-Bapi-Limit-Reset-Timestamp": str(verdict.reset_ms),
    }
    if not verdict.allowed:
        sim.stats["rate_limited.bybit.10006"] += 1
        raise Failed(10006, "Too many visits!", headers=headers)
    return account, headers


# --- public ---------------------------------------------------------------------------------------


def _books(sim) -> dict[str, Book]:
    books: dict[str, Book] = {}
    for account in sim.accounts("bybit"):
        for book in sim.ledger.books_of(account.name):
            books.setdefault(book.market.market_id, book)
    return books


def _instrument(book: Book) -> dict:
    market = book.market

    def qty(value: int) -> str:
        return format(Decimal(value).quantize(market.amount_step), "f")

    return {
        "symbol": market.market_id,
        "contractType": "LinearPerpetual",
        "status": "Trading",
        "baseCoin": market.base,
        "quoteCoin": market.quote,
        "launchTime": "1585526400000",
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": str(decimals(market.price_step)),
        "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
        "priceFilter": {
            "minPrice": format(market.price_step, "f"),
            "maxPrice": format(Decimal(1999999).quantize(market.price_step), "f"),
            "tickSize": format(market.price_step, "f"),
        },
        "lotSizeFilter": {
            "maxOrderQty": qty(1190),
            "minOrderQty": format(market.amount_step, "f"),
            "qtyStep": format(market.amount_step, "f"),
            "postOnlyMaxOrderQty": qty(1190),
            "maxMktOrderQty": qty(119),
            "minNotionalValue": "5",
        },
        "unifiedMarginTrade": True,
        "fundingInterval": 480,
        "settleCoin": market.settle,
        "copyTrading": "both",
        "upperFundingRate": "0.005",
        "lowerFundingRate": "-0.005",
        "isPreListing": False,
        "preListingInfo": None,
        "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
        "displayName": "",
    }


async def server_time(request, sim):
    now = sim.clock()
    return {"timeSecond": str(int(now)), "timeNano": str(int(now * 1e9))}


async def instruments_info(request, sim):
    category = request.query.get("category", "")
    if category not in CATEGORIES:
        raise Failed(10001, "params error: category is invalid")
    instruments = []
    if category == "linear" and request.query.get("status", "Trading") == "Trading":
        books = _books(sim)
        wanted = request.query.get("symbol")
        instruments = [_instrument(b) for market_id, b in books.items() if wanted in (None, market_id)]
    return {"category": category, "list": instruments, "nextPageCursor": ""}


async def tickers(request, sim):
    """`GET /v5/market/tickers`: last and mark price of the linear markets (the mark is the last price)."""
    category = request.query.get("category", "")
    if category not in CATEGORIES:
        raise Failed(10001, "params error: category is invalid")
    wanted = request.query.get("symbol")
    rows = []
    for market_id, book in (_books(sim).items() if category == "linear" else ()):
        if wanted in (None, market_id):
            price = book.last_price()
            rows.append({"symbol": market_id, "lastPrice": price, "markPrice": price, "indexPrice": price, "bid1Price": price, "ask1Price": price})
    return {"category": category, "list": rows}


# --- private --------------------------------------------------------------------------------------


async def coin_info(request, sim, account):
    coins = sorted({c for a in sim.accounts("bybit") for m in a.markets for c in (m.base, m.quote)})
    rows = []
    for coin in coins:
        chain = {
            "chainType": coin, "confirmation": "6", "withdrawFee": "0", "depositMin": "0", "withdrawMin": "0", "chain": coin,
            "chainDeposit": "1", "chainWithdraw": "1", "minAccuracy": "8", "withdrawPercentageFee": "0", "contractAddress": "", "safeConfirmNumber": "6",
        }
        rows.append({"name": coin, "coin": coin, "remainAmount": "1000000", "chains": [chain]})
    return {"rows": rows}


async def query_api(request, sim, account):
    return {
        "id": str(1000 + sim.config.accounts.index(account)),
        "note": account.name,
        "apiKey": account.api_key,
        "readOnly": 1,
        "secret": "",
        "permissions": {
            "ContractTrade": ["Order", "Position"], "Spot": [], "Wallet": [], "Options": [], "Derivatives": [],
            "CopyTrading": [], "BlockTrade": [], "Exchange": [], "NFT": [], "Affiliate": [],
        },
        "ips": ["*"],
        "type": 1,
        "deadlineDay": -1,
        "expiredAt": "",
        "createdAt": "2024-01-01T00:00:00Z",
        "unified": 0,
        "uta": 1,
        "userID": 10_000_000 + sim.config.accounts.index(account),
        "inviterID": 0,
        "vipLevel": "No VIP",
        "mktMakerLevel": "0",
        "affiliateID": 0,
        "rsaPublicKey": "",
        "isMaster": True,
        "parentUid": "0",
        "kycLevel": "LEVEL_DEFAULT",
        "kycRegion": "",
    }


async def account_info(request, sim, account):
    return {
        "marginMode": "REGULAR_MARGIN",
        "updatedTime": "1704067200000",
        "unifiedMarginStatus": 6,
        "dcpStatus": "OFF",
        "timeWindow": 10,
        "smpGroup": 0,
        "isMasterTrader": False,
        "spotHedgingStatus": "OFF",
    }


def _fee_rate(fill: Fill) -> str:
    try:
        cost = Decimal(fill.cost)
        return plain((Decimal(fill.fee) / cost).quantize(Decimal("1e-8"))) if cost else "0"
    except InvalidOperation:
        return "0"


def execution(fill: Fill, *, websocket: bool) -> dict:
    item = {
        "symbol": fill.market_id,
        "orderType": fill.order_type.capitalize(),
        "underlyingPrice": "",
        "orderLinkId": "",
        "orderId": fill.order_id,
        "stopOrderType": "UNKNOWN",
        "execTime": str(fill.timestamp),
        "feeRate": _fee_rate(fill),
        "tradeIv": "",
        "blockTradeId": "",
        "markPrice": fill.price,
        "execPrice": fill.price,
        "markIv": "",
        "orderQty": fill.order_qty,
        "orderPrice": fill.order_price,
        "execValue": strip(fill.cost),
        "closedSize": "0",
        "execType": "Trade",
        "seq": fill.seq,
        "side": fill.side.capitalize(),
        "indexPrice": "",
        "leavesQty": fill.leaves_qty,
        "isMaker": fill.maker,
        "execFee": strip(fill.fee),
        "execId": fill.trade_id,
        "marketUnit": "",
        "execQty": fill.amount,
        "execPnl": "0",
        "createType": "CreateByUser",
    }
    if websocket:
        item.update({"category": "linear", "isLeverage": "0", "extraFees": [], "feeCoin": fill.fee_coin})
    else:
        item.update({"feeCurrency": fill.fee_coin, "extraFees": ""})
    return item


def _fast_execution(fill: Fill) -> dict:
    return {
        "category": "linear", "symbol": fill.market_id, "execId": fill.trade_id, "execPrice": fill.price, "execQty": fill.amount,
        "orderId": fill.order_id, "isMaker": fill.maker, "orderLinkId": "", "side": fill.side.capitalize(),
        "execTime": str(fill.timestamp), "seq": fill.seq,
    }


def _number(query, name: str) -> int | None:
    value = query.get(name)
    if value in (None, ""):
        return None
    if not value.isdigit():
        raise Failed(10001, f"params error: {name} invalid")
    return int(value)


def _window(query, now: int) -> tuple[int, int]:
    """Bybit: no times -> the last 7 days; one time -> 7 days from or to it; both -> at most 7 days apart."""
    start, end = _number(query, "startTime"), _number(query, "endTime")
    if start is None and end is None:
        return now - WEEK_MS, now
    if end is None:
        return start, start + WEEK_MS
    if start is None:
        return end - WEEK_MS, end
    if end < start:
        raise Failed(10001, "params error: startTime must be less than endTime")
    if end - start > WEEK_MS:
        raise Failed(10001, "params error: The time range between startTime and endTime cannot exceed 7 days")
    return start, end


def _cursor(text: str | None) -> tuple[int, int, int] | None:
    if not text:
        return None
    while "%" in text:
        text = unquote(text)
    try:
        ts, number, index = (int(part) for part in text.split(":"))
    except ValueError:
        raise Failed(10001, "params error: cursor invalid") from None
    return ts, number, index


def _descending(book: Book, start: int, end: int, cursor):
    low, high = book.first_at_or_after(start), book.first_after(end)
    if cursor is not None:
        ts, number, index = cursor
        if book.number == number:
            high = min(high, index)
        elif book.number < number:
            high = min(high, book.first_after(ts))
        else:
            high = min(high, book.first_at_or_after(ts))
    for i in range(high - 1, low - 1, -1):
        yield book.timestamp(i), book.number, i


async def execution_list(request, sim, account):
    query = request.query
    category = query.get("category", "")
    if category not in CATEGORIES:
        raise Failed(10001, "params error: category is invalid")
    limit = _number(query, "limit") or DEFAULT_LIMIT
    limit = max(1, min(limit, MAX_LIMIT))
    start, end = _window(query, sim.now_ms())
    cursor = _cursor(query.get("cursor"))
    books = sim.ledger.books_of(account.name) if category == "linear" and query.get("execType", "Trade") == "Trade" else []
    if query.get("symbol"):
        books = [b for b in books if b.market.market_id == query["symbol"]]
    if query.get("baseCoin"):
        books = [b for b in books if b.market.base == query["baseCoin"]]
    by_number = {book.number: book for book in books}
    order_id = query.get("orderId")
    picked = []
    for key in heapq.merge(*(_descending(b, start, end, cursor) for b in books), reverse=True):
        fill = by_number[key[1]].fill(key[2])
        if order_id and fill.order_id != order_id:
            continue
        picked.append((key, fill))
        if len(picked) > limit:
            break
    more = len(picked) > limit
    picked = picked[:limit]
    next_cursor = "%3A".join(map(str, picked[-1][0])) if more else ""
    return {"nextPageCursor": next_cursor, "category": category, "list": [execution(fill, websocket=False) for _, fill in picked]}


def corrupt_rest(body, how: str) -> bool:
    """Spoil the first execution of an execution/list answer (a "corrupt" fault); False if it has none."""
    executions = (body.get("result") or {}).get("list") if isinstance(body, dict) else None
    if not executions:
        return False
    spoil(executions[0], "execQty", how)
    return True


def corrupt_event(message: dict, how: str) -> None:
    """Spoil the first execution of a pushed execution message (a "corrupt" fault)."""
    data = message.get("data")
    if isinstance(data, list) and data and isinstance(data[0], dict):
        spoil(data[0], "execQty", how)


# --- private WebSocket ----------------------------------------------------------------------------


class PrivateSession:
    def __init__(self, sim, connection):
        self.sim, self.connection = sim, connection
        self.conn_id = f"{uuid.uuid4().hex[:20]}-{id(connection) % 100000}"
        self.account: AccountConfig | None = None
        self.topics: set[str] = set()

    def _reply(self, request: dict, **fields) -> str:
        message = {"success": True, "ret_msg": "", "op": request.get("op"), "conn_id": self.conn_id, **fields}
        if "req_id" in request:
            message["req_id"] = request["req_id"]
        return json.dumps(message)

    def handle(self, request: dict) -> str:
        op = request.get("op")
        if op == "ping":
            reply = {"op": "pong", "args": [str(self.sim.now_ms())], "conn_id": self.conn_id}
            if "req_id" in request:
                reply = {"req_id": request["req_id"], **reply}
            return json.dumps(reply)
        if op == "auth":
            return self.auth(request)
        if op in ("subscribe", "unsubscribe"):
            if self.account is None:
                return self._reply(request, success=False, ret_msg="Request not authorized")
            topics = request.get("args") or []
            unknown = [t for t in topics if t not in EXECUTION_TOPICS + OTHER_PRIVATE_TOPICS]
            if unknown:
                return self._reply(request, success=False, ret_msg=f"error:handler not found,topic:{unknown[0]}")
            for topic in topics:
                if op == "subscribe":
                    self.topics.add(topic)
                    self.sim.feed.subscribe(self.account.name, self.connection, topic, self._deliver(topic))
                else:
                    self.topics.discard(topic)
                    self.sim.feed.unsubscribe(self.account.name, self.connection, topic)
            return self._reply(request)
        return self._reply(request, success=False, ret_msg=f"error:invalid op:{op}")

    def auth(self, request: dict) -> str:
        args = request.get("args") or []
        if len(args) != 3 or not str(args[1]).isdigit():
            return self._reply(request, success=False, ret_msg="Params Error")
        api_key, expires, signature = str(args[0]), int(args[1]), str(args[2])
        if expires <= self.sim.now_ms():
            return self._reply(request, success=False, ret_msg="Params Error")
        account = self.sim.by_key.get(api_key)
        if account is None or account.protocol != "bybit":
            return self._reply(request, success=False, ret_msg="Request not authorized")
        if not hmac.compare_digest(_sign(account.api_secret, f"GET/realtime{args[1]}"), signature.lower()):
            return self._reply(request, success=False, ret_msg="Request not authorized")
        self.account = account
        return self._reply(request)

    def _deliver(self, topic: str):
        def deliver(fills: list[Fill]) -> None:
            if topic.startswith("execution.fast"):
                data = [_fast_execution(fill) for fill in fills]
                message = {"topic": topic, "creationTime": self.sim.now_ms(), "data": data}
            elif topic.startswith("execution"):
                data = [execution(fill, websocket=True) for fill in fills]
                message = {"id": f"{uuid.uuid4().hex}", "topic": topic, "creationTime": self.sim.now_ms(), "data": data}
            else:
                return
            self.connection.push(json.dumps(message, separators=(",", ":")))

        return deliver


async def private_ws(request: web.Request) -> web.WebSocketResponse:
    sim = request.app[SIMULATOR]
    ws = web.WebSocketResponse(autoping=True, timeout=2.0)
    await ws.prepare(request)
    connection = sim.feed.connect(ws, request, "bybit")
    session = PrivateSession(sim, connection)
    try:
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                parsed = json.loads(message.data)
            except json.JSONDecodeError:
                parsed = None
            if not isinstance(parsed, dict):
                await connection.reply(json.dumps({"success": False, "ret_msg": "error:invalid op", "conn_id": session.conn_id}))
                continue
            await connection.reply(session.handle(parsed))
    finally:
        await connection.close()
    return ws


def add_routes(app: web.Application, sim) -> None:
    app.router.add_get("/v5/market/time", endpoint(server_time, private=False))
    app.router.add_get("/v5/market/instruments-info", endpoint(instruments_info, private=False))
    app.router.add_get("/v5/market/tickers", endpoint(tickers, private=False))
    app.router.add_get("/v5/asset/coin/query-info", endpoint(coin_info, private=True))
    app.router.add_get("/v5/user/query-api", endpoint(query_api, private=True))
    app.router.add_get("/v5/account/info", endpoint(account_info, private=True))
    app.router.add_get("/v5/execution/list", endpoint(execution_list, private=True))
    app.router.add_get("/v5/private", private_ws)
