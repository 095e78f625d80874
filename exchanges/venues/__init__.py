"""The venues the tracker supports, by name: the one list that `ExchangeAccount.venue`'s choices,
the validation of accounts, the connectors and the sync read.

Adding a venue: its module (a `Venue` subclass, through its exchange's family class) and one line in
`VENUES`.
"""

from __future__ import annotations

from .base import STREAM_TRADES_KEPT, Venue
from .binance import BinanceSpot
from .bybit import BybitLinear, BybitSpot

VENUES: dict[str, Venue] = {
    venue.name: venue
    for venue in (
        BinanceSpot(),
        BybitLinear(),
        BybitSpot(),
    )
}

__all__ = ["STREAM_TRADES_KEPT", "VENUES", "UnknownVenue", "Venue", "venue_named"]


class UnknownVenue(LookupError):
    """A venue name not in the registry; the message lists the ones there are."""


class UnsupportedAccount(ValueError):
    """An account on a venue the tracker has no client for."""


def known_list() -> str:
    return ", ".join(VENUES)


def unknown_venue_message(name: str) -> str:
    return f"{name or '(no venue)'} is not a venue the tracker supports; the venues are: {known_list()}"


def venue_named(name: str) -> Venue:
    try:
        return VENUES[name]
    except KeyError:
        raise UnknownVenue(unknown_venue_message(name)) from None


def venue_choices() -> list[tuple[str, str]]:
    """`ExchangeAccount.venue`'s choices (a callable, so that a new venue needs no migration)."""
    return [(venue.name, venue.label) for venue in VENUES.values()]


def venue_for(ccxt_id: str, market_type: str) -> Venue:
    """The venue of a ccxt exchange id and market type (binance, spot: binance_spot)."""
    for venue in VENUES.values():
        if (venue.ccxt_id, venue.market_type) == (ccxt_id, market_type):
            return venue
    raise UnknownVenue(f"no venue is {ccxt_id} {market_type}; the venues are: {known_list()}")
