"""Exact decimals, the rules written once: what number string from an exchange the tracker can store
(a `DecimalField(max_digits=38, decimal_places=18)`: at most 20 integer digits and 18 places, exactly,
never rounded), the wide context every sum and quotient is taken in, average prices, and how a
Decimal is written out (a plain string: no exponent, trailing zeros dropped)."""

from __future__ import annotations

import decimal
from decimal import Decimal, InvalidOperation

STORED_PLACES = Decimal("1e-18")
MAX_INTEGER_DIGITS = 20
AVG_PRICE_PLACES = Decimal("1e-10")
# Wide enough that no sum or product of stored values (38 digits) is rounded.
EXACT = decimal.Context(prec=80, rounding=decimal.ROUND_HALF_EVEN)


class InexactNumber(ValueError):
    """A string that is not a number the tracker can store exactly; the message says why."""


def _few_places(text: str) -> bool:
    """Whether a plain decimal string shows at most 18 places, so that it has at most 18 (the
    exchanges' usual strings). Other spellings (exponents, more places) take the exact check."""
    point = text.find(".")
    return (point < 0 or len(text) - point <= 19) and "e" not in text and "E" not in text


def parse_exact(text: str) -> Decimal:
    """The Decimal an exchange's number string spells, within the stored bounds; `InexactNumber`
    ("is not a number", "is not finite", "is too large", "has more than 18 decimal places") if not."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InexactNumber("is not a number") from None
    if not value.is_finite():
        raise InexactNumber("is not finite")
    if value.adjusted() >= MAX_INTEGER_DIGITS:
        raise InexactNumber("is too large")
    if not _few_places(text) and value != value.quantize(STORED_PLACES, context=EXACT):
        raise InexactNumber("has more than 18 decimal places")
    return value


def average_price(quote: Decimal, amount: Decimal) -> Decimal | None:
    """`quote / amount` to 10 places (an average or break-even price, a VWAP); none for no amount."""
    if not amount:
        return None
    return EXACT.divide(quote, amount).quantize(AVG_PRICE_PLACES, context=EXACT)


def decimal_string(value: Decimal) -> str:
    """"0.000000000000000001", "100", "-1.5": never a float, never an exponent. A Decimal's own string
    is plain for most values (the database's, at 18 places, among them), and stripping its trailing
    zeros is then the same as normalising, at half the cost (the API writes seven a trade)."""
    if not value:
        return "0"
    text = str(value)
    if "E" in text:
        return format(value.normalize(context=EXACT), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
