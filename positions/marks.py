"""Mark prices: the latest price of each tracked market, read from the exchange's ticker.

ccxt's unified ticker numbers are floats; the price here is the exchange's own string from the
ticker's `info`, so it reaches the database as an exact Decimal. The account's venue says which
ccxt call reads its tickers and where the price strings are (`Venue.ticker_method`,
`Venue.ticker_price_keys`).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from decimal import Decimal

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from exchanges.decimals import InexactNumber, parse_exact
from exchanges.models import ExchangeAccount, canonical_symbol
from exchanges.venues import Venue

from . import change_stamp
from .events import POSITIONS_GROUP
from .models import MarkPrice, Position
from .stream import emit_marks

logger = logging.getLogger(__name__)



def price_from_ticker(venue: Venue, ticker: dict) -> Decimal | None:
    """The exact price in a ccxt ticker's `info`, or None when it has no usable one."""
    keys = venue.ticker_price_keys
    info = ticker.get("info") if isinstance(ticker, dict) else None
    if not isinstance(info, dict):
        return None
    for key in keys:
        text = info.get(key)
        if text is None or text == "":
            continue
        if not isinstance(text, str):
            return None
        try:
            price = parse_exact(text)
        except InexactNumber:
            return None
        return price if price > 0 else None
    return None


def tracked_market_symbols(account: ExchangeAccount) -> list[str]:
    """The account's configured symbols and those of its open positions, as ccxt market symbols."""
    symbols = set(account.symbols) | set(
        Position.objects.filter(exchange=account, is_open=True).values_list("symbol", flat=True)
    )
    return sorted({account.market_symbol(s) for s in symbols})


@transaction.atomic
def store_marks(account: ExchangeAccount, prices: dict[str, Decimal], fetched_at) -> list[MarkPrice]:
    marks = [
        MarkPrice(account=account, market_symbol=m, symbol=canonical_symbol(m), price=p, fetched_at=fetched_at)
        for m, p in prices.items()
    ]
    stored = MarkPrice.objects.bulk_create(
        marks,
        update_conflicts=True,
        unique_fields=["account", "market_symbol"],
        update_fields=["symbol", "price", "fetched_at"],
    )
    emit_marks(stored)
    transaction.on_commit(change_stamp.bump)
    return stored


async def broadcast_marks_changed(account: ExchangeAccount, symbols: list[str]) -> None:
    """Tell operator pages. A page that misses it refreshes on the next change or reconnect."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "marks.changed", "account_id": account.pk, "symbols": symbols}
    try:
        await layer.group_send(POSITIONS_GROUP, message)
    except Exception:
        logger.warning("could not broadcast mark changes", exc_info=True)


async def refresh_marks(account: ExchangeAccount, client) -> list[MarkPrice]:
    """Read the tickers of the account's markets through its ccxt client, store their prices and tell
    the pages. Returns the marks stored; a market without a usable price keeps its previous mark."""
    market_symbols = await sync_to_async(tracked_market_symbols)(account)
    if not market_symbols:
        return []
    venue = account.venue_object
    tickers = getattr(client, venue.ticker_method)(market_symbols)
    if inspect.isawaitable(tickers):
        tickers = await tickers
    prices = {}
    for market_symbol in market_symbols:
        price = price_from_ticker(venue, (tickers or {}).get(market_symbol))
        if price is None:
            logger.warning("%s: no usable price for %s in its ticker", account.name, market_symbol)
            continue
        prices[market_symbol] = price
    if not prices:
        return []
    marks = await sync_to_async(store_marks)(account, prices, timezone.now())
    await broadcast_marks_changed(account, sorted({canonical_symbol(m) for m in prices}))
    return marks


async def refresh_marks_forever(account: ExchangeAccount, connector) -> None:
    """Mark prices every `MARK_REFRESH_SECONDS`, where no Celery beat refreshes them (`track` runs
    it beside each account's trade sync). A client of its own: REST sync reads its client's last
    response."""
    client = connector.new_client()
    try:
        while True:
            try:
                await refresh_marks(account, client)
            except Exception as error:  # a missed refresh shows as an older mark; the next one retries
                logger.warning("mark prices of %s: %s: %s", account.name, type(error).__name__, error)
            await asyncio.sleep(settings.MARK_REFRESH_SECONDS)
    finally:
        await client.close()
