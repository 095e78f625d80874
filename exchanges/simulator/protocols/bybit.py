"""The Bybit family: Bybit v5 as ccxt's bybit class uses it, for every category registered (a
`BybitProtocol` each: linear in bybit_linear.py, spot in bybit_spot.py): instruments-info, tickers, time, the account checks
ccxt makes before private WebSocket calls, execution/list over REST, and the private WebSocket
(`auth`, `subscribe` to executions, `ping`). What differs between categories (the instruments row,
the symbols, fees, the execution row's extras) is in the category's module.

Signed calls: HMAC-SHA256 (hex) over timestamp + API key + recv window + the query string as sent
(GET) or the body (POST); the timestamp must be within the recv window (default 5000 ms) before
the server's time and less than 1000 ms after it. The WebSocket `auth` signs "GET/realtime" + expires.
"""

from __future__ import annotations

import heapq
import json
import uuid
from decimal import Decimal, InvalidOperation
from urllib.parse import unquote

from aiohttp import web

from ..accounts import AccountConfig
from ..candles import INTERVALS_MS, candle_times, candles
from ..faults import spoil
from ..ledger import KINDS, TRADE
from ..money import plain, strip
from ..ratelimit import BYBIT_ENDPOINT_LIMITS, BybitLimits, BybitRates
from .base import Exchange, Protocol, Session, compact, signature_matches, timestamp_fault

WEEK_MS = 7 * 24 * 3600 * 1000
MAX_LIMIT, DEFAULT_LIMIT = 100, 50
# the ledger's kinds as v5 names them (execType), and the createType of the venue's own orders
EXEC_TYPES = {"trade": "Trade", "liquidation": "BustTrade", "adl": "AdlTrade", "settlement": "Settle", "delivery": "Delivery", "funding": "Funding"}
KIND_OF_EXEC_TYPE = {exec_type: KINDS.index(kind) for kind, exec_type in EXEC_TYPES.items()}
CREATE_TYPES = {"trade": "CreateByUser", "liquidation": "CreateByLiq", "adl": "CreateByAdl_PassThrough", "settlement": "CreateBySettle", "delivery": "CreateByDelivery", "funding": ""}
CATEGORIES = ("linear", "inverse", "spot", "option")
# the private topics of every category; each category adds its own (execution.linear, ...)
PRIVATE_TOPICS = ("execution", "execution.fast", "order", "position", "wallet", "greeks", "dcp")


class Failed(Exception):
    def __init__(self, code: int, msg: str, status: int = 200, headers: dict | None = None):
        super().__init__(code)
        self.code, self.msg, self.status, self.headers = code, msg, status, headers or {}


def _answer(ex, result=None, *, code: int = 0, msg: str = "OK", status: int = 200, headers: dict | None = None) -> web.Response:
    now = ex.sim.now_ms()
    body = {"retCode": code, "retMsg": msg, "result": {} if result is None else result, "retExtInfo": {}, "time": now}
    return web.Response(
        status=status,
        text=compact(body),
        content_type="application/json",
        headers={"Traceid": uuid.uuid4().hex, "Timenow": str(now), **(headers or {})},
    )


def rate_limited(ex, path: str) -> web.Response:
    limit = int(ex.limits.endpoints.get(path, ex.limits.per_second))
    headers = {"X-Bapi-Limit": str(limit), "X-Bapi-Limit-Status": "0", "X-Bapi-Limit-Reset-Timestamp": str(ex.sim.now_ms() + 1000)}
    return _answer(ex, code=10006, msg="Too many visits!", headers=headers)


def endpoint(ex, handler, *, private: bool):
    """IP limit for every call; for private calls also key, time, signature and the per-key limit."""

    async def answer(request: web.Request) -> web.Response:
        if not ex.limiter.ip_allows():
            ex.sim.stats["rate_limited.bybit.403"] += 1
            return web.Response(status=403, text="403 Forbidden: access too frequent", content_type="text/plain")
        try:
            if not private:
                return _answer(ex, await handler(request, ex))
            account, headers = await _signed(request, ex)
            return _answer(ex, await handler(request, ex, account), headers=headers)
        except Failed as failed:
            return _answer(ex, code=failed.code, msg=failed.msg, status=failed.status, headers=failed.headers)

    return answer


