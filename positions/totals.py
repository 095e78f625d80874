"""Sums of PnL and fees over positions, per quote coin: what /api/pnl totals and what the board shows
per account and over all accounts. Pure functions over what the caller read.

- Unrealised: the open positions' PnL at their marks; a position without a mark yet is left out and
  counted as unpriced.
- Realised: the closed positions' final PnL (`p2`, fees in quote and base included).
- Fees: as charged, per coin (the base coin's and the quote coin's are already in the PnL; a fee in
  another coin, BNB say, is not).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal(0)


def base_coin(symbol: str) -> str:
    return symbol.split("/", 1)[0]


def quote_coin(symbol: str) -> str:
    return symbol.split("/", 1)[1]


def pnl_totals(pnls: Iterable[tuple[str, Decimal | None]]) -> dict[str, Decimal]:
    """PnL per quote coin of (symbol, pnl) pairs; a pair whose pnl is None (no mark yet) is left out."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for symbol, pnl in pnls:
        if pnl is not None:
            totals[quote_coin(symbol)] += pnl
    return dict(totals)


@dataclass(frozen=True)
class Booked:
    """What one account's positions of one symbol have booked: closed PnL and every fee so far."""

    account: str
    symbol: str
    realised: Decimal
    fees: dict[str, Decimal]
    venue: str = ""


@dataclass(frozen=True)
class OpenPnl:
    account: str
    symbol: str
    pnl: Decimal | None


@dataclass
class Totals:
    """One account's (or all accounts') sums in one quote coin."""

    realised: Decimal = ZERO
    unrealised: Decimal = ZERO
    unpriced: int = 0
    fees: dict[str, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return self.realised + self.unrealised

    def add(self, *, realised: Decimal = ZERO, unrealised: Decimal | None = ZERO, fees: dict[str, Decimal] | None = None) -> None:
        self.realised += realised
        if unrealised is None:
            self.unpriced += 1
        else:
            self.unrealised += unrealised
        for coin, cost in (fees or {}).items():
            self.fees[coin] = self.fees.get(coin, ZERO) + cost


ALL_ACCOUNTS = ""


def account_totals(booked: Iterable[Booked], open_pnls: Iterable[OpenPnl]) -> dict[tuple[str, str], Totals]:
    """Totals per (account, quote coin), and per (`ALL_ACCOUNTS`, quote coin) over every account."""
    totals: dict[tuple[str, str], Totals] = defaultdict(Totals)
    for row in booked:
        for account in (row.account, ALL_ACCOUNTS):
            totals[account, quote_coin(row.symbol)].add(realised=row.realised, fees=row.fees)
    for row in open_pnls:
        for account in (row.account, ALL_ACCOUNTS):
            totals[account, quote_coin(row.symbol)].add(unrealised=row.pnl)
    return dict(totals)
