"""The operator board: what `/positions/` shows, as plain strings ready to display. The page renders it
once; its WebSocket sends it again after every change of positions or marks.

Each row holds, per field, the text to show (numbers written by `positions.formatting`), and beside
it `exact` (the exact decimal of each number, for the cell's title and data attribute) and `css` (each
cell's classes); `badge` a word shown before a cell's text. The page's template and its script both
render a row from these alone, so a cell reads the same whether the server or the socket drew it."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from exchanges.models import BotInstance, ExchangeAccount, Market, PositionMode
from exchanges.venues import VENUES
from trades.health import DOWN, sync_health

from . import formatting
from .fold import break_even_price, pnl_at_price, side_of
from .formatting import Shown
from .models import MarkPrice, Position
from .selectors import booked_totals
from .totals import ALL_ACCOUNTS, OpenPnl, Totals, account_totals, base_coin, quote_coin


def moment(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60}s"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600}h"


def tone(value: Decimal | None) -> str:
    return "" if value is None else "gain" if value > 0 else "loss" if value < 0 else ""


def market_type(venue_name: str) -> str:
    """What the board calls the market type of an account's venue: "spot", "perp"."""
    venue = VENUES.get(venue_name)
    return venue.market_label if venue else venue_name


def pays_funding(venue_name: str) -> bool:
    """Whether an account's venue books funding: its markets are perpetual swaps."""
    venue = VENUES.get(venue_name)
    return venue is not None and venue.market_type == "swap"


class Column(NamedTuple):
    field: str
    title: str
    numeric: bool = False
    shown_for: str = ""  # "" always; HEDGE while an account is in hedge mode; FUNDING while one books funding


HEDGE, FUNDING = "hedge", "funding"

# The board's tables, in order: the template draws its header and cells from these, the page's script
# its cells. Every row has every field; a column `shown_for` something is drawn only when the tracker
# has it (see `visible_columns`).
COLUMNS = {
    "positions": [
        Column("account", "Account"), Column("bot", "Bot"), Column("symbol", "Symbol"), Column("type", "Type"),
        Column("leg", "Leg", shown_for=HEDGE), Column("side", "Side"), Column("size", "Size", True),
        Column("avg_price", "Entry price", True), Column("mark", "Mark", True), Column("notional", "Notional", True),
        Column("funding", "Funding to date", True, FUNDING), Column("pnl", "Unrealised PnL", True),
        Column("pnl_without_funding", "Unrealised PnL without funding", True, FUNDING), Column("last_trade", "Last trade (UTC)"),
    ],
    "nets": [
        Column("symbol", "Symbol"), Column("type", "Types"), Column("side", "Side"), Column("net", "Net size", True),
        Column("avg_price", "Entry price", True), Column("mark", "Mark", True), Column("funding", "Funding to date", True, FUNDING),
        Column("pnl", "Unrealised PnL", True), Column("last_trade", "Last trade (UTC)"),
    ],
    "totals": [
        Column("account", "Account"), Column("type", "Type"), Column("coin", "Coin"), Column("realised", "Realised PnL", True),
        Column("unrealised", "Unrealised PnL", True), Column("funding", "Funding", True, FUNDING), Column("total", "Total PnL", True),
        Column("total_without_funding", "Total PnL without funding", True, FUNDING), Column("fees", "Fees paid", True),
    ],
    "health": [
        Column("account", "Account"), Column("ws", "WebSocket"), Column("ws_since", "Connected since (UTC)"),
        Column("last_rest_sync", "Last REST sync (UTC)"), Column("lag", "Lag", True), Column("rejected", "Kept aside", True),
        Column("audit", "Last gap audit (UTC)"), Column("error", "Down because / last error"),
    ],
}
EMPTY = {"positions": "No open positions.", "nets": "No open positions.", "totals": "No positions yet.", "health": "No enabled accounts."}


