"""The two facts of a market that storing and folding every trade need: its contract size and its
amount step. Read once per account per process and kept `MARKET_CACHE_SECONDS`: two queries saved on
each trade, which on a stream that stores trades one at a time are a third of the work.

A market changed in this process (`upsert_markets`, a save in the admin) is forgotten at once; one
changed by another process is seen within `MARKET_CACHE_SECONDS`. An unknown market is asked again on
every use, never remembered as missing, so a market loaded after its first trade counts from then on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Market


@dataclass(frozen=True)
class MarketFacts:
    contract_size: Decimal
    amount_step: Decimal


@dataclass
class _AccountMarkets:
    read_at: float
    by_market_symbol: dict[str, MarketFacts]
    by_symbol: dict[str, MarketFacts]


_accounts: dict[int, _AccountMarkets] = {}


def _read(account_id: int) -> _AccountMarkets:
    by_market_symbol, by_symbol = {}, {}
    rows = Market.objects.filter(account_id=account_id).order_by("id").values_list("symbol", "market_symbol", "contract_size", "amount_step")
    for symbol, market_symbol, contract_size, amount_step in rows:
        facts = MarketFacts(contract_size, amount_step)
        by_market_symbol[market_symbol] = facts
        by_symbol.setdefault(symbol, facts)
    known = _AccountMarkets(time.monotonic(), by_market_symbol, by_symbol)
    _accounts[account_id] = known
    return known


def _lookup(account_id: int, key: str, index: str) -> MarketFacts | None:
    known = _accounts.get(account_id)
    just_read = known is None or time.monotonic() - known.read_at > settings.MARKET_CACHE_SECONDS
    if just_read:
        known = _read(account_id)
    facts = getattr(known, index).get(key)
    if facts is None and not just_read:
        facts = getattr(_read(account_id), index).get(key)
    return facts


def market_facts(account_id: int, market_symbol: str) -> MarketFacts | None:
    """By ccxt's full symbol (`BTC/USDT:USDT`); None for a market the account has not loaded."""
    return _lookup(account_id, market_symbol, "by_market_symbol")


def market_facts_by_symbol(account_id: int, symbol: str) -> MarketFacts | None:
    """By canonical symbol (`BTC/USDT`), as a book names its market."""
    return _lookup(account_id, symbol, "by_symbol")


def forget_markets(account_id: int | None = None) -> None:
    if account_id is None:
        _accounts.clear()
    else:
        _accounts.pop(account_id, None)


@receiver([post_save, post_delete], sender=Market, dispatch_uid="exchanges.forget_changed_market")
def _forget_changed_market(sender, instance: Market, **kwargs) -> None:
    forget_markets(instance.account_id)
