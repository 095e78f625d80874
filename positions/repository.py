"""Reads of positions for strategies (async) and pages. `get_position` is served from an in-process
cache: a change committed in this process invalidates it at once; `POSITION_CACHE_TTL` bounds how long
a change made by another process can go unseen."""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from .fold import break_even_price
from .models import Position

_cache: dict[tuple, tuple[float, Position | None]] = {}


def invalidate_cached_positions(books) -> None:
    for book in books:
        _cache.pop((book.exchange_id, book.symbol, book.bot_instance_id, book.leg), None)


@dataclass(frozen=True)
class NetPosition:
    symbol: str
    net: Decimal
    shares: dict[str, Decimal]
    avg_price: Decimal | None
    positions: list[Position]
    funding: Decimal


class PositionRepository:
    async def get_position(
        self, exchange_id: int, symbol: str, bot_instance_id: int | None = None, leg: str = ""
    ) -> Position | None:
        """The open position of a book, or None when it is flat. `leg` "" is a one-way account's net
        position; on a hedge-mode account ask for `"long"` or `"short"` (its net is
        `calculate_net_position`), as "" finds nothing there."""
        key = (exchange_id, symbol, bot_instance_id, leg)
        cached = _cache.get(key)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        position = await Position.objects.filter(
            exchange_id=exchange_id, symbol=symbol, bot_instance_id=bot_instance_id, leg=leg, is_open=True
        ).afirst()
        _cache[key] = (now + settings.POSITION_CACHE_TTL, position)
        return position

    async def get_open_positions(self) -> list[Position]:
        return [p async for p in Position.objects.filter(is_open=True).with_account().order_by("exchange__name", "symbol")]

    async def calculate_net_position(self, symbol: str) -> NetPosition:
        """Net base amount of a canonical symbol across accounts (spot and perpetual alike, a hedge-mode
        account's long and short legs summed), each account's share, and the combined break-even price."""
        positions = [
            p async for p in Position.objects.filter(symbol=symbol, is_open=True).with_account().order_by("exchange__name")
        ]
        shares: dict[str, Decimal] = {}
        for position in positions:
            shares[position.exchange.name] = shares.get(position.exchange.name, Decimal(0)) + position.p1
        net = sum((p.p1 for p in positions), Decimal(0))
        avg_price = break_even_price(net, sum((p.p2 for p in positions), Decimal(0)), sum((p.p2_fee for p in positions), Decimal(0)))
        funding = sum((p.funding for p in positions), Decimal(0))
        return NetPosition(symbol=symbol, net=net, shares=shares, avg_price=avg_price, positions=positions, funding=funding)
