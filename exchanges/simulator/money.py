"""Exact numbers: integer units on a step, and the decimal strings exchanges print."""

from __future__ import annotations

import decimal
from decimal import Decimal

FEE_QUANTUM = Decimal("1e-12")  # fees are kept in these units
FEE_EXPONENT = -12
WIDE = decimal.Context(prec=60)  # wide enough that no product of amounts and prices rounds
_INT64 = 2**63 - 1


class Rejected(ValueError):
    """A fill the exchange could not have executed (off the market's steps, out of range)."""


def to_units(value: Decimal, quantum: Decimal, what: str) -> int:
    units = WIDE.divide(value, quantum)
    if units != units.to_integral_value():
        raise Rejected(f"{what} {plain(value)} is not a multiple of {plain(quantum)}")
    if abs(units) > _INT64:
        raise Rejected(f"{what} {plain(value)} is out of range")
    return int(units)


def plain(value: Decimal) -> str:
    """A plain decimal string without exponent or trailing zeros: 48.000012, 100, -0.5."""
    text = format(value.normalize(WIDE), "f")
    return "0" if text in ("-0", "0") else text


def fixed(value: Decimal, places: int) -> str:
    """Padded to `places` decimals as exchanges print asset amounts (12.00000000); never rounds."""
    quantum = Decimal(1).scaleb(-places)
    quantized = value.quantize(quantum, context=WIDE)
    return format(quantized, "f") if quantized == value else plain(value)


def decimals(value: Decimal) -> int:
    """How many decimal places a step has: 0.001 -> 3, 0.10 -> 2, 5 -> 0."""
    return max(0, -value.as_tuple().exponent)


def step_parts(step: Decimal) -> tuple[int, int]:
    """A step as (integer, exponent): 0.10 -> (10, -2), 0.00001 -> (1, -5), 5 -> (5, 0)."""
    sign, digits, exponent = step.as_tuple()
    number = int("".join(map(str, digits)))
    return (-number if sign else number), exponent


def scaled(number: int, exponent: int) -> str:
    """The exact decimal string of number * 10**exponent, with -exponent decimals: (4366, -5) -> 0.04366."""
    if exponent >= 0:
        return str(number * 10**exponent)
    digits = str(abs(number)).rjust(1 - exponent, "0")
    return ("-" if number < 0 else "") + digits[:exponent] + "." + digits[exponent:]


def strip(text: str) -> str:
    """Drop trailing zeros of a decimal string: 2.69346835000 -> 2.69346835, 100.0 -> 100."""
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def pad(text: str, places: int) -> str:
    """Pad a decimal string to at least `places` decimals, as Binance prints (12 -> 12.00000000)."""
    point = text.find(".")
    if point < 0:
        return text + "." + "0" * places if places else text
    missing = places - (len(text) - point - 1)
    return text + "0" * missing if missing > 0 else text
