"""Operator pages: the live board of open positions and one position's page."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from exchanges.models import Market

from . import formatting
from .board import board_snapshot, market_type, page_tables, script_tables, tone
from .charts import line_chart
from .models import Position
from .selectors import latest_marks, mark_of, pnl_at_mark, position_history, position_trades
from .totals import base_coin, quote_coin


@login_required
def board(request):
    return render(request, "positions/board.html", {"tables": page_tables(board_snapshot()), "script_tables": script_tables()})


def _steps(position: Position) -> tuple[Decimal | None, Decimal | None]:
    """The amount step (in base units: a contract market counts its step in contracts) and the price
    step of the position's market, as `exchanges.markets` picks it; none while it is not loaded."""
    market = Market.objects.filter(account_id=position.exchange_id, symbol=position.symbol).order_by("id").first()
    return (market.amount_step * market.contract_size, market.price_step) if market else (None, None)


def _fees(position: Position, base: str, quote: str) -> dict[str, Decimal]:
    fees = {coin: Decimal(cost) for coin, cost in position.other_fees.items()}
    for coin, cost in ((base, position.p1_fee), (quote, position.p2_fee)):
        if cost:
            fees[coin] = fees.get(coin, Decimal(0)) + cost
    return fees


def _trade_rows(trades, history, base: str, quote: str, amount_step, price_step) -> list[dict]:
    """Each trade with the position as it stood after it, written as the pages write numbers."""
    after = {point.trade_id: point for point in history}
    rows = []
    for trade in trades:
        point = after.get(trade.exchange_trade_id)
        rows.append(
            {
                "trade": trade,
                "amount": formatting.amount(trade.amount * trade.contract_size, base, amount_step),
                "price": formatting.price(trade.price, quote, price_step),
                "cost": formatting.money(trade.cost, quote),
                "fee": formatting.money(trade.fee_cost, trade.fee_currency) if trade.fee_currency else formatting.money(trade.fee_cost, quote),
                "size_after": formatting.amount(point.size if point else None, base, amount_step),
                "pnl_after": formatting.money(point.pnl if point else None, quote),
                "pnl_tone": tone(point.pnl) if point else "",
            }
        )
    return rows


@login_required
def position_detail(request, pk: int):
    position = get_object_or_404(Position.objects.with_account().select_related("bot_instance"), pk=pk)
    base, quote = base_coin(position.symbol), quote_coin(position.symbol)
    amount_step, price_step = _steps(position)
    history = position_history(position)
    mark = mark_of(position, latest_marks([position.exchange_id]))
    pnl = pnl_at_mark(position, mark)
    sizes = [(point.time, point.p1) for point in history]
    pnls = [(point.time, point.pnl) for point in history]
    if mark is not None and history:
        now = max(timezone.now(), history[-1].time)
        sizes.append((now, position.p1))
        pnls.append((now, pnl))
    notional = position.size * mark.price if mark is not None else None
    context = {
        "position": position,
        "market_type": market_type(position.exchange.market_type),
        "facts": {
            "size": formatting.amount(position.size, base, amount_step),
            "entry": formatting.price(position.avg_price, quote, price_step),
            "mark": formatting.price(mark.price if mark else None, quote, price_step),
            "notional": formatting.money(notional, quote),
            "unrealised": formatting.money(pnl, quote),
            "unrealised_tone": tone(pnl),
            "realised": formatting.money(position.realized_pnl, quote),
            "realised_tone": tone(position.realized_pnl),
            "fees": formatting.per_coin(_fees(position, base, quote)),
        },
        "details": [
            ("p1", f"Base balance change ({base}): bought minus sold, fees in {base} taken", formatting.amount(position.p1, base, amount_step)),
            ("p2", f"Quote balance change ({quote}): received minus spent, fees in {quote} taken", formatting.money(position.p2, quote)),
            ("p1_fee", f"Fees paid in {base}", formatting.amount(position.p1_fee, base, amount_step)),
            ("p2_fee", f"Fees paid in {quote}", formatting.money(position.p2_fee, quote)),
            *(
                ("other_fees", f"Fees paid in {coin} (not in the PnL)", formatting.money(Decimal(cost), coin))
                for coin, cost in sorted(position.other_fees.items())
            ),
        ],
        "base": base,
        "quote": quote,
        "mark": mark,
        "rows": _trade_rows(list(position_trades(position)), history, base, quote, amount_step, price_step),
        "charts": [
            chart
            for chart in (
                line_chart(
                    f"Size ({base}, short below zero)", sizes, steps=True, label=lambda v: formatting.amount(v, base, amount_step).text
                ),
                line_chart(
                    f"PnL ({quote}) at each trade's price" + (", then at the mark" if mark else ""),
                    pnls,
                    label=lambda v: formatting.money(v, quote).text,
                ),
            )
            if chart
        ],
    }
    return render(request, "positions/position.html", context)