async def _signed(request: web.Request, ex) -> tuple[AccountConfig, dict]:
    key = request.headers.get("X-BAPI-API-KEY", "")
    accounts = ex.accounts_with_key(key)
    if not accounts:
        raise Failed(10003, "API key is invalid.", status=401)
    account = accounts[0]
    timestamp = request.headers.get("X-BAPI-TIMESTAMP", "")
    window_text = request.headers.get("X-BAPI-RECV-WINDOW", "")
    window = int(window_text) if window_text.isdigit() else 5000
    now = ex.sim.now_ms()
    if not timestamp.isdigit() or timestamp_fault(now, int(timestamp), window):
        raise Failed(
            10002,
            f"invalid request, please check your server timestamp or recv_window param. req_timestamp[{timestamp}],server_timestamp[{now}],recv_window[{window}]",
        )
    params = await request.text() if request.method == "POST" else request.raw_path.partition("?")[2]
    payload = timestamp + key + window_text + params
    if not signature_matches(account.api_secret, payload, request.headers.get("X-BAPI-SIGN", "")):
        raise Failed(10004, f"error sign! origin_string[{payload}]")
    verdict = ex.limiter.charge(key, request.path)
    headers = {
        "X-Bapi-Limit": str(verdict.limit),
        "X-Bapi-Limit-Status": str(verdict.remaining),
        "X-Bapi-Limit-Reset-Timestamp": str(verdict.reset_ms),
    }
    if not verdict.allowed:
        ex.sim.stats["rate_limited.bybit.10006"] += 1
        raise Failed(10006, "Too many visits!", headers=headers)
    return account, headers


# --- public ---------------------------------------------------------------------------------------


def _books(ex, category: str) -> dict:
    """market id -> book, over the accounts of `category`."""
    books = {}
    for account in ex.accounts:
        if account.venue.category == category:
            for book in ex.sim.ledger.books_of(account.name):
                books.setdefault(book.market.market_id, book)
    return books


async def server_time(request, ex):
    now = ex.sim.clock()
    return {"timeSecond": str(int(now)), "timeNano": str(int(now * 1e9))}


async def instruments_info(request, ex):
    category = request.query.get("category", "")
    if category not in CATEGORIES:
        raise Failed(10001, "params error: category is invalid")
    instruments = []
    if request.query.get("status", "Trading") == "Trading":
        wanted = request.query.get("symbol")
        instruments = [b.account.venue.instrument(b) for market_id, b in _books(ex, category).items() if wanted in (None, market_id)]
    if category == "spot":  # "Spot does not support pagination": its answer has no cursor
        return {"category": category, "list": instruments}
    return {"category": category, "list": instruments, "nextPageCursor": ""}


async def tickers(request, ex):
    """`GET /v5/market/tickers`: the category's markets at their last price (see `BybitProtocol.ticker`)."""
    category = request.query.get("category", "")
    if category not in CATEGORIES:
        raise Failed(10001, "params error: category is invalid")
    wanted = request.query.get("symbol")
    rows = [b.account.venue.ticker(b, b.last_price()) for market_id, b in _books(ex, category).items() if wanted in (None, market_id)]
    return {"category": category, "list": rows}


# v5's kline intervals, in the simulator's names
KLINE_INTERVALS = {"1": "1m", "3": "3m", "5": "5m", "15": "15m", "30": "30m", "60": "1h", "120": "2h", "240": "4h", "360": "6h", "720": "12h", "D": "1d", "W": "1w"}
KLINE_MAX_LIMIT, KLINE_DEFAULT_LIMIT = 1000, 200


def _query_integer(query, name: str) -> int | None:
    text = query.get(name)
    if text in (None, ""):
        return None
    if not text.isdigit():
        raise Failed(10001, f"params error: {name} is invalid")
    return int(text)


