"""Trades shaped the way ccxt hands them over, floats and all, with the exchange's strings in `info`;
and stored rows (funding payments, hedge-leg trades) written as their ingest writes them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from django.db import transaction

from exchanges.models import ExchangeAccount, Market
from trades.deltas import trade_deltas
from trades.models import FundingPayment, Trade
from trades.signals import funding_inserted, trades_inserted

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


def _aware(timestamp: datetime | int) -> datetime:
    return timestamp if isinstance(timestamp, datetime) else datetime.fromtimestamp(timestamp / 1000, tz=UTC)


def funding_payment(
    account: ExchangeAccount,
    funding_id: str,
    *,
    amount: str,
    timestamp: datetime | int,
    market_symbol: str = "BTC/USDT:USDT",
    leg: str = "",
    rate: str | None = "0.0001",
    position_size: str | None = "1",
    currency: str = "USDT",
    bot_instance=None,
) -> FundingPayment:
    """An unsaved FundingPayment row as the funding ingest stores one."""
    return FundingPayment(
        exchange=account,
        bot_instance=bot_instance,
        exchange_funding_id=funding_id,
        symbol=market_symbol.split(":")[0],
        market_symbol=market_symbol,
        leg=leg,
        timestamp=_aware(timestamp),
        amount=Decimal(amount),
        currency=currency,
        rate=None if rate is None else Decimal(rate),
        position_size=None if position_size is None else Decimal(position_size),
        raw={"id": funding_id, "amount": amount},
    )


def store_funding(payments: list[FundingPayment]) -> list[FundingPayment]:
    """Store new payments and send `funding_inserted` in one transaction, as the funding ingest does;
    a payment already stored (same account and id) is skipped."""
    with transaction.atomic():
        known = set(
            FundingPayment.objects.filter(exchange_funding_id__in=[p.exchange_funding_id for p in payments]).values_list(
                "exchange_id", "exchange_funding_id"
            )
        )
        new = [p for p in payments if (p.exchange_id, p.exchange_funding_id) not in known]
        FundingPayment.objects.bulk_create(new)
        new.sort(key=lambda p: (p.timestamp, p.pk))
        if new:
            funding_inserted.send(sender=FundingPayment, payments=new)
    return new


def stored_trade(
    account: ExchangeAccount,
    trade_id: str,
    *,
    side: str,
    amount: str,
    price: str,
    cost: str,
    timestamp: datetime | int,
    fee: str = "0",
    fee_currency: str = "USDT",
    market_symbol: str = "BTC/USDT:USDT",
    leg: str = "",
    kind: str = "fill",
    contract_size: str = "1",
) -> Trade:
    """An unsaved Trade row with its deltas, as ingest stores one (for hedge legs, until ingest sets them)."""
    symbol = market_symbol.split(":")[0]
    base, quote = symbol.split("/")
    deltas = trade_deltas(
        side=side, amount=Decimal(amount), cost=Decimal(cost), base=base, quote=quote,
        contract_size=Decimal(contract_size), fee_cost=Decimal(fee), fee_currency=fee_currency,
    )
    return Trade(
        exchange=account, exchange_trade_id=trade_id, symbol=symbol, market_symbol=market_symbol, side=side, kind=kind,
        leg=leg, amount=Decimal(amount), contract_size=Decimal(contract_size), price=Decimal(price), cost=Decimal(cost),
        fee_cost=Decimal(fee), fee_currency=fee_currency, timestamp=_aware(timestamp),
        p1_delta=deltas.p1_delta, p2_delta=deltas.p2_delta, raw={"id": trade_id},
    )


def store_trades(trades: list[Trade]) -> list[Trade]:
    """Store new trades and send `trades_inserted` in one transaction, as ingest does."""
    with transaction.atomic():
        Trade.objects.bulk_create(trades)
        new = sorted(trades, key=lambda t: (t.timestamp, len(t.exchange_trade_id), t.exchange_trade_id))
        trades_inserted.send(sender=Trade, trades=new)
    return new
