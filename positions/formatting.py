"""How the operator pages write a number: as an exchange shows it, rounded for reading, with the exact
value kept beside it (the pages put it in the cell's title and a data attribute; the API never rounds).

- An amount of the base coin to the market's amount step (0.001 -> 3 places), or to the coin's usual
  places when the step is unknown.
- A price to the market's price step (the tick); with no step known, to the quote coin's places, with
  more places for a price below 1 so that it keeps four significant digits.
- Money (PnL, cost, fees) to the coin's usual places (`COIN_PLACES`; other coins `DEFAULT_PLACES`).
- Thousands separators; half up; a value that is not zero never reads as zero: one that rounds to
  zero is written "< 0.01" (or "> -0.01").

Pure functions over Decimals: the page template and the board's WebSocket both send what these return,
so the server and the live page show the same text.
"""

from __future__ import annotations

import decimal
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from exchanges.decimals import decimal_string

COIN_PLACES = {
    **dict.fromkeys(("USD", "USDT", "USDC", "BUSD", "FDUSD", "TUSD", "DAI", "EUR", "GBP"), 2),
    "BTC": 8,
    "ETH": 6,
    "BNB": 6,
}
DEFAULT_PLACES = 8
PRICE_SIGNIFICANT_DIGITS = 4
_WIDE = decimal.Context(prec=80)  # a stored value has up to 38 digits


class Shown(NamedTuple):
    """A number as a page writes it (`text`) and its exact decimal string (`exact`); both empty for none."""

    text: str
    exact: str


NOTHING = Shown("", "")


def coin_places(coin: str) -> int:
    return COIN_PLACES.get(coin.upper(), DEFAULT_PLACES)


def step_places(step: Decimal) -> int:
    """Decimal places of a step: 0.001 -> 3, 0.10 -> 1, 5 -> 0."""
    return max(-step.normalize().as_tuple().exponent, 0)


def fixed(value: Decimal, places: int, unit: str = "") -> str:
    """`value` to `places` decimal places with thousands separators, then the unit if any."""
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=_WIDE)
    if not rounded:
        text = format(Decimal(1).scaleb(-places), "f")
        text = "< " + text if value > 0 else "> -" + text if value < 0 else format(abs(rounded), ",f")
    else:
        text = format(rounded, ",f")
    return f"{text} {unit}" if unit else text


def _shown(value: Decimal | None, places: int, unit: str) -> Shown:
    return NOTHING if value is None else Shown(fixed(value, places, unit), decimal_string(value))


def amount(value: Decimal | None, coin: str, step: Decimal | None = None) -> Shown:
    """An amount of `coin` (a position's size, a trade's amount) to the market's amount step."""
    return _shown(value, step_places(step) if step else coin_places(coin), coin)


def price_places(value: Decimal, quote: str, step: Decimal | None = None) -> int:
    if step:
        return step_places(step)
    places = coin_places(quote)
    if value and abs(value) < 1:
        places = max(places, PRICE_SIGNIFICANT_DIGITS - 1 - value.adjusted())
    return places


def price(value: Decimal | None, quote: str, step: Decimal | None = None) -> Shown:
    """A price in `quote` per base unit, without the coin (the market names it)."""
    return NOTHING if value is None else _shown(value, price_places(value, quote, step), "")


def money(value: Decimal | None, coin: str) -> Shown:
    """An amount of money (PnL, cost, a fee) in `coin`, to the coin's usual places."""
    return _shown(value, coin_places(coin), coin)


def per_coin(values: dict[str, Decimal]) -> Shown:
    """Sums in several coins (fees), each to its coin's places, by coin name; the exact the same way."""
    coins = sorted(values)
    return Shown(
        " · ".join(fixed(values[coin], coin_places(coin), coin) for coin in coins),
        " · ".join(f"{decimal_string(values[coin])} {coin}" for coin in coins),
    )
