"""Every fill the simulator has executed: the ground truth that every protocol serves.

A `Book` is one account's fills in one market, oldest first: the pre-loaded history (computed on
demand, see `generator.History`) followed by the fills executed since start, kept in integer
columns (amounts in amount steps, prices in price steps, fees in units of 1e-12).
`Book.fill(i)` turns either back into exact `Decimal`s.

A perpetual's book also holds what changes or charges a position besides the account's own fills,
as the venue books them: liquidations, auto-deleveraging and settlement fills (each a fill of an
order of the venue's), and funding settlements (a row per open position that changes no size). Each
live fill has a kind (`KINDS`) and a leg: 0 for a one-way account's net position, `LONG` or `SHORT`
for a hedge-mode account's. The position of each fill's leg after it is worked out on demand
(`position_after`), from the history on, so that what a venue reports per execution (the size it
closed) and per position follows from the fills themselves.
"""

from __future__ import annotations

import bisect
from array import array
from decimal import Decimal
from typing import NamedTuple

from .accounts import AccountConfig, MarketConfig, SimConfig
from .generator import History, Row
from .money import FEE_EXPONENT, Rejected, plain, scaled, step_parts, strip

KINDS = ("trade", "liquidation", "adl", "settlement", "delivery", "funding")
TRADE, FUNDING = 0, KINDS.index("funding")
CLOSING_KINDS = frozenset(KINDS.index(k) for k in ("liquidation", "adl", "settlement", "delivery"))  # only ever reduce a position
NET, LONG, SHORT = 0, 1, 2  # legs, numbered as Bybit's positionIdx
LEG_NAMES = {NET: "", LONG: "long", SHORT: "short"}


class Fill(NamedTuple):
    """One executed fill. Numbers are exact decimal strings with the market's decimals (0.04366)."""

    account: str
    protocol: str
    symbol: str
    market_id: str
    index: int  # position in its book
    trade_id: str
    order_id: str
    side: str  # buy / sell
    amount: str
    price: str
    cost: str
    fee: str
    fee_coin: str
    maker: bool
    timestamp: int  # epoch milliseconds
    order_qty: str
    order_price: str
    order_type: str  # LIMIT / MARKET
    order_created: int
    cum_qty: str  # the order's filled amount after this fill
    cum_quote: str
    leaves_qty: str  # the order's amount still open after this fill
    seq: int
    kind: str = "trade"  # one of KINDS
    leg: int = NET  # NET, LONG or SHORT
    closed_size: str = "0"  # how much of the leg's position this fill closed
    rate: str = ""  # a funding row's rate
    position_size: str = "0"  # the leg's size after the fill (a funding row: the size it was charged on)

    def truth(self) -> dict:
        """The ground-truth record, as `GET /_sim/trades` (or, for funding, `GET /_sim/funding`) shows it."""
        if self.kind == "funding":
            return {
                "account": self.account,
                "symbol": self.symbol,
                "market_id": self.market_id,
                "id": self.trade_id,
                "leg": LEG_NAMES[self.leg],
                "side": self.side,
                "position_size": strip(self.amount),
                "mark_price": strip(self.price),
                "rate": self.rate,
                "amount": plain(-Decimal(self.fee)),  # + received, - paid
                "currency": self.fee_coin,
                "timestamp": self.timestamp,
            }
        return {
            "account": self.account,
            "symbol": self.symbol,
            "market_id": self.market_id,
            "id": self.trade_id,
            "order_id": self.order_id,
            "side": self.side,
            "kind": self.kind,
            "leg": LEG_NAMES[self.leg],
            "amount": strip(self.amount),
            "price": strip(self.price),
            "cost": strip(self.cost),
            "fee": strip(self.fee),
            "fee_coin": self.fee_coin,
            "taker_or_maker": "maker" if self.maker else "taker",
            "timestamp": self.timestamp,
            "closed_size": strip(self.closed_size),
        }



