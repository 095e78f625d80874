"""Every fill the simulator has executed: the ground truth that every protocol serves.

A `Book` is one account's fills in one market, oldest first: the pre-loaded history (computed on
demand, see `generator.History`) followed by the fills executed since start, kept in integer
columns (amounts in amount steps, prices in price steps, fees in units of 1e-12).
`Book.fill(i)` turns either back into exact `Decimal`s.
"""

from __future__ import annotations

import bisect
from array import array
from typing import NamedTuple

from .accounts import AccountConfig, MarketConfig, SimConfig
from .generator import History, Row
from .money import FEE_EXPONENT, Rejected, plain, scaled, step_parts, strip


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

    def truth(self) -> dict:
        """The ground-truth record, as `GET /_sim/trades` shows it."""
        return {
            "account": self.account,
            "symbol": self.symbol,
            "market_id": self.market_id,
            "id": self.trade_id,
            "order_id": self.order_id,
            "side": self.side,
            "amount": strip(self.amount),
            "price": strip(self.price),
            "cost": strip(self.cost),
            "fee": strip(self.fee),
            "fee_coin": self.fee_coin,
            "taker_or_maker": "maker" if self.maker else "taker",
            "timestamp": self.timestamp,
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

    def add_fill(self, order: int, *, ts: int, qty: int, price: int, fee: int, coin: int, maker: bool) -> int:
        """Append a fill of live `order`; timestamps never go backwards within a book. Returns its index."""
        k = order - self.first_live_order
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
        if self.journal is not None:
            self.journal.fill(self, order, ts=ts, qty=qty, price=price, fee=fee, coin=coin, maker=maker)
        return len(self) - 1

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
        )

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

    def fills(self, *, account: str | None = None, symbol: str | None = None, since: int | None = None, until: int | None = None):
        """Fills in execution order within each book, books one after another."""
        for (name, market_symbol), book in self.books.items():
            if (account and name != account) or (symbol and market_symbol != symbol):
                continue
            start = book.first_at_or_after(since) if since is not None else 0
            stop = book.first_after(until) if until is not None else len(book)
            for i in range(start, stop):
                yield book.fill(i)

    def count(self) -> int:
        return sum(len(book) for book in self.books.values())

    def keep_in(self, journal) -> None:
        """Record every order and fill executed from now on in `journal`."""
        for book in self.books.values():
            book.journal = journal
