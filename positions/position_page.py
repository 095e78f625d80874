"""One position's page, `/positions/ID/`: what it shows, as the page's template renders it once and its
WebSocket sends it again after every change of the position's book or of its mark.

The parts that change (heading, summary, detail table, trades) are one template, `LIVE_TEMPLATE`:
the page includes it, and the socket sends what it renders, so the page reads the same whether the
server or the socket drew it. The chart (`charts`) is drawn in the browser from its
own JSON, which the page reads again after each change."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from django.template.loader import render_to_string

from exchanges.models import Market

from . import formatting
from .board import market_type, pays_funding, tone
from .charts import ChartPlan, plan_chart
from .models import Position
from .selectors import (
    latest_marks,
    mark_of,
    pnl_at_mark,
    position_funding,
    position_history,
    position_trades,
    realised_without_funding,
)
from .services import Book
from .totals import base_coin, quote_coin

LIVE_TEMPLATE = "positions/position_live.html"


def steps(position: Position) -> tuple[Decimal | None, Decimal | None]:
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


def position_page(position_id: int) -> dict:
    """The page's context: the position, its summary, its detail table, its charts and its trades.
    Raises `Position.DoesNotExist` for a position there is not (or no longer: a late trade refolds its
    book into new positions)."""
    position = Position.objects.with_account().select_related("bot_instance").get(pk=position_id)
    base, quote = base_coin(position.symbol), quote_coin(position.symbol)
    amount_step, price_step = steps(position)
    history = position_history(position)
    mark = mark_of(position, latest_marks([position.exchange_id]))
    pnl = pnl_at_mark(position, mark)
    pnl_without_funding = pnl_at_mark(position, mark, with_funding=False)
    realised_trades = realised_without_funding(position)
    payments = list(position_funding(position))
    funded = pays_funding(position.exchange.venue) or position.funding_count > 0
    notional = position.size * mark.price if mark is not None else None
    return {
        "position": position,
        "market_type": market_type(position.exchange.venue),
        "funded": funded,
        "facts": {
            "size": formatting.amount(position.size, base, amount_step),
            "entry": formatting.price(position.avg_price, quote, price_step),
            "mark": formatting.price(mark.price if mark else None, quote, price_step),
            "notional": formatting.money(notional, quote),
            "unrealised": formatting.money(pnl, quote),
            "unrealised_tone": tone(pnl),
            "unrealised_without_funding": formatting.money(pnl_without_funding, quote),
            "realised": formatting.money(position.realized_pnl, quote),
            "realised_tone": tone(position.realized_pnl),
            "realised_without_funding": formatting.money(realised_trades, quote),
            "funding": formatting.money(position.funding, quote),
            "funding_tone": tone(position.funding),
            "funding_paid": formatting.money(position.funding_paid, quote),
            "funding_received": formatting.money(position.funding_received, quote),
            "fees": formatting.per_coin(_fees(position, base, quote)),
        },
        "funding_rows": [
            {
                "payment": payment,
                "amount": formatting.money(payment.amount, payment.currency),
                "tone": tone(payment.amount),
                "rate": payment.rate,
                "size": payment.position_size,
            }
            for payment in payments
        ],
        "details": [
            ("p1", f"Base balance change ({base}): bought minus sold, fees in {base} taken", formatting.amount(position.p1, base, amount_step)),
            ("p2", f"Quote balance change ({quote}): received minus spent, fees in {quote} taken", formatting.money(position.p2, quote)),
            ("p1_fee", f"Fees paid in {base}", formatting.amount(position.p1_fee, base, amount_step)),
            ("p2_fee", f"Fees paid in {quote}", formatting.money(position.p2_fee, quote)),
            *(
                [("funding", f"Funding ({quote}): received minus paid, in the PnL", formatting.money(position.funding, quote))]
                if funded
                else []
            ),
            *(
                ("other_fees", f"Fees paid in {coin} (not in the PnL)", formatting.money(Decimal(cost), coin))
                for coin, cost in sorted(position.other_fees.items())
            ),
        ],
        "base": base,
        "quote": quote,
        "mark": mark,
        "rows": _trade_rows(list(position_trades(position)), history, base, quote, amount_step, price_step),
    }


class LivePosition(NamedTuple):
    """What the page's socket sends (`html`: the live part, rendered) and what it listens for: the
    position's book, and whether it is open (a closed position has no mark). `book` is none when the
    position is gone."""

    html: str
    book: Book | None
    is_open: bool


def chart_plan(position_id: int) -> ChartPlan:
    """What the position's chart needs from the database (`charts.plan_chart`); `Position.DoesNotExist`
    as `position_page`."""
    position = Position.objects.with_account().get(pk=position_id)
    amount_step, price_step = steps(position)
    return plan_chart(position, amount_step, price_step)


def live_position(position_id: int) -> LivePosition:
    try:
        context = position_page(position_id)
    except Position.DoesNotExist:
        return LivePosition(render_to_string(LIVE_TEMPLATE, {"gone": True}), None, False)
    position = context["position"]
    return LivePosition(render_to_string(LIVE_TEMPLATE, context), Book.of(position), position.is_open)


def concerns(watched: LivePosition, event: dict) -> bool:
    """Whether a change the channel layer announces can change the watched page: a `positions.changed`
    naming its book, or, while it is open, a `marks.changed` for its account and symbol."""
    book = watched.book
    if book is None:
        return False
    if event["type"] == "positions.changed":
        return any(Book(**changed) == book for changed in event["books"])
    if event["type"] == "marks.changed":
        return watched.is_open and event["account_id"] == book.exchange_id and book.symbol in event["symbols"]
    return False
