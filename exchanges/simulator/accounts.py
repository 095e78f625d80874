"""What the simulator is configured with: accounts, their markets and fees, the generator, history.

`config.parse_config` builds these from JSON; the protocols (`protocols/`) read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal


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
class FundingConfig:
    """When and at what rate a perpetual account's open positions settle funding: every
    `interval_hours` from 00:00 UTC (the venue's 8 hours by default; 0: only on demand), per market
    where `markets` says otherwise."""

    interval_hours: float = 8.0
    rate: Decimal = Decimal("0.0001")
    markets: tuple[tuple[str, float, Decimal], ...] = ()  # (symbol, interval_hours, rate)

    def for_market(self, symbol: str) -> tuple[float, Decimal]:
        for market, interval, rate in self.markets:
            if market == symbol:
                return interval, rate
        return self.interval_hours, self.rate


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
    hedge: bool = False  # a perpetual account in hedge mode: a long and a short leg per market
    funding: FundingConfig = FundingConfig()
    # the registered `protocols.base.Protocol` named by `protocol`: what is particular to the venue
    venue: object = field(default=None, compare=False, repr=False)

    @property
    def ccxt_id(self) -> str:
        return self.venue.ccxt_id

    @property
    def market_type(self) -> str:
        return self.venue.market_type

    def market(self, symbol: str) -> MarketConfig | None:
        return next((m for m in self.markets if m.symbol == symbol), None)


@dataclass(frozen=True)
class SimConfig:
    accounts: tuple[AccountConfig, ...]
    seed: int = 1
    rate_limits: dict = field(default_factory=dict)  # exchange name -> its limits (see ratelimit.py)
    reorder_flush_seconds: float = 1.0  # a reorder fault holds messages at most this long

    def account(self, name: str) -> AccountConfig:
        for account in self.accounts:
            if account.name == name:
                return account
        raise KeyError(name)


def history_window(history: HistoryConfig, now: datetime) -> tuple[int, int]:
    """The pre-loaded history's [start, end) in epoch milliseconds."""
    end = history.end or now
    start = history.start or end - timedelta(days=history.days)
    if start >= end:
        raise ConfigError("history: start must be before end")
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)
