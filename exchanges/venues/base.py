"""What a venue is: one exchange and market type, and everything the tracker knows that is particular
to it. A venue module subclasses `Venue` (through its exchange's family class) and the registry in
`exchanges.venues` names one instance of it.

The attributes are facts; the few methods are the rules that differ by venue (how a configured
symbol names a ccxt market, where a market's steps are, how trade ids are made unique). Nothing here
imports a model, so the model's own validation can ask a venue.
"""

from __future__ import annotations

import copy

# ccxt.pro keeps an account's last `tradesLimit` trades (1,000 by default) for the next watch call;
# a stream whose ingest waits longer than that many trades take to arrive (behind a REST pass's
# pages, say: about a second at 1,000 trades/s) loses the oldest to the next REST pass. Keep ten times
# as many: at 1,000 trades/s a ten-second stall loses none.
STREAM_TRADES_KEPT = 10_000
ID_SEPARATOR = ":"
SPOT = "spot"


class Venue:
    """One exchange and market type, e.g. Binance spot."""

    name: str  # the registry's key and `ExchangeAccount.venue`: binance_spot
    label: str  # for people: "Binance spot"
    exchange: str  # the exchange, whatever its market type: binance
    ccxt_id: str  # the ccxt (and ccxt.pro) class
    market_type: str  # ccxt's type of the markets the account loads and trades: spot, swap
    market_label: str = SPOT  # what the board calls the market type: spot, perp
    client_options: dict = {}  # ccxt `options`: keep load_markets to the market type
    client_has: dict = {}  # ccxt `has` switches to turn off
    rate_limit_ms: int | None = None  # ccxt `rateLimit`, where ccxt's own is not the venue's
    required_credentials: tuple[str, ...] = ("api_key", "api_secret")
    # Where the exchange's exact strings of a trade are in `trade['info']`, REST's keys first, then
    # the stream's: amount, price, cost, fee_cost, and optionally fee_currency (the first non-empty
    # one; without it, or where the payload names none, ccxt's fee currency).
    exact_fields: dict[str, tuple[str, ...]] = {}
    # Where the venue numbers trade ids per market: the keys of the market id in the raw payload
    # (REST's first); empty where ids are unique on the account.
    market_id_keys: tuple[str, ...] = ()
    pager_class: type  # walks one symbol's REST history (see `exchanges.venues.pagers`)
    ticker_method: str = "fetch_tickers"  # the ccxt call mark prices are read with
    ticker_price_keys: tuple[str, ...] = ("markPrice", "lastPrice", "price")  # in each ticker's `info`
    stream_cache_key: str = "myTrades"  # where ccxt.pro keeps the streamed trades, and its futures' key
    history_days: int | None = None  # how far back the venue serves trade history, where known
    # Perpetuals. `has_funding`: the venue charges funding, which the tracker keeps as a ledger of
    # payments beside the trades; `funding_fields`: where a payment's exact strings are in its raw
    # payload (amount, and optionally rate, position_size, currency), with `funding_paid_positive`
    # where the venue's amount is positive for a payment made (stored: + received, - paid).
    # `position_modes`: the modes the venue's accounts may be in; "hedge" where a position has legs.
    has_funding: bool = False
    funding_fields: dict[str, tuple[str, ...]] = {}
    funding_paid_positive: bool = False
    position_modes: tuple[str, ...] = ("one_way",)
    # ccxt timeframes the venue's candles come in (`fetch_ohlcv`), shortest first, and the most
    # candles one call returns
    candle_timeframes: tuple[str, ...] = ("1m", "5m", "15m", "1h", "4h", "1d")
    candle_limit: int = 1000

    def __repr__(self) -> str:
        return f"<Venue {self.name}>"

    def client_config(self) -> dict:
        """The venue's part of a ccxt client's config."""
        config = {
            "options": {**copy.deepcopy(self.client_options), "tradesLimit": STREAM_TRADES_KEPT},
            "has": dict(self.client_has),
        }
        if self.rate_limit_ms is not None:
            config["rateLimit"] = self.rate_limit_ms
        return config

    def is_own_streamed_trade(self, trade: dict) -> bool:
        """Whether a trade the account's stream pushed is one of the venue's, where one stream carries
        more than the venue's markets (and ccxt may name another market's trade as one of them)."""
        return True

    def market_symbol(self, symbol: str) -> str:
        """The ccxt market symbol an account's configured symbol names."""
        return symbol

    def trade_kind(self, trade: dict) -> str | None:
        """What made an execution (a `Trade.Kind` value: fill, liquidation, adl, settlement,
        delivery), from the venue's own payload; None for an execution that is no trade the tracker
        books. Everywhere but on a perpetual venue, every execution is the account's own fill."""
        return "fill"

    def trade_leg(self, trade: dict) -> str:
        """The leg (long, short) of a hedge-mode account's trade, from what the venue reports;
        asked of a hedge-mode account's trades only."""
        return ""

    def is_funding(self, execution: dict) -> bool:
        """Whether an execution a trade call or stream gave is a funding payment (never a trade)."""
        return False

    def funding_leg(self, payment: dict) -> str:
        """The leg (long, short) a hedge-mode account's funding payment was charged on."""
        return ""

    async def read_position_mode(self, client, market_symbols: list[str]) -> str | None:
        """The account's position mode ("one_way", "hedge") as the venue reports it; None where it
        cannot say (the account's own field, as the operator set it, holds)."""
        return None

    def amount_step(self, info: dict) -> str | None:
        """The exchange's own amount step string in a market's raw `info`; None: take ccxt's."""
        return None

    def price_step(self, info: dict) -> str | None:
        return None

    def pager(self):
        return self.pager_class()

    def candle_rows(self, response) -> list[list]:
        """The candles in the venue's raw answer to `fetch_ohlcv` (ccxt parses them to floats),
        oldest first, each `[open time, open, high, low, close, volume]` as the venue wrote them:
        numbers as strings, the time as the venue sent it."""
        raise NotImplementedError

    def qualified_trade_id(self, market_id: str, trade_id) -> str:
        """The stored id of the venue's trade `trade_id` in market `market_id` (as the exchange spells
        it: BTCUSDT): `BTCUSDT:123` where ids are numbered per market, the id itself elsewhere."""
        if self.market_id_keys:
            return f"{market_id}{ID_SEPARATOR}{trade_id}"
        return str(trade_id)


class LinearPerpetual(Venue):
    """Perpetual contracts settled in the quote coin: a configured `BTC/USDT` means `BTC/USDT:USDT`."""

    market_type = "swap"
    market_label = "perp"

    def market_symbol(self, symbol: str) -> str:
        if ":" in symbol or "/" not in symbol:
            return symbol
        return f"{symbol}:{symbol.split('/', 1)[1]}"
