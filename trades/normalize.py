"""From a ccxt unified trade to exact fields.

ccxt's unified `price`, `amount`, `cost` and `fee.cost` are floats. The numbers here come from the
exchange's own strings in `trade['info']` instead; ccxt's strings (symbol, side, ids, fee currency)
and its integer millisecond timestamp are taken as they are.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import decimal
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from exchanges.models import canonical_symbol

# Where each exchange puts its exact strings, for the REST and the WebSocket payloads ccxt parses.
# Binance's executionReport keeps the order quantity in `q`; the fill's own is `l`.
EXACT_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "binance": {
        "amount": ("qty", "l"),
        "price": ("price", "L"),
        "cost": ("quoteQty", "Y"),
        "fee_cost": ("commission", "n"),
    },
    "bybit": {
        "amount": ("execQty",),
        "price": ("execPrice",),
        "cost": ("execValue",),
        "fee_cost": ("execFee",),
    },
}
STORED_PLACES = Decimal("1e-18")
MAX_INTEGER_DIGITS = 20
_WIDE = decimal.Context(prec=80)
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


def _few_places(text: str) -> bool:
    """Whether a plain decimal string shows at most 18 places, so that it has at most 18 (the
    exchanges' usual strings). Other spellings (exponents, more places) take the exact check."""
    point = text.find(".")
    return (point < 0 or len(text) - point <= 19) and "e" not in text and "E" not in text


def _exact_decimal(info: dict, keys: tuple[str, ...], name: str) -> Decimal:
    for key in keys:
        text = info.get(key)
        if text is None:
            continue
        if not isinstance(text, str):
            raise RejectedPayload(f"{name}: {key}={text!r} is not the exchange's string")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise RejectedPayload(f"{name}: {key}={text!r} is not a number") from None
        if not value.is_finite():
            raise RejectedPayload(f"{name}: {key}={text!r} is not finite")
        if value.adjusted() >= MAX_INTEGER_DIGITS:
            raise RejectedPayload(f"{name}: {text} is too large")
        if not _few_places(text) and value != value.quantize(STORED_PLACES, context=_WIDE):
            raise RejectedPayload(f"{name}: {text} has more than 18 decimal places")
        return value
    raise RejectedPayload(f"{name}: none of {', '.join(keys)} in the payload")


def exact_trade(ccxt_id: str, trade: dict) -> ExactTrade:
    """The trade's exact fields, or `RejectedPayload` saying what is wrong with it."""
    fields = EXACT_FIELDS.get(ccxt_id)
    if fields is None:
        raise RejectedPayload(f"no exact-number mapping for exchange {ccxt_id!r}")
    info = trade.get("info")
    if not isinstance(info, dict):
        raise RejectedPayload("no raw exchange payload in info")
    trade_id, market_symbol, side = trade.get("id"), trade.get("symbol"), trade.get("side")
    if not trade_id:
        raise RejectedPayload("no trade id")
    if not market_symbol or "/" not in market_symbol:
        raise RejectedPayload(f"unknown symbol {market_symbol!r}")
    if side not in ("buy", "sell"):
        raise RejectedPayload(f"side {side!r} is neither buy nor sell")
    timestamp = trade.get("timestamp")
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or timestamp <= 0:
        raise RejectedPayload(f"timestamp {timestamp!r} is not milliseconds since the epoch")

    amount = _exact_decimal(info, fields["amount"], "amount")
    price = _exact_decimal(info, fields["price"], "price")
    cost = _exact_decimal(info, fields["cost"], "cost")
    if amount <= 0:
        raise RejectedPayload(f"amount {amount} is not positive")
    if price <= 0:
        raise RejectedPayload(f"price {price} is not positive")
    if cost < 0:
        raise RejectedPayload(f"cost {cost} is negative")

    fee = trade.get("fee") or {}
    fee_currency = fee.get("currency") or ""
    fee_cost = _ZERO
    fee_keys = fields["fee_cost"]
    for key in fee_keys:
        if info.get(key) is not None:
            fee_cost = _exact_decimal(info, fee_keys, "fee")
            break
    if fee_cost and not fee_currency:
        raise RejectedPayload("a fee without a currency")

    return ExactTrade(
        exchange_trade_id=str(trade_id),
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
    )
