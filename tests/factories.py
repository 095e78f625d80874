"""Trades shaped the way ccxt hands them over, floats and all, with the exchange's strings in `info`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from exchanges.models import ExchangeAccount, Market

_BINANCE_QUOTES = ("USDT", "BTC", "BNB")


def make_account(name: str = "binance_spot", venue: str = "binance_spot", **fields) -> ExchangeAccount:
    return ExchangeAccount.objects.create(name=name, venue=venue, api_key="key", api_secret="secret", **fields)


def make_market(account: ExchangeAccount, market_symbol: str, contract_size="1", amount_step="0") -> Market:
    symbol = market_symbol.split(":")[0]
    base, quote = symbol.split("/")
    return Market.objects.create(
        account=account,
        symbol=symbol,
        market_symbol=market_symbol,
        base=base,
        quote=quote,
        contract_size=Decimal(contract_size),
        amount_step=Decimal(amount_step),
    )


def binance_trade(
    trade_id,
    *,
    side: str = "buy",
    amount: str = "1",
    price: str = "100",
    cost: str | None = None,
    fee: str | None = None,
    fee_currency: str = "USDT",
    symbol: str = "BTC/USDT",
    timestamp: datetime | int = 1_704_067_200_000,
    order_id: str = "1",
    maker: bool = False,
) -> dict:
    """A Binance spot trade as `fetch_my_trades` returns it."""
    ms = int(timestamp.timestamp() * 1000) if isinstance(timestamp, datetime) else timestamp
    cost = cost if cost is not None else str(Decimal(amount) * Decimal(price))
    info = {
        "symbol": symbol.replace("/", ""),
        "id": int(trade_id),
        "orderId": int(order_id),
        "price": price,
        "qty": amount,
        "quoteQty": cost,
        "time": ms,
        "isBuyer": side == "buy",
        "isMaker": maker,
        "isBestMatch": True,
    }
    trade = {
        "info": info,
        "id": str(trade_id),
        "timestamp": ms,
        "symbol": symbol,
        "order": str(order_id),
        "type": None,
        "side": side,
        "takerOrMaker": "maker" if maker else "taker",
        "price": float(price),
        "amount": float(amount),
        "cost": float(cost),
        "fee": None,
        "fees": [],
    }
    if fee is not None:
        info.update(commission=fee, commissionAsset=fee_currency)
        trade["fee"] = {"cost": float(fee), "currency": fee_currency}
        trade["fees"] = [trade["fee"]]
    return trade


def bybit_trade(
    exec_id: str,
    *,
    side: str = "buy",
    amount: str = "1",
    price: str = "100",
    cost: str | None = None,
    fee: str = "0",
    symbol: str = "BTC/USDT:USDT",
    timestamp: int = 1_704_067_200_000,
    order_id: str = "o-1",
    maker: bool = False,
) -> dict:
    """A Bybit v5 linear execution as `fetch_my_trades` returns it."""
    cost = cost if cost is not None else str(Decimal(amount) * Decimal(price))
    info = {
        "symbol": symbol.split(":")[0].replace("/", ""),
        "execId": exec_id,
        "orderId": order_id,
        "side": side.capitalize(),
        "execPrice": price,
        "execQty": amount,
        "execValue": cost,
        "execFee": fee,
        "execTime": str(timestamp),
        "isMaker": maker,
        "category": "linear",
    }
    return {
        "info": info,
        "id": exec_id,
        "timestamp": timestamp,
        "symbol": symbol,
        "order": order_id,
        "side": side,
        "takerOrMaker": "maker" if maker else "taker",
        "price": float(price),
        "amount": float(amount),
        "cost": float(cost),
        "fee": {"cost": float(fee), "currency": "USDT"},
    }