def board_row(table: str, key: str, values: dict[str, str | Shown], css: dict[str, str] | None = None, **extra) -> dict:
    """A row of `table` from its cells' values: a `Shown` number gives its text and its exact value."""
    css = css or {}
    row = {"key": key, **extra, "exact": {}, "css": {}}
    for column in COLUMNS[table]:
        value = values.get(column.field, "")
        if isinstance(value, Shown):
            row[column.field], row["exact"][column.field] = value.text, value.exact
        else:
            row[column.field] = value
        classes = " ".join(c for c in ("num" if column.numeric else "", css.get(column.field, "")) if c)
        if classes:
            row["css"][column.field] = classes
    return row


class OpenPosition(NamedTuple):
    """What the board shows of an open position, with its account's and bot's names, its account's
    market type, its market's steps (the amount step in base units; none when the market is not
    loaded) and its mark."""

    id: int
    exchange_id: int
    bot_instance_id: int | None
    symbol: str
    leg: str
    side: str
    size: Decimal
    avg_price: Decimal | None
    p1: Decimal
    p2: Decimal
    p2_fee: Decimal
    funding: Decimal
    last_update_time: datetime
    account: str
    venue: str
    bot: str | None
    amount_step: Decimal | None
    price_step: Decimal | None
    mark_price: Decimal | None
    marked_at: datetime | None

    @property
    def pnl(self) -> Decimal | None:
        """At the mark, funding included."""
        return None if self.mark_price is None else pnl_at_price(self.p1, self.p2, self.mark_price, self.funding)

    @property
    def pnl_without_funding(self) -> Decimal | None:
        return None if self.mark_price is None else pnl_at_price(self.p1, self.p2, self.mark_price)

    @property
    def notional(self) -> Decimal | None:
        return None if self.mark_price is None else self.size * self.mark_price


# One statement and no ORM: a live page reads this after every trade, and compiling the ORM's two
# queries (positions with their account and bot, then the latest marks) cost more than running them.
# The mark is the newest per (account, symbol), as `selectors.latest_marks` picks it; the market the
# first of the account's with the symbol, as `exchanges.markets` picks it, and its amount step in base
# units (a contract market counts its step in contracts).
_OPEN_POSITIONS = f"""
SELECT p.id, p.exchange_id, p.bot_instance_id, p.symbol, p.leg, p.side, p.size, p.avg_price, p.p1, p.p2, p.p2_fee,
       p.funding, p.last_update_time, a.name, a.venue, b.name, k.amount_step * k.contract_size, k.price_step, m.price, m.fetched_at
FROM {Position._meta.db_table} p
JOIN {ExchangeAccount._meta.db_table} a ON a.id = p.exchange_id
LEFT JOIN {BotInstance._meta.db_table} b ON b.id = p.bot_instance_id
LEFT JOIN LATERAL (
    SELECT amount_step, contract_size, price_step FROM {Market._meta.db_table}
    WHERE account_id = p.exchange_id AND symbol = p.symbol
    ORDER BY id LIMIT 1
) k ON true
LEFT JOIN LATERAL (
    SELECT price, fetched_at FROM {MarkPrice._meta.db_table}
    WHERE account_id = p.exchange_id AND symbol = p.symbol
    ORDER BY fetched_at DESC, id DESC LIMIT 1
) m ON true
WHERE p.is_open
ORDER BY a.name, p.symbol, b.name, p.leg
"""


def open_positions() -> list[OpenPosition]:
    with connection.cursor() as cursor:
        cursor.execute(_OPEN_POSITIONS)
        return [OpenPosition(*row) for row in cursor.fetchall()]


@lru_cache(maxsize=4096)
def detail_url(position_id: int) -> str:
    return reverse("positions:detail", args=[position_id])


def book_key(position: OpenPosition) -> str:
    key = f"{position.exchange_id}:{position.bot_instance_id or ''}:{position.symbol}"
    return f"{key}:{position.leg}" if position.leg else key


