"""The account and symbol filters every endpoint takes, read by one rule.

An account is named by its id or its name. A symbol is `BASE/QUOTE` (every market of the pair:
spot and linear perpetual alike) or a full market symbol (`BTC/USDT:USDT`: that market only).

A filter naming an account or a symbol the tracker does not know is refused (422) with what it
does know, so that a typo never reads as "no trades". The tracker knows a market of an account if
the account tracks it (its symbols), has it among the markets loaded from the venue, or has synced
it (a sync cursor): the small tables, never a scan of the trades.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Annotated

from django.db.models import Q
from ninja import Field, Schema
from ninja.errors import HttpError
from pydantic import StringConstraints, model_validator

from exchanges.models import ExchangeAccount, Market, canonical_symbol
from trades.models import SyncCursor
from trades.repository import of_symbol

from .types import Time

AccountRef = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
SymbolRef = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:/-]+$")]
ACCOUNT_HELP = "Account id or name."
SYMBOL_HELP = "BASE/QUOTE for every market of the pair, or a full market symbol (BTC/USDT:USDT) for that market only."

LISTED_AT_MOST = 20


def _listing(names) -> str:
    names = sorted(set(names))
    if not names:
        return "none"
    if len(names) > LISTED_AT_MOST:
        return ", ".join(names[:LISTED_AT_MOST]) + f" and {len(names) - LISTED_AT_MOST} more"
    return ", ".join(names)


def account_id(ref: str) -> int:
    """The id of the account `ref` names (digits: an id; anything else: a name), or a 422."""
    accounts = ExchangeAccount.objects.without_credentials()
    found = accounts.filter(pk=int(ref)) if ref.isdigit() and len(ref) < 19 else accounts.filter(name=ref)
    pk = found.values_list("pk", flat=True).first()
    if pk is not None:
        return pk
    known = [f"{name} ({pk})" for pk, name in accounts.values_list("pk", "name")]
    what = f"with id {ref}" if ref.isdigit() else f"named {ref!r}"
    raise HttpError(422, f"account: no account {what}; known: {_listing(known)}")


@dataclass(frozen=True)
class SymbolFilter:
    """A symbol filter as given, and what it matches."""

    symbol: str

    @property
    def pair(self) -> str:
        return canonical_symbol(self.symbol)

    @property
    def is_market(self) -> bool:
        """A full market symbol: it matches that market only, not the whole pair."""
        return ":" in self.symbol

    def trades_q(self) -> Q:
        """Trades (or marks, which have the same two symbol fields) of the symbol."""
        return of_symbol(self.symbol)

    def positions_q(self) -> Q:
        """Positions (which are per pair) of the symbol: for a market, those of the accounts that hold it."""
        if self.is_market:
            return Q(symbol=self.pair, exchange_id__in=accounts_with_market(self.symbol))
        return Q(symbol=self.symbol)


def _tracked(account: ExchangeAccount) -> set[str]:
    return {account.market_symbol(symbol) for symbol in account.symbols if isinstance(symbol, str)}


def _accounts(account: int | None):
    accounts = ExchangeAccount.objects.without_credentials().only("pk", "name", "venue", "symbols")
    return accounts.filter(pk=account) if account is not None else accounts


def accounts_with_market(market_symbol: str) -> set[int]:
    """The accounts that know the market `market_symbol` (see the module's docstring)."""
    ids = set(Market.objects.filter(market_symbol=market_symbol).values_list("account_id", flat=True))
    ids |= set(SyncCursor.objects.filter(symbol=market_symbol).values_list("account_id", flat=True))
    ids |= {a.pk for a in _accounts(None) if market_symbol in _tracked(a)}
    return ids


def _is_known(symbol_filter: SymbolFilter, account: int | None) -> bool:
    scope = Q(account_id=account) if account is not None else Q()
    if symbol_filter.is_market:
        if Market.objects.filter(scope, market_symbol=symbol_filter.symbol).exists():
            return True
        cursors = Q(symbol=symbol_filter.symbol)
    else:
        if Market.objects.filter(scope, symbol=symbol_filter.symbol).exists():
            return True
        cursors = Q(symbol=symbol_filter.symbol) | Q(symbol__startswith=f"{symbol_filter.symbol}:")
    if SyncCursor.objects.filter(scope, cursors).exists():
        return True
    tracked = set().union(*(_tracked(a) for a in _accounts(account)))
    return symbol_filter.symbol in tracked or symbol_filter.symbol in {canonical_symbol(s) for s in tracked}


def _known_symbols(account: int | None) -> set[str]:
    """Every symbol a filter may name (markets and their pairs): read only to answer a miss."""
    scope = Q(account_id=account) if account is not None else Q()
    markets = set(Market.objects.filter(scope).values_list("market_symbol", flat=True).distinct())
    markets |= set(SyncCursor.objects.filter(scope).values_list("symbol", flat=True).distinct())
    for tracked in map(_tracked, _accounts(account)):
        markets |= tracked
    return markets | {canonical_symbol(m) for m in markets}


def _compact(symbol: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", symbol.upper())


def suggestions(symbol: str, known: set[str]) -> list[str]:
    """The known symbols `symbol` was likely meant as: the same letters (BTCUSDT, btc/usdt for
    BTC/USDT; BTC/USDT for BTC/USDT:USDT), else close spellings. The shortest come first."""
    compact = _compact(symbol)
    same = [k for k in known if _compact(k) == compact or _compact(canonical_symbol(k)) == compact]
    if not same and ":" in symbol and canonical_symbol(symbol) in known:
        same = [canonical_symbol(symbol)]
    if not same:
        same = difflib.get_close_matches(symbol.upper(), list(known), n=3, cutoff=0.75)
    return sorted(same, key=lambda k: (len(k), k))[:3]


def symbol_filter(symbol: str, account: int | None = None) -> SymbolFilter:
    """The filter `symbol` names (on `account`, if given), or a 422 saying what is known."""
    wanted = SymbolFilter(symbol)
    if _is_known(wanted, account):
        return wanted
    known = _known_symbols(account)
    where = "" if account is None else " on this account"
    message = f"symbol: no symbol {symbol!r} is tracked{where}"
    close = suggestions(symbol, known)
    if close:
        message += f"; did you mean {' or '.join(close)}?"
    elif len(known) <= LISTED_AT_MOST:
        message += f"; known: {_listing(known)}"
    raise HttpError(422, message)


def filters(account: str | None, symbol: str | None) -> tuple[int | None, SymbolFilter | None]:
    """An account filter and a symbol filter as they are given together: the symbol on the account."""
    pk = account_id(account) if account is not None else None
    return pk, symbol_filter(symbol, pk) if symbol is not None else None


class TimeRange(Schema):
    """The `since` and `until` filters of a list of facts in time (trades, funding payments)."""

    since: Time | None = Field(None, description="From this time on (inclusive). Without an offset: UTC.")
    until: Time | None = Field(None, description="Before this time (exclusive). Without an offset: UTC.")

    @model_validator(mode="after")
    def _time_range(self):
        if self.since and self.until and self.since >= self.until:
            raise ValueError("since must be before until")
        return self

    def in_range(self, queryset):
        if self.since is not None:
            queryset = queryset.filter(timestamp__gte=self.since)
        if self.until is not None:
            queryset = queryset.filter(timestamp__lt=self.until)
        return queryset