async def kline(request, ex):
    """`GET /v5/market/kline`: a market's candles from the fills of every account of the category
    trading it (see `candles`), newest first, each `[startTime, open, high, low, close, volume,
    turnover]` in strings, as v5 writes them."""
    category = request.query.get("category") or "linear"
    if category not in CATEGORIES:
        raise Failed(10001, "params error: category is invalid")
    market_id = request.query.get("symbol", "")
    interval = KLINE_INTERVALS.get(request.query.get("interval", ""))
    if interval is None:
        raise Failed(10001, "params error: interval is invalid")
    books = [
        book
        for account in ex.accounts
        if account.venue.category == category
        for book in ex.sim.ledger.books_of(account.name)
        if book.market.market_id == market_id
    ]
    if not books:
        raise Failed(10001, "params error: symbol invalid")
    limit = _query_integer(request.query, "limit") or KLINE_DEFAULT_LIMIT
    interval_ms = INTERVALS_MS[interval]
    times = candle_times(
        interval_ms,
        start=_query_integer(request.query, "start"),
        end=_query_integer(request.query, "end"),
        limit=min(limit, KLINE_MAX_LIMIT),
        now=ex.sim.now_ms(),
    )
    rows = [
        [str(c.open_time), c.open, c.high, c.low, c.close, strip(c.volume), strip(c.quote_volume)]
        for c in reversed(candles(books, interval_ms, times))
    ]
    return {"symbol": market_id, "category": category, "list": rows}


# --- private --------------------------------------------------------------------------------------


async def coin_info(request, ex, account):
    coins = sorted({c for a in ex.accounts for m in a.markets for c in (m.base, m.quote)})
    rows = []
    for coin in coins:
        chain = {
            "chainType": coin, "confirmation": "6", "withdrawFee": "0", "depositMin": "0", "withdrawMin": "0", "chain": coin,
            "chainDeposit": "1", "chainWithdraw": "1", "minAccuracy": "8", "withdrawPercentageFee": "0", "contractAddress": "", "safeConfirmNumber": "6",
        }
        rows.append({"name": coin, "coin": coin, "remainAmount": "1000000", "chains": [chain]})
    return {"rows": rows}


NO_PERMISSIONS = {
    "ContractTrade": [], "Spot": [], "Wallet": [], "Options": [], "Derivatives": [],
    "CopyTrading": [], "BlockTrade": [], "Exchange": [], "NFT": [], "Affiliate": [],
}


