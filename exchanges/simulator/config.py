"""The simulator's configuration: accounts, their markets and fees, the generator, history, rate limits.

A config is JSON on disk (see README.md in this package); `parse_config` turns the parsed JSON into
frozen dataclasses, filling in defaults, and raises `ConfigError` naming the offending field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path

PROTOCOLS = ("binance", "bybit")
CCXT_IDS = {"binance": "binance", "bybit": "bybit"}
MARKET_TYPES = {"binance": "spot", "bybit": "swap"}

# Realistic defaults for the coins the built-in config uses; any other market must spell its own out.
_KNOWN_MARKETS = {
    ("binance", "BTC"): {"price": "60000", "amount_step": "0.00001", "price_step": "0.01", "min_amount": "0.00010", "max_amount": "0.05000"},
    ("binance", "ETH"): {"price": "3000", "amount_step": "0.0001", "price_step": "0.01", "min_amount": "0.0020", "max_amount": "1.5000"},
    ("binance", "SOL"): {"price": "150", "amount_step": "0.001", "price_step": "0.01", "min_amount": "0.050", "max_amount": "20.000"},
    ("binance", "BNB"): {"price": "600", "amount_step": "0.001", "price_step": "0.01", "min_amount": "0.010", "max_amount": "5.000"},
    ("bybit", "BTC"): {"price": "60000", "amount_step": "0.001", "price_step": "0.10", "min_amount": "0.001", "max_amount": "0.500"},
    ("bybit", "ETH"): {"price": "3000", "amount_step": "0.01", "price_step": "0.01", "min_amount": "0.01", "max_amount": "10.00"},
    ("bybit", "SOL"): {"price": "150", "amount_step": "0.1", "price_step": "0.010", "min_amount": "0.1", "max_amount": "200.0"},
}
_DEFAULT_FEES = {
    # Binance spot VIP 0: 0.1% maker and taker, 0.075% when paid in BNB.
    "binance": {"maker": "0.001", "taker": "0.001", "third_coin": "BNB", "third_coin_price": "600", "third_coin_rate": "0.00075", "third_coin_share": 0.3},
    # A Bybit market-maker tier: makers earn a rebate (a negative fee), takers pay 0.055%.
    "bybit": {"maker": "-0.00005", "taker": "0.00055", "third_coin": "", "third_coin_price": "0", "third_coin_rate": "0", "third_coin_share": 0.0},
}
BYBIT_ENDPOINT_LIMITS = {"/v5/execution/list": 50}
BINANCE_WEIGHTS = {
    "ping": 1,
    "time": 1,
    "exchangeInfo": 20,
    "ticker/price": 4,
    "myTrades": 20,
    "myTrades:orderId": 5,
    "margin/allPairs": 1,
    "margin/isolated/allPairs": 10,
    "ws:userDataStream.subscribe.signature": 2,
    "ws:other": 2,
}


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class MarketConfig:
    symbol: str  # ccxt's symbol: BTC/USDT (spot) or BTC/USDT:USDT (linear perpetual)
    price: Decimal  # where the generator's prices start
    amount_step: Decimal
    price_step: Decimal
    min_amount: Decimal  # generated orders are between these sizes
    max_amount: Decimal
    contract_size: Decimal = Decimal(1)

    @property
    def base(self) -> str:
        return self.symbol.split("/")[0]

    @property
    def quote(self) -> str:
        return self.symbol.split("/")[1].split(":")[0]

    @property
    def settle(self) -> str:
        return self.symbol.split(":")[1] if ":" in self.symbol else ""

    @property
    def market_id(self) -> str:
        return self.base + self.quote


@dataclass(frozen=True)
class FeeConfig:
    maker: Decimal
    taker: Decimal
    third_coin: str = ""  # e.g. BNB: some orders pay their fee in it
    third_coin_price: Decimal = Decimal(0)  # in the quote coin, to convert the fee
    third_coin_rate: Decimal = Decimal(0)
    third_coin_share: float = 0.0  # fraction of generated orders paying in the third coin


@dataclass(frozen=True)
class GeneratorConfig:
    orders_per_minute: float = 0.0  # per account, over all its markets; 0 = no live trickle
    max_fills_per_order: int = 4
    start: datetime | None = None  # the live trickle waits until then (None: at once)


@dataclass(frozen=True)
class HistoryConfig:
    trades: int = 0  # fills to pre-load, spread over the account's markets
    start: datetime | None = None  # defaults to `days` before the simulator starts
    end: datetime | None = None  # defaults to the simulator's start
    days: float = 90.0


@dataclass(frozen=True)
class AccountConfig:
    name: str
    protocol: str
    api_key: str
    api_secret: str
    markets: tuple[MarketConfig, ...]
    fees: FeeConfig
    generator: GeneratorConfig = GeneratorConfig()
    history: HistoryConfig = HistoryConfig()

    @property
    def ccxt_id(self) -> str:
        return CCXT_IDS[self.protocol]

    @property
    def market_type(self) -> str:
        return MARKET_TYPES[self.protocol]

    def market(self, symbol: str) -> MarketConfig | None:
        return next((m for m in self.markets if m.symbol == symbol), None)


@dataclass(frozen=True)
class BinanceLimits:
    weight_per_interval: int = 6000
    interval_seconds: int = 60
    violations_before_ban: int = 3  # 429s answered within one interval before the 418 ban
    ban_seconds: int = 120  # the first ban; each further ban doubles, up to three days
    weights: dict = field(default_factory=lambda: dict(BINANCE_WEIGHTS))


@dataclass(frozen=True)
class BybitLimits:
    per_second: int = 10  # per API key (UID) and endpoint, rolling one-second window
    # path -> per-second limit, overriding per_second; execution/list allows 50/s on a UTA 2.0 account
    endpoints: dict = field(default_factory=lambda: dict(BYBIT_ENDPOINT_LIMITS))
    ip_requests: int = 600  # per IP, any endpoint ...
    ip_window_seconds: int = 5  # ... in this rolling window; beyond it: HTTP 403


@dataclass(frozen=True)
class SimConfig:
    accounts: tuple[AccountConfig, ...]
    seed: int = 1
    binance: BinanceLimits = BinanceLimits()
    bybit: BybitLimits = BybitLimits()
    reorder_flush_seconds: float = 1.0  # a reorder fault holds messages at most this long

    def account(self, name: str) -> AccountConfig:
        for account in self.accounts:
            if account.name == name:
                return account
        raise KeyError(name)


def _decimal(value, where: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"{where}: {value!r} is not a number") from None
    if not result.is_finite():
        raise ConfigError(f"{where}: {value!r} is not finite")
    return result


def _datetime(value, where: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not an ISO 8601 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _market(protocol: str, raw, where: str) -> MarketConfig:
    if isinstance(raw, str):
        raw = {"symbol": raw}
    symbol = raw.get("symbol", "")
    if protocol == "binance" and (":" in symbol or symbol.count("/") != 1):
        raise ConfigError(f"{where}: binance spot symbols look like BTC/USDT, not {symbol!r}")
    if protocol == "bybit":
        pair, _, settle = symbol.partition(":")
        if pair.count("/") != 1 or settle != pair.split("/")[1]:
            raise ConfigError(f"{where}: bybit linear perpetual symbols look like BTC/USDT:USDT, not {symbol!r}")
    values = dict(_KNOWN_MARKETS.get((protocol, symbol.split("/")[0]), {}))
    values.update({k: v for k, v in raw.items() if k != "symbol"})
    missing = [k for k in ("price", "amount_step", "price_step", "min_amount", "max_amount") if k not in values]
    if missing:
        raise ConfigError(f"{where} ({symbol}): missing {', '.join(missing)}")
    market = MarketConfig(
        symbol=symbol,
        **{k: _decimal(values[k], f"{where}.{k}") for k in ("price", "amount_step", "price_step", "min_amount", "max_amount")},
        contract_size=_decimal(values.get("contract_size", 1), f"{where}.contract_size"),
    )
    if market.amount_step <= 0 or market.price_step <= 0:
        raise ConfigError(f"{where}: steps must be positive")
    if not market.amount_step <= market.min_amount <= market.max_amount:
        raise ConfigError(f"{where}: need amount_step <= min_amount <= max_amount")
    if market.contract_size != 1:
        # Binance spot has no contracts, and ccxt takes every Bybit linear contract as one base unit.
        raise ConfigError(f"{where}: contract_size must be 1 for {protocol} ({MARKET_TYPES[protocol]})")
    return market


def _account(raw: dict, index: int, seed: int) -> AccountConfig:
    where = f"accounts[{index}]"
    name, protocol = raw.get("name"), raw.get("protocol")
    if not name:
        raise ConfigError(f"{where}: a name is required")
    if protocol not in PROTOCOLS:
        raise ConfigError(f"{where}: protocol must be one of {', '.join(PROTOCOLS)}")
    markets = tuple(_market(protocol, m, f"{where}.markets[{i}]") for i, m in enumerate(raw.get("markets", [])))
    if not markets:
        raise ConfigError(f"{where}: at least one market is required")
    fees = dict(_DEFAULT_FEES[protocol])
    fees.update(raw.get("fees", {}))
    generator = raw.get("generator", {})
    history = raw.get("history", {})
    return AccountConfig(
        name=name,
        protocol=protocol,
        api_key=raw.get("api_key") or default_key(name, seed),
        api_secret=raw.get("api_secret") or default_secret(name, seed),
        markets=markets,
        fees=FeeConfig(
            maker=_decimal(fees["maker"], f"{where}.fees.maker"),
            taker=_decimal(fees["taker"], f"{where}.fees.taker"),
            third_coin=fees.get("third_coin") or "",
            third_coin_price=_decimal(fees.get("third_coin_price", 0), f"{where}.fees.third_coin_price"),
            third_coin_rate=_decimal(fees.get("third_coin_rate", 0), f"{where}.fees.third_coin_rate"),
            third_coin_share=float(fees.get("third_coin_share", 0)),
        ),
        generator=GeneratorConfig(
            orders_per_minute=float(generator.get("orders_per_minute", 0)),
            max_fills_per_order=int(generator.get("max_fills_per_order", 4)),
            start=_datetime(generator.get("start"), f"{where}.generator.start"),
        ),
        history=HistoryConfig(
            trades=int(history.get("trades", 0)),
            start=_datetime(history.get("start"), f"{where}.history.start"),
            end=_datetime(history.get("end"), f"{where}.history.end"),
            days=float(history.get("days", 90)),
        ),
    )


def default_key(name: str, seed: int) -> str:
    return f"sim-{name}-key-{seed}"


def default_secret(name: str, seed: int) -> str:
    return f"sim-{name}-secret-{seed}"


def parse_config(raw: dict) -> SimConfig:
    if not isinstance(raw, dict):
        raise ConfigError("the config is a JSON object")
    seed = int(raw.get("seed", 1))
    accounts = tuple(_account(a, i, seed) for i, a in enumerate(raw.get("accounts", [])))
    if not accounts:
        raise ConfigError("accounts: at least one account is required")
    names, keys = [a.name for a in accounts], [a.api_key for a in accounts]
    if len(set(names)) != len(names) or len(set(keys)) != len(keys):
        raise ConfigError("accounts: names and API keys must be unique")
    limits = raw.get("rate_limits", {})
    binance, bybit = dict(limits.get("binance", {})), dict(limits.get("bybit", {}))
    binance["weights"] = {**BINANCE_WEIGHTS, **binance.get("weights", {})}
    bybit["endpoints"] = {**BYBIT_ENDPOINT_LIMITS, **bybit.get("endpoints", {})}
    try:
        return SimConfig(
            accounts=accounts,
            seed=seed,
            binance=BinanceLimits(**binance),
            bybit=BybitLimits(**bybit),
            reorder_flush_seconds=float(raw.get("reorder_flush_seconds", 1.0)),
        )
    except TypeError as error:
        raise ConfigError(f"rate_limits: {error}") from None


def load_config(path: str | Path) -> SimConfig:
    with open(path) as file:
        try:
            raw = json.load(file)
        except json.JSONDecodeError as error:
            raise ConfigError(f"{path}: {error}") from None
    return parse_config(raw)


DEFAULT_CONFIG = {
    "seed": 1,
    "accounts": [
        {
            "name": "binance_spot",
            "protocol": "binance",
            "markets": ["BTC/USDT", "ETH/USDT"],
            "generator": {"orders_per_minute": 6},
            "history": {"trades": 2000, "days": 7},
        },
        {
            "name": "bybit_perp",
            "protocol": "bybit",
            "markets": ["BTC/USDT:USDT", "ETH/USDT:USDT"],
            "generator": {"orders_per_minute": 6},
            "history": {"trades": 2000, "days": 7},
        },
    ],
}


def default_config() -> SimConfig:
    return parse_config(DEFAULT_CONFIG)


def history_window(history: HistoryConfig, now: datetime) -> tuple[int, int]:
    """The pre-loaded history's [start, end) in epoch milliseconds."""
    end = history.end or now
    start = history.start or end - timedelta(days=history.days)
    if start >= end:
        raise ConfigError("history: start must be before end")
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)