class _Times:
    """The book's timestamps as a sequence, for `bisect`."""

    def __init__(self, book: Book):
        self.book = book

    def __len__(self) -> int:
        return len(self.book)

    def __getitem__(self, i: int) -> int:
        return self.book.timestamp(i)


class Book:
    """One account's fills in one market, oldest first."""

    def __init__(self, account: AccountConfig, market: MarketConfig, number: int, seed: int, *, history: int = 0, start: int = 0, end: int = 1):
        self.account, self.market, self.seed = account, market, seed
        self.number = number  # the book's place in the ledger: part of its order ids and seqs, and orders fills across books
        self.coins = [market.quote, market.base]
        self.history = History(account, market, self.coins, count=history, start=start, end=end, seed=seed) if history else None
        self.history_len = history
        self.first_live_order = self.history.orders if self.history else 0
        # live fills, one row each
        self.ts, self.qty, self.px, self.fee = array("q"), array("q"), array("q"), array("q")
        self.coin, self.maker = array("B"), array("B")
        self.order, self.cum, self.cum_quote = array("q"), array("q"), array("q")
        # live orders, one row each
        self.order_buy, self.order_market = array("B"), array("B")
        self.order_qty, self.order_px, self.order_created = array("q"), array("q"), array("q")
        self.order_filled, self.order_filled_quote = array("q"), array("q")
        # perpetuals: each live fill's kind and leg, funding rates by fill index, the live fills that
        # are not trades (few: listed for the calls that ask for one kind), each fill's leg position after it
        self.kind, self.leg = array("B"), array("B")
        self.rates: dict[int, str] = {}
        self.special: list[int] = []
        self.hedge = bool(getattr(account, "hedge", False))
        self._after = array("q")
        self._open = {NET: 0, LONG: 0, SHORT: 0}  # each leg's signed size after the fills in _after
        self.labels: dict[str, int] = {}  # POST /_sim/trades order label -> order number
        self.journal = None  # a `state.StateFile` recording every order and fill, if the ledger is kept
        self._steps = (step_parts(market.amount_step), step_parts(market.price_step))

    def __len__(self) -> int:
        return self.history_len + len(self.ts)

    def coin_index(self, coin: str) -> int:
        if coin not in self.coins:
            if len(self.coins) >= 255:
                raise Rejected("too many fee coins in one market")
            self.coins.append(coin)
        return self.coins.index(coin)

    # --- executing -----------------------------------------------------------------------------

    def open_order(self, *, buy: bool, qty: int, price: int, market_order: bool, created: int, label=None) -> int:
        """Open a live order; `label` names it for later POST /_sim/trades fills. Returns its number."""
        self.order_buy.append(buy)
        self.order_market.append(market_order)
        self.order_qty.append(qty)
        self.order_px.append(price)
        self.order_created.append(created)
        self.order_filled.append(0)
        self.order_filled_quote.append(0)
        order = self.first_live_order + len(self.order_qty) - 1
        if label is not None:
            self.labels[label] = order
        if self.journal is not None:
            self.journal.order(self, order, label)
        return order

    def order_side_is_buy(self, order: int) -> bool:
        return bool(self.order_buy[order - self.first_live_order])

    def opening_leg(self, buy: bool) -> int:
        """The leg an order opens or adds to when it names none: a hedge-mode buy the long, a sell the short."""
        if not self.hedge:
            return NET
        return LONG if buy else SHORT

    def add_fill(
        self, order: int, *, ts: int, qty: int, price: int, fee: int, coin: int, maker: bool, kind: int = TRADE, leg: int | None = None, rate: str = ""
    ) -> int:
        """Append a fill of live `order`; timestamps never go backwards within a book. Returns its index."""
        k = order - self.first_live_order
        if leg is None:
            leg = self.opening_leg(bool(self.order_buy[k]))
        last = self.timestamp(len(self) - 1) if len(self) else ts
        ts = max(ts, last)
        filled = self.order_filled[k] + qty
        filled_quote = self.order_filled_quote[k] + qty * price
        self.order_qty[k] = max(self.order_qty[k], filled)
        self.order_filled[k] = filled
        self.order_filled_quote[k] = filled_quote
        for column, value in (
            (self.ts, ts), (self.qty, qty), (self.px, price), (self.fee, fee), (self.coin, coin), (self.maker, maker),
            (self.order, order), (self.cum, filled), (self.cum_quote, filled_quote),
        ):
            column.append(value)
        self.kind.append(kind)
        self.leg.append(leg)
        index = len(self) - 1
        if kind != TRADE:
            self.special.append(index)
        if rate:
            self.rates[index] = rate
        if self.journal is not None:
            self.journal.fill(self, order, ts=ts, qty=qty, price=price, fee=fee, coin=coin, maker=maker, kind=kind, leg=leg, rate=rate)
        return index

    # --- positions -----------------------------------------------------------------------------

    def kind_of(self, i: int) -> int:
        return TRADE if i < self.history_len else self.kind[i - self.history_len]

    def leg_of(self, i: int, buy: bool) -> int:
        if i < self.history_len:
            return self.opening_leg(buy)  # generated history only opens and adds (a hedge-mode account's legs grow)
        return self.leg[i - self.history_len]

    def _delta(self, i: int, row: Row) -> tuple[int, int]:
        """(leg, signed size change) of fill `i`; a funding row changes no size."""
        if self.kind_of(i) == FUNDING:
            return self.leg_of(i, row.buy), 0
        return self.leg_of(i, row.buy), row.qty if row.buy else -row.qty

    def position_after(self, i: int) -> int:
        """The signed size (amount steps) of fill `i`'s leg after it."""
        while len(self._after) <= i:
            j = len(self._after)
            leg, delta = self._delta(j, self.row(j))
            self._open[leg] += delta
            self._after.append(self._open[leg])
        return self._after[i]

    def open_positions(self) -> dict[int, int]:
        """Each leg's signed size now (amount steps), the legs of the account's mode only."""
        if len(self):
            self.position_after(len(self) - 1)
        return {leg: size for leg, size in self._open.items() if (leg != NET) == self.hedge}

    def closed_by(self, i: int, row: Row) -> int:
        """How much of its leg's position fill `i` closed (amount steps)."""
        _, delta = self._delta(i, row)
        after = self.position_after(i)
        before = after - delta
        if delta == 0 or before == 0 or (before > 0) == (delta > 0):
            return 0
        return min(abs(before), abs(delta))

    # --- reading -------------------------------------------------------------------------------

    def timestamp(self, i: int) -> int:
        if i < self.history_len:
            return self.history.timestamp(i)
        return self.ts[i - self.history_len]

    def row(self, i: int) -> Row:
        if i < self.history_len:
            return self.history.row(i)
        j = i - self.history_len
        k = self.order[j] - self.first_live_order
        return Row(
            ts=self.ts[j], qty=self.qty[j], price=self.px[j], fee=self.fee[j], coin=self.coin[j], maker=bool(self.maker[j]),
            order=self.order[j], buy=bool(self.order_buy[k]), market_order=bool(self.order_market[k]),
            order_qty=self.order_qty[k], order_price=self.order_px[k], order_created=self.order_created[k],
            cum=self.cum[j], cum_quote=self.cum_quote[j],
        )

    def trade_id(self, index: int) -> str:
        return self.account.venue.trade_id(self, index)

    def order_id(self, order: int) -> str:
        return self.account.venue.order_id(self, order)

    def seq(self, index: int) -> int:
        return (self.number + 1) * 10_000_000_000 + index

    def last_price(self) -> str:
        """The ticker's price: the latest fill's, or the market's starting price before any fill."""
        return self.fill(len(self) - 1).price if len(self) else plain(self.market.price)

    def fill(self, i: int) -> Fill:
        r = self.row(i)
        (step, step_exp), (tick, tick_exp) = self._steps
        quote_exp = step_exp + tick_exp
        return Fill(
            account=self.account.name,
            protocol=self.account.protocol,
            symbol=self.market.symbol,
            market_id=self.market.market_id,
            index=i,
            trade_id=self.trade_id(i),
            order_id=self.order_id(r.order),
            side="buy" if r.buy else "sell",
            amount=scaled(r.qty * step, step_exp),
            price=scaled(r.price * tick, tick_exp),
            cost=scaled(r.qty * r.price * step * tick, quote_exp),
            fee=scaled(r.fee, FEE_EXPONENT),
            fee_coin=self.coins[r.coin],
            maker=r.maker,
            timestamp=r.ts,
            order_qty=scaled(r.order_qty * step, step_exp),
            order_price=scaled(r.order_price * tick, tick_exp),
            order_type="MARKET" if r.market_order else "LIMIT",
            order_created=r.order_created,
            cum_qty=scaled(r.cum * step, step_exp),
            cum_quote=scaled(r.cum_quote * step * tick, quote_exp),
            leaves_qty=scaled((r.order_qty - r.cum) * step, step_exp),
            seq=self.seq(i),
            **(self._perpetual_fields(i, r) if self.market.settle else {}),
        )

    def _perpetual_fields(self, i: int, r: Row) -> dict:
        (step, step_exp), _ = self._steps
        kind = self.kind_of(i)
        fields = {"kind": KINDS[kind], "leg": self.leg_of(i, r.buy)}
        if kind == FUNDING:
            fields["rate"] = self.rates.get(i, "")
            fields["position_size"] = scaled(r.qty * step, step_exp)
        else:
            fields["closed_size"] = scaled(self.closed_by(i, r) * step, step_exp)
            fields["position_size"] = scaled(abs(self.position_after(i)) * step, step_exp)
        return fields

    def first_at_or_after(self, ts: int) -> int:
        return bisect.bisect_left(_Times(self), ts)

    def first_after(self, ts: int) -> int:
        return bisect.bisect_right(_Times(self), ts)


