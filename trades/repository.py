"""Reads of stored trades, async, for strategies and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, F, Q, Sum

from exchanges.decimals import average_price

from .models import FundingPayment, Trade


@dataclass(frozen=True)
class TradeStatistics:
    symbol: str
    start_time: datetime
    end_time: datetime | None
    count: int
    buy_volume: Decimal
    sell_volume: Decimal
    notional: Decimal
    fees: dict[str, Decimal]
    vwap: Decimal | None
    funding: dict[str, Decimal]  # per settle coin, received minus paid
    funding_paid: dict[str, Decimal]  # per settle coin, as positive amounts
    funding_received: dict[str, Decimal]


def of_symbol(symbol: str) -> Q:
    """Trades of `symbol`: a pair (`BTC/USDT`) matches every market of it, spot and perpetual; a
    full market symbol (`BTC/USDT:USDT`) that market only. Rows with the same two fields (marks)
    match the same way."""
    if ":" in symbol:
        return Q(market_symbol=symbol)
    return Q(symbol=symbol)


class TradeRepository:
    async def get_trades_by_symbol(self, symbol: str, exchange_id: int | None = None, limit: int = 100) -> list[Trade]:
        """The newest trades of a pair or of one market (see `of_symbol`), newest first."""
        query = Trade.objects.filter(of_symbol(symbol))
        if exchange_id is not None:
            query = query.filter(exchange_id=exchange_id)
        return [t async for t in query.order_by("-timestamp", "-id")[:limit]]

    async def get_trade_statistics(self, symbol: str, start_time: datetime, end_time: datetime | None = None) -> TradeStatistics:
        """Of a pair or of one market (see `of_symbol`): its trades, and the funding paid and received
        on it, in the time range."""
        query = Trade.objects.filter(of_symbol(symbol), timestamp__gte=start_time)
        payments = FundingPayment.objects.filter(of_symbol(symbol), timestamp__gte=start_time)
        if end_time is not None:
            query = query.filter(timestamp__lt=end_time)
            payments = payments.filter(timestamp__lt=end_time)
        base_amount = F("amount") * F("contract_size")
        totals = await query.aaggregate(
            count=Count("id"),
            buy_volume=Sum(base_amount, filter=Q(side="buy")),
            sell_volume=Sum(base_amount, filter=Q(side="sell")),
            volume=Sum(base_amount),
            notional=Sum("cost"),
        )
        fees = {
            row["fee_currency"]: row["total"]
            async for row in query.exclude(fee_currency="").values("fee_currency").annotate(total=Sum("fee_cost")).order_by("fee_currency")
        }
        funding, funding_paid, funding_received = {}, {}, {}
        async for row in (
            payments.values("currency")
            .annotate(total=Sum("amount"), paid=Sum("amount", filter=Q(amount__lt=0)), received=Sum("amount", filter=Q(amount__gt=0)))
            .order_by("currency")
        ):
            funding[row["currency"]] = row["total"]
            funding_paid[row["currency"]] = -(row["paid"] or Decimal(0))
            funding_received[row["currency"]] = row["received"] or Decimal(0)
        volume = totals["volume"] or Decimal(0)
        notional = totals["notional"] or Decimal(0)
        return TradeStatistics(
            symbol=symbol,
            start_time=start_time,
            end_time=end_time,
            count=totals["count"],
            buy_volume=totals["buy_volume"] or Decimal(0),
            sell_volume=totals["sell_volume"] or Decimal(0),
            notional=notional,
            fees=fees,
            vwap=average_price(notional, volume),
            funding=funding,
            funding_paid=funding_paid,
            funding_received=funding_received,
        )
