"""Sums of PnL and fees over positions, per quote coin: what /api/pnl totals and what the board shows
per account and over all accounts. Pure functions over what the caller read.

- Unrealised: the open positions' PnL at their marks; a position without a mark yet is left out and
  counted as unpriced.
- Realised: the closed positions' final PnL (`p2 + funding`, fees in quote and base included).
- Funding: every payment to date, from the ledger, received minus paid. Its part folded into
  positions is in their realised and unrealised PnL already; the part in no position (a payment before
  a book's first position) is added to the total alone, so no payment is left out or counted twice.
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
    """What one account's positions of one symbol have booked: closed PnL and every fee so far; its
    funding to date per settle coin, and how much of it (in the quote coin) is in no position."""

    account: str
    symbol: str
    realised: Decimal
    fees: dict[str, Decimal]
    venue: str = ""
    funding: dict[str, Decimal] = field(default_factory=dict)
    unattached_funding: Decimal = ZERO


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
    funding: Decimal = ZERO
    unattached_funding: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        """Realised and unrealised PnL, funding included, and the funding that is in no position."""
        return self.realised + self.unrealised + self.unattached_funding

    @property
    def total_without_funding(self) -> Decimal:
        return self.total - self.funding

    def add(
        self,
        *,
        realised: Decimal = ZERO,
        unrealised: Decimal | None = ZERO,
        fees: dict[str, Decimal] | None = None,
        funding: Decimal = ZERO,
        unattached_funding: Decimal = ZERO,
    ) -> None:
        self.realised += realised
        if unrealised is None:
            self.unpriced += 1
        else:
            self.unrealised += unrealised
        for coin, cost in (fees or {}).items():
            self.fees[coin] = self.fees.get(coin, ZERO) + cost
        self.funding += funding
        self.unattached_funding += unattached_funding


ALL_ACCOUNTS = ""


def account_totals(booked: Iterable[Booked], open_pnls: Iterable[OpenPnl]) -> dict[tuple[str, str], Totals]:
    """Totals per (account, quote coin), and per (`ALL_ACCOUNTS`, quote coin) over every account."""
    totals: dict[tuple[str, str], Totals] = defaultdict(Totals)
    for row in booked:
        coin = quote_coin(row.symbol)
        for account in (row.account, ALL_ACCOUNTS):
            totals[account, coin].add(
                realised=row.realised, fees=row.fees, funding=row.funding.get(coin, ZERO), unattached_funding=row.unattached_funding
            )
    for row in open_pnls:
        for account in (row.account, ALL_ACCOUNTS):
            totals[account, quote_coin(row.symbol)].add(unrealised=row.pnl)
    return dict(totals)
