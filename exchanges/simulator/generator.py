"""Seeded generation of realistic orders and fills: the pre-loaded history and the live trickle.

An order has a side, a size on the market's amount step and one or more fills: a taker order sweeps
a few price levels at one moment, a maker order rests at one price and fills piece by piece. Fees
follow the venue's rule (its protocol's `fee_in`, `rebate_in_given` and `fee_places`): Binance charges
the coin received (base on a buy, quote on a sell) or BNB, rounded to 8 decimals; Bybit linear charges
the settle coin exactly, and pays makers a rebate when the maker rate is negative; Bybit spot charges
the coin received and pays a maker's rebate in the coin given (quote on a buy, base on a sell).

The history is never materialised: `History.row(i)` computes fill `i` from the seed and `i` alone,
so a million pre-loaded fills cost nothing until a client asks for them.
"""

from __future__ import annotations

import hashlib
import math
import random
from typing import NamedTuple

from .accounts import AccountConfig, MarketConfig
from .money import FEE_EXPONENT, step_parts, to_units

_MASK = (1 << 64) - 1
_CHUNK = 4
# The ways four consecutive fills can belong to orders: [2, 1, 1] is a two-fill order, then two single ones.
_PATTERNS = ((4,), (3, 1), (1, 3), (2, 2), (2, 1, 1), (1, 2, 1), (1, 1, 2), (1, 1, 1, 1))


class Row(NamedTuple):
    """One fill in integer units: amounts in amount steps, prices in price steps, fees in 1e-12."""

    ts: int
    qty: int
    price: int
    fee: int
    coin: int
    maker: bool
    order: int
    buy: bool
    market_order: bool
    order_qty: int
    order_price: int
    order_created: int
    cum: int
    cum_quote: int


def _mix(x: int) -> int:
    """splitmix64: a fast, well-spread 64-bit hash."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def stable_key(*parts) -> int:
    return int.from_bytes(hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest(), "big")


class PriceCurve:
    """The market's price at any moment: slow waves around the configured price, in price steps."""

    def __init__(self, market: MarketConfig, key: int):
        self.anchor = to_units(market.price, market.price_step, "price")
        self.phase = [(_mix(key + n) % 10_000) / 10_000 * 2 * math.pi for n in range(3)]

    def at(self, ts: int) -> int:
        days = ts / 86_400_000
        wave = (
            0.04 * math.sin(2 * math.pi * days / 9 + self.phase[0])
            + 0.015 * math.sin(2 * math.pi * days / 1.3 + self.phase[1])
            + 0.004 * math.sin(2 * math.pi * days * 12 + self.phase[2])
        )
        return max(1, round(self.anchor * (1 + wave)))