class Ledger:
    def __init__(self, config: SimConfig, history_windows: dict[str, tuple[int, int]] | None = None):
        """`history_windows`: account name -> (start, end) of its pre-loaded history, in epoch ms."""
        self.books: dict[tuple[str, str], Book] = {}
        for account in config.accounts:
            start, end = (history_windows or {}).get(account.name, (0, 1))
            total, count = account.history.trades if history_windows else 0, len(account.markets)
            for n, market in enumerate(account.markets):
                share = total // count + (1 if n < total % count else 0)
                number = len(self.books)  # unique over all accounts: ids built on it never collide
                self.books[(account.name, market.symbol)] = Book(account, market, number, config.seed, history=share, start=start, end=end)

    def book(self, account: str, symbol: str) -> Book:
        return self.books[(account, symbol)]

    def books_of(self, account: str) -> list[Book]:
        return [book for (name, _), book in self.books.items() if name == account]

    def book_by_market_id(self, account: str, market_id: str) -> Book | None:
        return next((b for b in self.books_of(account) if b.market.market_id == market_id), None)

    def fills(self, *, account: str | None = None, symbol: str | None = None, since: int | None = None, until: int | None = None, funding: bool = False):
        """Fills in execution order within each book, books one after another: the fills that change
        positions, or (`funding`) the funding rows."""
        for (name, market_symbol), book in self.books.items():
            if (account and name != account) or (symbol and market_symbol != symbol):
                continue
            start = book.first_at_or_after(since) if since is not None else 0
            stop = book.first_after(until) if until is not None else len(book)
            if funding:
                for i in book.special:
                    if start <= i < stop and book.kind_of(i) == FUNDING:
                        yield book.fill(i)
                continue
            for i in range(start, stop):
                if i < book.history_len or book.kind[i - book.history_len] != FUNDING:
                    yield book.fill(i)

    def count(self) -> int:
        return sum(len(book) for book in self.books.values())

    def keep_in(self, journal) -> None:
        """Record every order and fill executed from now on in `journal`."""
        for book in self.books.values():
            book.journal = journal
