"""The simulator's configuration: accounts, their markets and fees, the generator, history, rate limits.

A config is JSON on disk (see README.md in this package); `parse_config` turns the parsed JSON into
frozen dataclasses, filling in defaults, and raises `ConfigError` naming the offending field.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .accounts import (  # noqa: F401  (SimConfig, AccountConfig, MarketConfig, history_window: imported from here too)
    AccountConfig,
    ConfigError,
    FeeConfig,
    FundingConfig,
    GeneratorConfig,
    HistoryConfig,
    MarketConfig,
    SimConfig,
    history_window,
)
from .protocols import PROTOCOLS, exchange_classes

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


def _market(venue, raw, where: str) -> MarketConfig:
    if isinstance(raw, str):
        raw = {"symbol": raw}
    symbol = raw.get("symbol", "")
    if not venue.symbol_is_valid(symbol):
        raise ConfigError(f"{where}: {venue.title} symbols look like {venue.symbol_form}, not {symbol!r}")
    values = dict(venue.known_markets.get(symbol.split("/")[0], {}))
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
        # Spot has no contracts, and ccxt takes every linear contract as one unit of the base coin.
        raise ConfigError(f"{where}: contract_size must be 1 for {venue.name} ({venue.market_type})")
    return market


def _account(raw: dict, index: int, seed: int) -> AccountConfig:
    where = f"accounts[{index}]"
    name, protocol = raw.get("name"), raw.get("protocol")
    if not name:
        raise ConfigError(f"{where}: a name is required")
    if protocol not in PROTOCOLS:
        raise ConfigError(f"{where}: protocol must be one of {', '.join(PROTOCOLS)}")
    venue = PROTOCOLS[protocol]
    markets = tuple(_market(venue, m, f"{where}.markets[{i}]") for i, m in enumerate(raw.get("markets", [])))
    if not markets:
        raise ConfigError(f"{where}: at least one market is required")
    fees = dict(venue.default_fees)
    fees.update(raw.get("fees", {}))
    generator = raw.get("generator", {})
    history = raw.get("history", {})
    hedge = raw.get("position_mode", "one_way")
    if hedge not in ("one_way", "hedge"):
        raise ConfigError(f"{where}.position_mode: one_way or hedge, not {hedge!r}")
    if hedge == "hedge" and venue.market_type != "swap":
        raise ConfigError(f"{where}.position_mode: only a perpetual account has a hedge mode")
    return AccountConfig(
        name=name,
        protocol=protocol,
        venue=venue,
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
        hedge=hedge == "hedge",
        funding=_funding(raw.get("funding", {}), markets, f"{where}.funding"),
    )


def _funding(raw, markets, where: str) -> FundingConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: an object: interval_hours, rate, markets")
    default = FundingConfig()
    interval = float(raw.get("interval_hours", default.interval_hours))
    rate = _decimal(raw.get("rate", default.rate), f"{where}.rate")
    per_market = []
    for symbol, values in (raw.get("markets") or {}).items():
        if symbol not in {m.symbol for m in markets}:
            raise ConfigError(f"{where}.markets: {symbol!r} is not one of the account's markets")
        per_market.append((symbol, float(values.get("interval_hours", interval)), _decimal(values.get("rate", rate), f"{where}.markets.{symbol}.rate")))
    if interval < 0 or any(i < 0 for _, i, _ in per_market):
        raise ConfigError(f"{where}: interval_hours is not negative (0: only on demand)")
    return FundingConfig(interval_hours=interval, rate=rate, markets=tuple(per_market))


def default_key(name: str, seed: int) -> str:
    return f"sim-{name}-key-{seed}"


def default_secret(name: str, seed: int) -> str:
    return f"sim-{name}-secret-{seed}"


def _may_share_key(a: AccountConfig, b: AccountConfig) -> bool:
    """Two accounts may have one key only as two categories of one unified account (Bybit's UTA)."""
    if a.api_key != b.api_key:
        return True
    return a.venue.exchange is b.venue.exchange and a.venue.exchange.unified_keys and a.venue is not b.venue and a.api_secret == b.api_secret


def parse_config(raw: dict) -> SimConfig:
    if not isinstance(raw, dict):
        raise ConfigError("the config is a JSON object")
    seed = int(raw.get("seed", 1))
    accounts = tuple(_account(a, i, seed) for i, a in enumerate(raw.get("accounts", [])))
    if not accounts:
        raise ConfigError("accounts: at least one account is required")
    names = [a.name for a in accounts]
    if len(set(names)) != len(names) or not all(_may_share_key(a, b) for a in accounts for b in accounts if a is not b):
        raise ConfigError("accounts: names and API keys must be unique (only one unified account's categories share a key)")
    limits = raw.get("rate_limits", {})
    try:
        return SimConfig(
            accounts=accounts,
            seed=seed,
            rate_limits={exchange.name: exchange.parse_limits(dict(limits.get(exchange.name, {}))) for exchange in exchange_classes()},
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
        {
            # the spot side of bybit_perp's unified account: the same key, one execution stream
            "name": "bybit_spot",
            "protocol": "bybit_spot",
            "api_key": default_key("bybit_perp", 1),
            "api_secret": default_secret("bybit_perp", 1),
            "markets": ["BTC/USDT", "ETH/USDT"],
            "generator": {"orders_per_minute": 6},
            "history": {"trades": 2000, "days": 7},
        },
    ],
}


def default_config() -> SimConfig:
    return parse_config(DEFAULT_CONFIG)