async def query_api(request, ex, account):
    return {
        "id": str(1000 + ex.sim.config.accounts.index(account)),
        "note": account.name,
        "apiKey": account.api_key,
        "readOnly": 1,
        "secret": "",
        # one key of a unified account may trade every category its accounts trade
        "permissions": {**NO_PERMISSIONS, **{k: v for a in ex.accounts_with_key(account.api_key) for k, v in a.venue.api_permissions.items()}},
        "ips": ["*"],
        "type": 1,
        "deadlineDay": -1,
        "expiredAt": "",
        "createdAt": "2024-01-01T00:00:00Z",
        "unified": 0,
        "uta": 1,
        "userID": 10_000_000 + ex.sim.config.accounts.index(account),
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


async def account_info(request, ex, account):
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


def fee_rate(fill) -> str:
    """The fill's `feeRate`: its fee over what it was charged on (the amount for a fee in the base
    coin, as on a spot buy; else the cost)."""
    try:
        base = fill.amount if fill.fee_coin == fill.symbol.split("/")[0] else fill.cost
        return plain((Decimal(fill.fee) / Decimal(base)).quantize(Decimal("1e-8"))) if Decimal(base) else "0"
    except InvalidOperation:
        return "0"


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


def _descending(book, start: int, end: int, cursor, kind: int | None = None):
    """Book positions in [start, end] after `cursor`, newest first; of one kind only, where asked
    (the few fills that are not trades are listed in `book.special`)."""
    low, high = book.first_at_or_after(start), book.first_after(end)
    if cursor is not None:
        ts, number, index = cursor
        if book.number == number:
            high = min(high, index)
        elif book.number < number:
            high = min(high, book.first_after(ts))
        else:
            high = min(high, book.first_at_or_after(ts))
    if kind is not None and kind != TRADE:
        for i in reversed(book.special):
            if low <= i < high and book.kind_of(i) == kind:
                yield book.timestamp(i), book.number, i
        return
    for i in range(high - 1, low - 1, -1):
        if kind is None or book.kind_of(i) == kind:
            yield book.timestamp(i), book.number, i


async def execution_list(request, ex, account):
    query = request.query
    category = query.get("category", "")
    if category not in CATEGORIES:
        raise Failed(10001, "params error: category is invalid")
    limit = _number(query, "limit") or DEFAULT_LIMIT
    limit = max(1, min(limit, MAX_LIMIT))
    start, end = _window(query, ex.sim.now_ms())
    cursor = _cursor(query.get("cursor"))
    exec_type = query.get("execType") or None
    if exec_type is not None and exec_type not in KIND_OF_EXEC_TYPE:
        raise Failed(10001, "params error: execType invalid")
    kind = KIND_OF_EXEC_TYPE[exec_type] if exec_type else None  # none asked: every type, as Bybit answers
    books = []
    # one key, one unified account: its executions of the asked category, whichever account has them
    for holder in ex.accounts_with_key(account.api_key):
        if holder.venue.category == category:
            books += ex.sim.ledger.books_of(holder.name)
    if query.get("symbol"):
        books = [b for b in books if b.market.market_id == query["symbol"]]
    if query.get("baseCoin"):
        books = [b for b in books if b.market.base == query["baseCoin"]]
    by_number = {book.number: book for book in books}
    order_id = query.get("orderId")
    picked = []
    for key in heapq.merge(*(_descending(b, start, end, cursor, kind) for b in books), reverse=True):
        book = by_number[key[1]]
        fill = book.fill(key[2])
        if order_id and fill.order_id != order_id:
            continue
        picked.append((key, book, fill))
        if len(picked) > limit:
            break
    more = len(picked) > limit
    picked = picked[:limit]
    next_cursor = "%3A".join(map(str, picked[-1][0])) if more else ""
    rows = [book.account.venue.execution(fill, websocket=False) for _, book, fill in picked]
    return {"nextPageCursor": next_cursor, "category": category, "list": rows}


async def position_list(request, ex, account):
    """`GET /v5/position/list` (ccxt's fetch_positions): one row per market of a one-way account
    (positionIdx 0), two of a hedge-mode one (1: the long leg, 2: the short), open or not."""
    query = request.query
    category = query.get("category", "")
    if category not in ("linear", "inverse", "option"):
        raise Failed(10001, "params error: category is invalid")
    if not (query.get("symbol") or query.get("settleCoin") or query.get("baseCoin")):
        raise Failed(10001, "params error: symbol or settleCoin is required")
    rows = []
    for holder in ex.accounts_with_key(account.api_key):
        if holder.venue.category != category:
            continue
        for book in ex.sim.ledger.books_of(holder.name):
            market = book.market
            if query.get("symbol") not in (None, "", market.market_id) or query.get("settleCoin") not in (None, "", market.settle):
                continue
            if query.get("baseCoin") not in (None, "", market.base):
                continue
            rows += [holder.venue.position(book, leg, size) for leg, size in sorted(book.open_positions().items())]
    return {"list": rows, "nextPageCursor": "", "category": category}


# --- private WebSocket ----------------------------------------------------------------------------


def _topic_category(topic: str) -> str | None:
    """The category a private topic is limited to (execution.linear: linear); None: every category."""
    last = topic.rsplit(".", 1)[-1]
    return last if last in CATEGORIES else None


class PrivateSession(Session):
    def __init__(self, exchange, connection):
        super().__init__(exchange, connection)
        self.ex = exchange
        self.conn_id = f"{uuid.uuid4().hex[:20]}-{id(connection) % 100000}"
        self.accounts: list[AccountConfig] = []  # the accounts on the authenticated key
        self.topics: set[str] = set()

    def _reply(self, request: dict, **fields) -> str:
        message = {"success": True, "ret_msg": "", "op": request.get("op"), "conn_id": self.conn_id, **fields}
        if "req_id" in request:
            message["req_id"] = request["req_id"]
        return json.dumps(message)

    def not_json(self) -> str:
        return json.dumps({"success": False, "ret_msg": "error:invalid op", "conn_id": self.conn_id})

    def handle(self, request: dict) -> str:
        op = request.get("op")
        if op == "ping":
            reply = {"op": "pong", "args": [str(self.ex.sim.now_ms())], "conn_id": self.conn_id}
            if "req_id" in request:
                reply = {"req_id": request["req_id"], **reply}
            return json.dumps(reply)
        if op == "auth":
            return self.auth(request)
        if op in ("subscribe", "unsubscribe"):
            if not self.accounts:
                return self._reply(request, success=False, ret_msg="Request not authorized")
            topics = request.get("args") or []
            unknown = [t for t in topics if t not in self.ex.private_topics]
            if unknown:
                return self._reply(request, success=False, ret_msg=f"error:handler not found,topic:{unknown[0]}")
            for topic in topics:
                for account in self.accounts:
                    if op == "subscribe":
                        self.ex.sim.feed.subscribe(account.name, self.connection, topic, self._deliver(account, topic))
                    else:
                        self.ex.sim.feed.unsubscribe(account.name, self.connection, topic)
                (self.topics.add if op == "subscribe" else self.topics.discard)(topic)
            return self._reply(request)
        return self._reply(request, success=False, ret_msg=f"error:invalid op:{op}")

    def auth(self, request: dict) -> str:
        args = request.get("args") or []
        if len(args) != 3 or not str(args[1]).isdigit():
            return self._reply(request, success=False, ret_msg="Params Error")
        api_key, expires, signature = str(args[0]), int(args[1]), str(args[2])
        if expires <= self.ex.sim.now_ms():
            return self._reply(request, success=False, ret_msg="Params Error")
        accounts = self.ex.accounts_with_key(api_key)
        if not accounts or not signature_matches(accounts[0].api_secret, f"GET/realtime{args[1]}", signature):
            return self._reply(request, success=False, ret_msg="Request not authorized")
        self.accounts = accounts
        return self._reply(request)

    def _deliver(self, account: AccountConfig, topic: str):
        venue = account.venue
        if _topic_category(topic) not in (None, venue.category) or not topic.startswith("execution"):
            return lambda fills: None
        fast = topic.startswith("execution.fast")

        def deliver(fills: list) -> None:
            if fast:  # the fast topic carries the account's own trades only
                data = [venue.fast_execution(fill) for fill in fills if fill.kind == "trade"]
                if data:
                    self.push({"topic": topic, "creationTime": self.ex.sim.now_ms(), "data": data})
            else:
                data = [venue.execution(fill, websocket=True) for fill in fills]
                self.push({"id": f"{uuid.uuid4().hex}", "topic": topic, "creationTime": self.ex.sim.now_ms(), "data": data})

        return deliver


# --- the API and the family's venues -----------------------------------------------------------------


class BybitExchange(Exchange):
    name = "bybit"
    prefixes = ("/v5/",)
    trade_list_paths = ("/v5/execution/list",)
    limits_class = BybitLimits
    stats_key = "bybit_limits"
    unified_keys = True

    @classmethod
    def parse_limits(cls, raw: dict) -> BybitLimits:
        return BybitLimits(**{**raw, "endpoints": {**BYBIT_ENDPOINT_LIMITS, **raw.get("endpoints", {})}})

    def make_limiter(self) -> BybitRates:
        return BybitRates(self.limits, self.sim.clock)

    @property
    def private_topics(self) -> tuple[str, ...]:
        return PRIVATE_TOPICS + tuple(topic for protocol in self.protocols for topic in protocol.private_topics)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/v5/market/time", endpoint(self, server_time, private=False))
        app.router.add_get("/v5/market/instruments-info", endpoint(self, instruments_info, private=False))
        app.router.add_get("/v5/market/tickers", endpoint(self, tickers, private=False))
        app.router.add_get("/v5/market/kline", endpoint(self, kline, private=False))
        app.router.add_get("/v5/asset/coin/query-info", endpoint(self, coin_info, private=True))
        app.router.add_get("/v5/user/query-api", endpoint(self, query_api, private=True))
        app.router.add_get("/v5/account/info", endpoint(self, account_info, private=True))
        app.router.add_get("/v5/execution/list", endpoint(self, execution_list, private=True))
        app.router.add_get("/v5/position/list", endpoint(self, position_list, private=True))
        app.router.add_get("/v5/private", self.private_ws)

    async def private_ws(self, request: web.Request) -> web.WebSocketResponse:
        return await self.serve_websocket(request, PrivateSession)

    def rate_limited(self, path: str, retry_after: int | None) -> web.Response:
        return rate_limited(self, path)

    def corrupt_rest(self, body, how: str) -> bool:
        executions = (body.get("result") or {}).get("list") if isinstance(body, dict) else None
        if not executions:
            return False
        spoil(executions[0], "execQty", how)
        return True

    def corrupt_event(self, message: dict, how: str) -> None:
        data = message.get("data")
        if isinstance(data, list) and data and isinstance(data[0], dict):
            spoil(data[0], "execQty", how)


class BybitProtocol(Protocol):
    """A Bybit v5 category. A subclass sets `category`, its symbols, defaults and `instrument`."""

    exchange = BybitExchange
    ccxt_id = "bybit"
    category = ""  # v5's category parameter: linear, spot, ...
    private_topics: tuple[str, ...] = ()  # the category's own private topics (execution.linear, ...)
    api_permissions: dict = {}  # what /v5/user/query-api shows the key may do, beyond nothing

    def instrument(self, book) -> dict:
        """The market's row in /v5/market/instruments-info."""
        raise NotImplementedError

    def ticker(self, book, price: str) -> dict:
        """The market's row in /v5/market/tickers at `price` (a derivative's mark is its last price)."""
        return {"symbol": book.market.market_id, "lastPrice": price, "markPrice": price, "indexPrice": price, "bid1Price": price, "ask1Price": price}

    def execution(self, fill, *, websocket: bool) -> dict:
        """The fill as /v5/execution/list (`websocket` False) or the `execution` topic shows it."""
        item = {
            "symbol": fill.market_id,
            "orderType": fill.order_type.capitalize(),
            "underlyingPrice": "",
            "orderLinkId": "",
            "orderId": fill.order_id,
            "stopOrderType": "UNKNOWN",
            "execTime": str(fill.timestamp),
            "feeRate": fee_rate(fill),
            "tradeIv": "",
            "blockTradeId": "",
            "markPrice": fill.price,
            "execPrice": fill.price,
            "markIv": "",
            "orderQty": fill.order_qty,
            "orderPrice": fill.order_price,
            "execValue": strip(fill.cost),
            "closedSize": fill.closed_size,
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
            item.update({"category": self.category, "isLeverage": "0", "extraFees": [], "feeCoin": fill.fee_coin})
        else:
            item.update({"feeCurrency": fill.fee_coin, "extraFees": ""})
        if fill.kind != "trade":
            self._venue_execution(item, fill, websocket=websocket)
        return item

    def _venue_execution(self, item: dict, fill, *, websocket: bool) -> None:
        """What a liquidation, ADL, settlement or funding row shows instead of an order's fill: the
        venue's own order (createType), and a funding row's rate as its `feeRate`, the position's
        size as `execQty` and the mark price as `execPrice`, with no order quantity or fee coin
        (as the v5 sample rows show it)."""
        item.update({"execType": EXEC_TYPES[fill.kind], "createType": CREATE_TYPES[fill.kind], "isMaker": False, "stopOrderType": "UNKNOWN"})
        if fill.kind == "funding":
            item.update({"orderType": "UNKNOWN", "feeRate": fill.rate, "orderQty": "0", "orderPrice": "0", "leavesQty": "0", "closedSize": "0"})
            item["feeCoin" if websocket else "feeCurrency"] = ""

    def position(self, book, leg: int, size: int) -> dict:
        """A leg's row in /v5/position/list (`size`: signed amount steps)."""
        market = book.market
        amount = abs(size) * market.amount_step
        mark = Decimal(book.last_price())
        return {
            "positionIdx": leg, "riskId": 1, "riskLimitValue": "2000000", "symbol": market.market_id,
            "side": "" if size == 0 else ("Buy" if size > 0 else "Sell"),
            "size": plain(amount) if size else "0", "avgPrice": "0", "positionValue": plain(amount * mark) if size else "0",
            "tradeMode": 0, "autoAddMargin": 0, "positionStatus": "Normal", "leverage": "10", "markPrice": plain(mark),
            "liqPrice": "", "bustPrice": "", "positionIM": "0", "positionMM": "0", "positionBalance": "0",
            "takeProfit": "0", "stopLoss": "0", "trailingStop": "0", "sessionAvgPrice": "", "delta": "", "gamma": "", "vega": "", "theta": "",
            "unrealisedPnl": "0", "curRealisedPnl": "0", "cumRealisedPnl": "0", "adlRankIndicator": 0, "createdTime": "1704067200000",
            "updatedTime": str(book.timestamp(len(book) - 1)) if len(book) else "1704067200000", "seq": book.seq(len(book) - 1) if len(book) else -1,
            "isReduceOnly": False, "mmrSysUpdatedTime": "", "leverageSysUpdatedTime": "", "tpslMode": "Full",
        }

    def fast_execution(self, fill) -> dict:
        """The fill as the `execution.fast` topic shows it."""
        return {
            "category": self.category, "symbol": fill.market_id, "execId": fill.trade_id, "execPrice": fill.price, "execQty": fill.amount,
            "orderId": fill.order_id, "isMaker": fill.maker, "orderLinkId": "", "side": fill.side.capitalize(),
            "execTime": str(fill.timestamp), "seq": fill.seq,
        }