def _round_half_up(numerator: int, denominator: int) -> int:
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    numerator, denominator = abs(numerator), abs(denominator)
    return sign * ((2 * numerator + denominator) // (2 * denominator))


def _to_places(number: int, exponent: int, places: int, divisor: int = 1) -> int:
    """number * 10**exponent / divisor in units of 10**-places, rounded half up."""
    shift = exponent + places
    if shift >= 0:
        return _round_half_up(number * 10**shift, divisor)
    return _round_half_up(number, divisor * 10**-shift)


class FeeRule:
    """Fees in integer arithmetic: this runs for every fill a client reads."""

    def __init__(self, account: AccountConfig, market: MarketConfig, coins: list[str]):
        self.account, self.market, self.coins = account, market, coins
        fees = account.fees
        (self.step, step_exp), (self.tick, tick_exp) = step_parts(market.amount_step), step_parts(market.price_step)
        self.amount_exp, self.cost_exp = step_exp, step_exp + tick_exp
        self.maker, self.taker = step_parts(fees.maker), step_parts(fees.taker)
        self.third_rate = step_parts(fees.third_coin_rate)
        self.third_price = step_parts(fees.third_coin_price) if fees.third_coin_price > 0 else None
        self.in_settle_coin = account.venue.fee_in == "settle"
        self.rebate_in_given = account.venue.rebate_in_given
        self.places = account.venue.fee_places
        self.third = account.fees.third_coin

    def _coin(self, coin: str) -> int:
        if coin not in self.coins:
            self.coins.append(coin)
        return self.coins.index(coin)

    def fee(self, *, buy: bool, maker: bool, qty: int, price: int, third: bool) -> tuple[int, int]:
        """(fee in units of 1e-12, index of the fee coin)."""
        rate, rate_exp = self.maker if maker else self.taker
        amount = qty * self.step
        cost = amount * price * self.tick
        places = self.places
        if self.in_settle_coin:
            units, coin = _to_places(cost * rate, self.cost_exp + rate_exp, places), self.market.settle
        elif third and self.third and self.third_price:
            (third_rate, third_exp), (third_price, price_exp) = self.third_rate, self.third_price
            units = _to_places(cost * third_rate, self.cost_exp + third_exp - price_exp, places, third_price)
            coin = self.third
        elif buy != (self.rebate_in_given and maker and rate < 0):
            units, coin = _to_places(amount * rate, self.amount_exp + rate_exp, places), self.market.base
        else:
            units, coin = _to_places(cost * rate, self.cost_exp + rate_exp, places), self.market.quote
        return units * 10 ** (-FEE_EXPONENT - places), self._coin(coin)


class OrderShape:
    """What a generated order looks like, drawn from random 64-bit numbers `bits(0)`, `bits(1)`, ..."""

    def __init__(self, account: AccountConfig, market: MarketConfig):
        self.account = account
        self.min_qty = to_units(market.min_amount, market.amount_step, "min_amount")
        self.max_qty = to_units(market.max_amount, market.amount_step, "max_amount")
        self.third_share = int(account.fees.third_coin_share * 10_000)

    @staticmethod
    def is_maker(first_bits: int) -> bool:
        return (first_bits >> 1) % 100 < 40

    def draw(self, bits, parts: int) -> tuple[bool, bool, bool, list[int], list[int]]:
        """(buy, maker, third-coin fee, fill sizes, taker price steps away from the first fill)."""
        first = bits(0)
        buy = first & 1 == 1
        maker = self.is_maker(first)
        third = (first >> 8) % 10_000 < self.third_share
        low = max(1, self.min_qty // parts)
        high = max(low, self.max_qty // parts)
        sizes, moves, away = [], [], 0
        for n in range(parts):
            more = bits(1 + n)
            sizes.append(low + more % (high - low + 1))
            if n and not maker:
                away += (more >> 32) % 3
            moves.append(away if buy else -away)
        return buy, maker, third, sizes, moves


class History:
    """A book's pre-loaded fills, each computed on demand from (seed, index).

    Fills are grouped four at a time; a hash of the group picks how its four fills split into orders
    (so a history order has at most four fills), and a hash of each order's first fill draws the order.
    Fill i happens at a time within the i-th of `count` equal slices of [start, end), so times only grow.
    """

    _CACHE = 4096  # orders; a client reading the history in order computes each order once

    def __init__(self, account: AccountConfig, market: MarketConfig, coins: list[str], *, count: int, start: int, end: int, seed: int):
        self.count, self.start, self.span = count, start, max(1, end - start)
        self.key = stable_key(seed, account.name, market.symbol, "history")
        self.slot_key = _mix(self.key + 1)  # a separate stream, so times and order shapes are unrelated
        self.curve = PriceCurve(market, self.key)
        self.fees = FeeRule(account, market, coins)
        self.shape = OrderShape(account, market)
        limit = max(1, account.generator.max_fills_per_order)
        self.patterns = [p for p in _PATTERNS if max(p) <= limit]
        self._orders: dict[int, list[Row]] = {}

    @property
    def orders(self) -> int:
        """Order numbers used by the history; live orders are numbered after them."""
        return -(-self.count // _CHUNK) * _CHUNK

    def _bits(self, order: int, j: int) -> int:
        return _mix(self.key ^ (order * 64 + j))

    def _slot_time(self, i: int) -> int:
        return self.start + (i * self.span + _mix(self.slot_key ^ i) % self.span) // self.count

    def order_of(self, i: int) -> tuple[int, int]:
        """(first slot of the order holding fill i, number of fills in it)."""
        first = i - i % _CHUNK
        for parts in self.patterns[self._bits(first, 63) % len(self.patterns)]:
            if i < first + parts:
                return first, parts
            first += parts
        raise AssertionError("the patterns cover the whole chunk")

    def timestamp(self, i: int) -> int:
        first, _ = self.order_of(i)
        return self._slot_time(i if OrderShape.is_maker(self._bits(first, 0)) else first)

    def row(self, i: int) -> Row:
        first, parts = self.order_of(i)
        rows = self._orders.get(first)
        if rows is None:
            if len(self._orders) >= self._CACHE:
                self._orders.clear()
            rows = self._orders[first] = self._order_rows(first, parts)
        return rows[i - first]

    def _order_rows(self, first: int, parts: int) -> list[Row]:
        buy, maker, third, sizes, moves = self.shape.draw(lambda j: self._bits(first, j), parts)
        created = self._slot_time(first)
        limit = self.curve.at(created)
        prices = [max(1, limit + move) for move in moves]
        order_qty, order_price = sum(sizes), (max(prices) if buy else min(prices))
        rows, cum, cum_quote = [], 0, 0
        for n, (size, price) in enumerate(zip(sizes, prices)):
            if first + n >= self.count:
                break  # the history ends mid-order: it stays partially filled
            fee, coin = self.fees.fee(buy=buy, maker=maker, qty=size, price=price, third=third)
            cum, cum_quote = cum + size, cum_quote + size * price
            ts = self._slot_time(first + n) if maker else created
            rows.append(Row(ts, size, price, fee, coin, maker, first, buy, not maker, order_qty, order_price, created, cum, cum_quote))
        return rows


class Planned(NamedTuple):
    buy: bool
    maker: bool
    qty: int
    price: int
    fills: list[tuple[int, int, int, int]]  # (qty, price, fee, coin)


class LivePlanner:
    """Orders for the live trickle, from a seeded `random.Random`."""

    def __init__(self, account: AccountConfig, market: MarketConfig, coins: list[str], rng: random.Random, key: int):
        self.account, self.rng = account, rng
        self.curve = PriceCurve(market, key)
        self.fees = FeeRule(account, market, coins)
        self.shape = OrderShape(account, market)

    def plan(self, now: int) -> Planned:
        rng = self.rng
        parts = min(max(1, self.account.generator.max_fills_per_order), 1 + int(rng.expovariate(0.9)))
        bits = [rng.getrandbits(64) for _ in range(parts + 1)]
        buy, maker, third, sizes, moves = self.shape.draw(lambda j: bits[j], parts)
        limit = self.curve.at(now)
        prices = [max(1, limit + move) for move in moves]
        fills = []
        for size, price in zip(sizes, prices):
            fee, coin = self.fees.fee(buy=buy, maker=maker, qty=size, price=price, third=third)
            fills.append((size, price, fee, coin))
        return Planned(buy, maker, sum(sizes), max(prices) if buy else min(prices), fills)