def _position_row(position: OpenPosition) -> dict:
    base, quote = base_coin(position.symbol), quote_coin(position.symbol)
    return board_row(
        "positions",
        book_key(position),
        {
            "account": position.account,
            "bot": position.bot or "",
            "symbol": position.symbol,
            "type": market_type(position.venue),
            "leg": position.leg,
            "side": position.side,
            "size": formatting.amount(position.size, base, position.amount_step),
            "avg_price": formatting.price(position.avg_price, quote, position.price_step),
            "mark": formatting.price(position.mark_price, quote, position.price_step),
            "notional": formatting.money(position.notional, quote),
            "funding": formatting.money(position.funding, quote),
            "pnl": formatting.money(position.pnl, quote),
            "pnl_without_funding": formatting.money(position.pnl_without_funding, quote),
            "last_trade": moment(position.last_update_time),
        },
        {"side": f"side-{position.side}", "pnl": tone(position.pnl), "funding": tone(position.funding)},
        url=detail_url(position.id),
    )


def board_snapshot(now: datetime | None = None, health: list[dict] | None = None) -> dict:
    """`health`: the rows of `health_rows` when the caller has them fresh enough."""
    now = now or timezone.now()
    positions = open_positions()
    by_symbol: dict[str, list[OpenPosition]] = defaultdict(list)
    for position in positions:
        by_symbol[position.symbol].append(position)
    return {
        "generated_at": moment(now),
        "positions": [_position_row(position) for position in positions],
        "nets": [_net_row(symbol, entries) for symbol, entries in sorted(by_symbol.items())],
        "totals": totals_rows(positions),
        "health": health if health is not None else health_rows(now),
    }


def totals_rows(positions: list[OpenPosition]) -> list[dict]:
    """Realised, unrealised and total PnL and the fees paid, per account and quote coin, then over
    all accounts per quote coin."""
    booked = booked_totals()
    totals = account_totals(booked, (OpenPnl(p.account, p.symbol, p.pnl) for p in positions))
    types = {row.account: market_type(row.venue) for row in booked}
    ordered = sorted(totals.items(), key=lambda item: (item[0][0] == ALL_ACCOUNTS, item[0]))
    return [_totals_row(account, types.get(account, ""), coin, sums) for (account, coin), sums in ordered]


def _totals_row(account: str, kind: str, coin: str, sums: Totals) -> dict:
    unrealised = formatting.money(sums.unrealised, coin)
    if sums.unpriced:
        unrealised = unrealised._replace(text=f"{unrealised.text} + {sums.unpriced} without a mark")
    everyone = account == ALL_ACCOUNTS
    emphasis = "total" if everyone else ""
    return board_row(
        "totals",
        f"{'*' if everyone else account}:{coin}",
        {
            "account": "All accounts" if everyone else account,
            "type": kind,
            "coin": coin,
            "realised": formatting.money(sums.realised, coin),
            "unrealised": unrealised,
            "funding": formatting.money(sums.funding, coin),
            "total": formatting.money(sums.total, coin),
            "total_without_funding": formatting.money(sums.total_without_funding, coin),
            "fees": formatting.per_coin(sums.fees),
        },
        {
            "account": emphasis,
            "realised": f"{tone(sums.realised)} {emphasis}".strip(),
            "unrealised": f"{tone(sums.unrealised)} {emphasis}".strip(),
            "funding": f"{tone(sums.funding)} {emphasis}".strip(),
            "total": f"{tone(sums.total)} {emphasis}".strip(),
            "total_without_funding": f"{tone(sums.total_without_funding)} {emphasis}".strip(),
            "fees": emphasis,
        },
    )


def health_rows(now: datetime) -> list[dict]:
    """The board's sync health table: a few queries, so a live page reuses it for a moment. An account
    whose sync stopped is down: its reason shows after a "down" badge; a stream that is not connected
    shows its last error as a loss; a connected one its last error muted, as history."""
    rows = []
    for h in sync_health(now=now):
        if not h.enabled:
            continue
        down = h.state == DOWN
        ws = "stopped" if down else "up" if h.ws_connected else "down"
        error_css = "reason" if down else "loss" if ws == "down" else "muted"
        rows.append(
            board_row(
                "health",
                h.account,
                {
                    "account": h.account,
                    "ws": ws,
                    "ws_since": moment(h.ws_connected_since),
                    "last_rest_sync": moment(h.last_rest_sync),
                    "lag": duration(h.lag_seconds),
                    "error": h.reason or h.last_error,
                    "rejected": str(h.rejected_trades),
                    "audit": _audit_text(h),
                },
                {"ws": f"ws-{ws}", "error": error_css},
                badge={"error": "down"} if down else {},
            )
        )
    return rows


