"""From a ccxt unified trade to exact fields.

ccxt's unified `price`, `amount`, `cost` and `fee.cost` are floats. The numbers here come from the
exchange's own strings in `trade['info']` instead, where the account's venue says they are
(`Venue.exact_fields`), and so is the fee coin where the venue names a field for it; ccxt's strings
(symbol, side, ids, else the fee currency) and its integer millisecond timestamp are taken as they are.

Trade ids are stored as the exchange spells them, except where the venue numbers them per market
(`Venue.market_id_keys`): then they are stored qualified by the market, `BTCUSDT:123`, and the
unique key (account, id) cannot clash. Within a market the prefix is constant, so the fold order
(timestamp, length of id, id) still orders a market's trades by their number.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from exchanges.decimals import InexactNumber, parse_exact
from exchanges.models import canonical_symbol
from exchanges.venues import Venue
from exchanges.venues.base import ID_SEPARATOR

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ZERO = Decimal(0)


class RejectedPayload(ValueError):
    """A trade payload that cannot be stored; the message says why."""


class ExactTrade(NamedTuple):
    exchange_trade_id: str
    order_id: str
    market_symbol: str
    symbol: str
    side: str
    taker_or_maker: str
    amount: Decimal
    price: Decimal
    cost: Decimal
    fee_cost: Decimal
    fee_currency: str
    timestamp: datetime
    kind: str = "fill"
    leg: str = ""


def exact_decimal(info: dict, keys: tuple[str, ...], name: str) -> Decimal:
    for key in keys:
        text = info.get(key)
        if text is None:
            continue
        if not isinstance(text, str):
            raise RejectedPayload(f"{name}: {key}={text!r} is not the exchange's string")
        try:
            return parse_exact(text)
        except InexactNumber as why:
            raise RejectedPayload(f"{name}: {key}={text!r} {why}") from None
    raise RejectedPayload(f"{name}: none of {', '.join(keys)} in the payload")


def _named_fee_currency(info: dict, keys: tuple[str, ...]) -> str:
    """The fee coin as the payload names it, where the venue says it does: ccxt may guess it instead."""
    for key in keys:
        coin = info.get(key)
        if isinstance(coin, str) and coin:
            return coin
    return ""


def stored_trade_id(venue: Venue, trade: dict) -> str:
    """The id a ccxt unified trade (REST or WebSocket) is stored under; `RejectedPayload` if the
    payload does not say which market a per-market id belongs to."""
    trade_id = trade.get("id")
    if not trade_id:
        raise RejectedPayload("no trade id")
    keys = venue.market_id_keys
    if not keys:
        return str(trade_id)
    info = trade.get("info")
    market_id = None
    if isinstance(info, dict):
        for key in keys:
            if info.get(key):
                market_id = info[key]
                break
    if not isinstance(market_id, str) or ID_SEPARATOR in market_id:
        raise RejectedPayload(f"no market id ({' or '.join(keys)}) for trade id {trade_id}")
    return venue.qualified_trade_id(market_id, trade_id)


def exchange_trade_number(stored_id: str) -> str:
    """The exchange's own id of a stored trade id (`BTCUSDT:123` -> `123`; others as they are)."""
    return stored_id.rpartition(ID_SEPARATOR)[2]


def exact_trade(venue: Venue, trade: dict, *, hedge: bool = False) -> ExactTrade:
    """The trade's exact fields, read where the venue puts them, or `RejectedPayload` saying what is
    wrong with it. Its kind is the venue's reading of the payload; its leg too, for a `hedge`-mode
    account's (a one-way account's trades move its one net position)."""
    fields = venue.exact_fields
    info = trade.get("info")
    if not isinstance(info, dict):
        raise RejectedPayload("no raw exchange payload in info")
    if venue.is_funding(trade):
        raise RejectedPayload("a funding payment is not a trade")
    kind = venue.trade_kind(trade)
    if kind is None:
        raise RejectedPayload(f"an execution of a type the tracker does not book: {info.get('execType')!r}")
    trade_id = stored_trade_id(venue, trade)
    market_symbol, side = trade.get("symbol"), trade.get("side")
    if not market_symbol or "/" not in market_symbol:
        raise RejectedPayload(f"unknown symbol {market_symbol!r}")
    if side not in ("buy", "sell"):
        raise RejectedPayload(f"side {side!r} is neither buy nor sell")
    timestamp = trade.get("timestamp")
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or timestamp <= 0:
        raise RejectedPayload(f"timestamp {timestamp!r} is not milliseconds since the epoch")

    amount = exact_decimal(info, fields["amount"], "amount")
    price = exact_decimal(info, fields["price"], "price")
    cost = exact_decimal(info, fields["cost"], "cost")
    if amount <= 0:
        raise RejectedPayload(f"amount {amount} is not positive")
    if price <= 0:
        raise RejectedPayload(f"price {price} is not positive")
    if cost < 0:
        raise RejectedPayload(f"cost {cost} is negative")

    fee = trade.get("fee") or {}
    fee_currency = _named_fee_currency(info, fields.get("fee_currency", ())) or fee.get("currency") or ""
    fee_cost = _ZERO
    fee_keys = fields["fee_cost"]
    for key in fee_keys:
        if info.get(key) is not None:
            fee_cost = exact_decimal(info, fee_keys, "fee")
            break
    if fee_cost and not fee_currency:
        raise RejectedPayload("a fee without a currency")

    return ExactTrade(
        exchange_trade_id=trade_id,
        order_id=str(trade.get("order") or ""),
        market_symbol=market_symbol,
        symbol=canonical_symbol(market_symbol),
        side=side,
        taker_or_maker=trade.get("takerOrMaker") or "",
        amount=amount,
        price=price,
        cost=cost,
        fee_cost=fee_cost,
        fee_currency=fee_currency,
        timestamp=_EPOCH + timedelta(milliseconds=timestamp),
        kind=kind,
        leg=venue.trade_leg(trade) if hedge else "",
    )
