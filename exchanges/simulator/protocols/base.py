"""What every protocol of the simulator is made of.

Two kinds of object, because one exchange API can serve several venues (Bybit's v5 serves spot and
linear on the same paths, told apart by `category`):

- a `Protocol` is one venue as the simulator serves it (a config's `"protocol"`): the symbols its
  accounts trade, realistic market defaults, its fee rule, its trade and order id scheme, and what
  the tracker registers for it (ccxt id, market type). One instance per venue is registered in
  `protocols/__init__.py`.
- an `Exchange` is one exchange's API as served on the simulator's port: its paths, signing,
  rate limiter, error answers and WebSocket sessions. The simulator makes one of each for the
  registered protocols; it serves every account whose protocol names it.

The shared plumbing is here: signing helpers, compact JSON answers, the WebSocket session loop.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

from aiohttp import WSMsgType, web


def compact(data) -> str:
    return json.dumps(data, separators=(",", ":"))


def json_answer(data, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.Response(status=status, text=compact(data), content_type="application/json", headers=headers or {})


def hmac_hex(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def signature_matches(secret: str, payload: str, signature: str) -> bool:
    """HMAC-SHA256 hex of `payload`, compared in constant time; exchanges accept either case."""
    return hmac.compare_digest(hmac_hex(secret, payload), signature.lower())


def timestamp_fault(now_ms: int, timestamp: int, window_ms: int, ahead_ms: int = 1000) -> str | None:
    """"ahead" if a signed request's timestamp is `ahead_ms` or more after the server's time,
    "stale" if it is more than the receive window before it, else None."""
    if timestamp >= now_ms + ahead_ms:
        return "ahead"
    if now_ms - timestamp > window_ms:
        return "stale"
    return None


def stable_uuid(*parts) -> str:
    digest = hashlib.blake2b(":".join(str(p) for p in parts).encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=4))


class Protocol:
    """One venue as the simulator serves it. Subclass it per venue and register one instance."""

    name = ""  # the config's "protocol"
    exchange: type[Exchange]  # the API its accounts are served on
    title = ""  # in messages: "binance spot"
    ccxt_id = ""  # what the tracker's ExchangeAccount says
    market_type = ""  # ExchangeAccount.market_type: spot or swap
    symbol_form = ""  # ccxt's symbol form, for messages: BTC/USDT
    known_markets: dict[str, dict] = {}  # base coin -> market defaults (price, steps, order sizes)
    default_fees: dict = {}  # FeeConfig fields
    fee_in = "received"  # the fee coin: "received" (base on a buy, quote on a sell) or "settle"
    # with fee_in "received": whether a maker's rebate (a negative maker rate) is paid in the coin the
    # maker gives instead (quote on a buy, base on a sell), as on Bybit spot
    rebate_in_given = False
    fee_places = 12  # the decimals the venue rounds a fee to (12: exact, as the ledger keeps fees)
    funding_places = 8  # the decimals the venue rounds a funding payment to

    def funding_row_buys(self, size: int) -> bool:
        """The side a funding row of a position of signed `size` shows: the side that would close it
        (a long's row is a sell), as Bybit's execution rows show it."""
        return size < 0

    def symbol_is_valid(self, symbol: str) -> bool:
        raise NotImplementedError

    def fee_coin_refusal(self, market, coin: str) -> str | None:
        """Why a fee given to the control API cannot be in `coin`; None if it can."""
        if self.fee_in == "settle" and coin != market.settle:
            return f"{self.title} fees are paid in the settle coin {market.settle}"
        return None

    # Ids: opaque and stable by default (UUIDs from the seed, the account, the market and the number).
    def trade_id(self, book, index: int) -> str:
        return stable_uuid(book.seed, book.account.name, book.market.symbol, "exec", index)

    def order_id(self, book, order: int) -> str:
        return stable_uuid(book.seed, book.account.name, book.market.symbol, "order", order)


class Session:
    """One WebSocket connection's conversation: each request (a JSON object) in, one reply out.
    Pushed events go out through `push`, which the feed's WebSocket faults act on."""

    def __init__(self, exchange: Exchange, connection):
        self.exchange, self.connection = exchange, connection

    def handle(self, request: dict) -> str:
        raise NotImplementedError

    def not_json(self) -> str:
        """The reply to a message that is not a JSON object."""
        raise NotImplementedError

    def push(self, message: dict) -> None:
        self.connection.push(compact(message))


class Exchange:
    """One exchange's API on the simulator's port (see the module docstring)."""

    name = ""  # in faults' "protocol", stats and the config's rate_limits
    prefixes: tuple[str, ...] = ()  # the paths it serves
    trade_list_paths: tuple[str, ...] = ()  # the REST calls answering with trades (a "corrupt" fault spoils them)
    limits_class: type  # its rate_limits entry in the config
    stats_key = ""  # where GET /_sim/stats shows its limiter's state
    unified_keys = False  # whether one key serves accounts of several of its protocols (a unified account)

    def __init__(self, sim, protocols: list[Protocol]):
        self.sim, self.protocols = sim, protocols  # the registered protocols served on this API
        self.limits = sim.config.rate_limits[self.name]
        self.limiter = self.make_limiter()

    @classmethod
    def parse_limits(cls, raw: dict):
        """The config's rate_limits[name] (TypeError on an unknown field)."""
        return cls.limits_class(**raw)

    def make_limiter(self):
        raise NotImplementedError

    @property
    def accounts(self) -> list:
        return [a for a in self.sim.config.accounts if a.venue in self.protocols]

    def accounts_with_key(self, api_key: str) -> list:
        return [a for a in self.accounts if a.api_key == api_key]

    def add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def rate_limited(self, path: str, retry_after: int | None) -> web.Response:
        """The exchange's own answer to a call over its rate limit (a "429" fault answers with it)."""
        raise NotImplementedError

    def corrupt_rest(self, body, how: str) -> bool:
        """Spoil the first trade of a trade-list answer; False if it has none."""
        raise NotImplementedError

    def corrupt_event(self, message: dict, how: str) -> None:
        """Spoil the first trade of a pushed event."""
        raise NotImplementedError

    def ban(self, seconds: float) -> bool:
        """Ban the client's IP (a "ban" fault); False where the exchange bans no IP."""
        return False

    async def serve_websocket(self, request: web.Request, session_class: type[Session], *, heartbeat: float | None = None) -> web.WebSocketResponse:
        """The session loop every protocol's WebSocket shares: each text message parsed and handed
        to the session, its reply sent at once; the connection known to the feed while it lasts."""
        ws = web.WebSocketResponse(heartbeat=heartbeat, autoping=True, timeout=2.0)
        await ws.prepare(request)
        connection = self.sim.feed.connect(ws, request, self)
        session = session_class(self, connection)
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    parsed = json.loads(message.data)
                except json.JSONDecodeError:
                    parsed = None
                await connection.reply(session.handle(parsed) if isinstance(parsed, dict) else session.not_json())
        finally:
            await connection.close()
        return ws