def _audit_text(h) -> str:
    if not h.last_audit_at:
        return ""
    differing = f", {h.last_audit_differing} differ" if h.last_audit_differing else ""
    return f"{h.last_audit_missing} missing{differing} of {h.last_audit_checked} at {moment(h.last_audit_at)}"


def _finest(steps) -> Decimal | None:
    return min((step for step in steps if step), default=None)


def _net_row(symbol: str, positions: list[OpenPosition]) -> dict:
    net = sum((p.p1 for p in positions), Decimal(0))
    funding = sum((p.funding for p in positions), Decimal(0))
    pnls = [p.pnl for p in positions]
    pnl = sum(pnls, Decimal(0)) if None not in pnls else None
    marked = [p for p in positions if p.mark_price is not None]
    newest = max(marked, key=lambda p: p.marked_at, default=None)
    avg_price = break_even_price(net, sum((p.p2 for p in positions), Decimal(0)), sum((p.p2_fee for p in positions), Decimal(0)))
    side = side_of(net)
    amount_step, price_step = _finest(p.amount_step for p in positions), _finest(p.price_step for p in positions)
    coin = quote_coin(symbol)
    return board_row(
        "nets",
        symbol,
        {
            "symbol": symbol,
            "type": " + ".join(sorted({market_type(p.venue) for p in positions})),
            "side": side,
            "net": formatting.amount(abs(net), base_coin(symbol), amount_step),
            "avg_price": formatting.price(avg_price, coin, price_step),
            "mark": formatting.price(newest.mark_price if newest else None, coin, price_step),
            "funding": formatting.money(funding, coin),
            "pnl": formatting.money(pnl, coin),
            "last_trade": moment(max(p.last_update_time for p in positions)),
        },
        {"side": f"side-{side}", "pnl": tone(pnl), "funding": tone(funding)},
    )


HEADINGS = {
    "positions": "Open positions",
    "totals": "PnL and fees per account",
    "nets": "Net per symbol, all accounts",
    "health": "Sync health",
}


def visible_columns() -> dict[str, list[Column]]:
    """Each table's columns as the page draws them: the leg while an account is in hedge mode, the
    funding while an account's venue books funding. Read when the page loads; its socket redraws the
    same columns."""
    accounts = ExchangeAccount.objects.without_credentials().values_list("venue", "position_mode")
    has = {"": True, HEDGE: False, FUNDING: False}
    for venue, mode in accounts:
        has[HEDGE] = has[HEDGE] or mode == PositionMode.HEDGE
        has[FUNDING] = has[FUNDING] or pays_funding(venue)
    return {name: [column for column in columns if has[column.shown_for]] for name, columns in COLUMNS.items()}


def page_tables(board: dict, columns: dict[str, list[Column]] | None = None) -> list[dict]:
    """The board's tables as the page lays them out: heading, columns, rows, what an empty one says,
    and whether it shows funding."""
    columns = columns or visible_columns()
    return [
        {
            "name": name,
            "heading": heading,
            "columns": columns[name],
            "rows": board[name],
            "empty": EMPTY[name],
            "funding": any(column.shown_for == FUNDING for column in columns[name]),
        }
        for name, heading in HEADINGS.items()
    ]


def script_tables(columns: dict[str, list[Column]] | None = None) -> dict:
    """What the page's script needs to redraw each table from a board: its fields and empty text."""
    columns = columns or visible_columns()
    return {name: {"fields": [column.field for column in columns[name]], "empty": EMPTY[name]} for name in columns}
