"""The simulator's ledger on disk, so that a restart goes on with the same venue.

A real venue never numbers its trades from the start again. With a state file, the simulator keeps
what makes its ledger: the window its pre-loaded history was dated in (the history itself follows
from the seed and that window) and every order and fill executed live, one JSON line each, amounts,
prices and fees as exact decimal strings. Loading it rebuilds the same books, so the history is the
one a tracker already stored and new trade and order ids follow the highest ones.

Each line is written (and flushed to the operating system) the moment its order or fill enters the
ledger, before anything can serve or push it, and the file is synced to disk before the fills are
published: a SIGKILL loses nothing a client could have seen. A last line cut short (a crash in the
middle of writing it) was never served, and is dropped when the file is loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
from decimal import Decimal
from pathlib import Path

from .accounts import SimConfig
from .ledger import KINDS, TRADE
from .money import FEE_EXPONENT, FEE_QUANTUM, WIDE, plain, scaled, strip, to_units

FORMAT = "exchange-simulator-ledger/1"


class StateError(ValueError):
    pass


def ledger_fingerprint(config: SimConfig) -> str:
    """What the books follow from: a state file only fits a config with the same."""
    parts = [(a.name, a.protocol, a.markets, a.fees, a.history, a.generator.max_fills_per_order) + (("hedge",) if a.hedge else ()) for a in config.accounts]
    return hashlib.sha256(repr((config.seed, parts)).encode()).hexdigest()[:16]


def _units(text: str, step: Decimal, what: str) -> int:
    return to_units(Decimal(text), step, what)


def _text(units: int, step: Decimal) -> str:
    return plain(WIDE.multiply(Decimal(units), step))


class StateFile:
    """An append-only journal of one simulator's ledger (see the module docstring)."""

    def __init__(self, path: str | Path, config: SimConfig):
        self.path = Path(path)
        self.config = config
        self.history_windows: dict[str, tuple[int, int]] | None = None  # as first dated; None for a new file
        self._records: list[dict] = []
        self._file = None
        if self.path.exists():
            self._read()

    def _read(self) -> None:
        data = self.path.read_bytes()
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        elif lines:
            # the last line was cut short by a crash: never served; drop it
            lines.pop()
            self.path.write_bytes(b"".join(line + b"\n" for line in lines))
        if not lines:
            return
        records = []
        for number, line in enumerate(lines, 1):
            try:
                records.append(json.loads(line))
            except ValueError:
                raise StateError(f"{self.path}: line {number} is not JSON; the file is damaged") from None
        header, *self._records = records
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise StateError(f"{self.path} is not a simulator state file ({FORMAT})")
        if header.get("config") != ledger_fingerprint(self.config):
            raise StateError(
                f"{self.path} was written with another config (seed, accounts, markets, fees or history): "
                "start with that config, or delete the file to begin a new venue history"
            )
        self.history_windows = {name: (int(start), int(end)) for name, (start, end) in header["history"].items()}

    def replay(self, ledger) -> None:
        """Execute the recorded orders and fills in `ledger` again, in their order."""
        for number, record in enumerate(self._records, 2):
            try:
                book = ledger.book(record["account"], record["symbol"])
                market = book.market
                if "fill" in record:
                    book.add_fill(
                        record["fill"],
                        ts=record["ts"],
                        qty=_units(record["amount"], market.amount_step, "amount"),
                        price=_units(record["price"], market.price_step, "price"),
                        fee=_units(record["fee"], FEE_QUANTUM, "fee"),
                        coin=book.coin_index(record["fee_coin"]),
                        maker=record["maker"],
                        kind=KINDS.index(record.get("kind", "trade")),
                        leg=record.get("leg"),
                        rate=record.get("rate", ""),
                    )
                else:
                    order = book.open_order(
                        buy=record["buy"],
                        qty=_units(record["qty"], market.amount_step, "qty"),
                        price=_units(record["price"], market.price_step, "price"),
                        market_order=record["market"],
                        created=record["created"],
                        label=record.get("label"),
                    )
                    if order != record["order"]:
                        raise StateError(f"order {record['order']} would be order {order}")
            except (KeyError, TypeError, ValueError, IndexError) as error:
                raise StateError(f"{self.path}: line {number} does not fit the ledger: {error}") from None
        self._records = []

    def open(self, history_windows: dict[str, tuple[int, int]]) -> None:
        """Start appending; a new file begins with its header."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "ab")
        if self.history_windows is None:
            self.history_windows = dict(history_windows)
            header = {"format": FORMAT, "config": ledger_fingerprint(self.config), "history": {k: list(v) for k, v in history_windows.items()}}
            self._write(header)
            self.sync()

    def _write(self, record: dict) -> None:
        self._file.write(json.dumps(record, separators=(",", ":")).encode() + b"\n")
        self._file.flush()

    def order(self, book, order: int, label) -> None:
        k = order - book.first_live_order
        market = book.market
        record = {
            "account": book.account.name, "symbol": market.symbol, "order": order,
            "buy": bool(book.order_buy[k]), "market": bool(book.order_market[k]),
            "qty": _text(book.order_qty[k], market.amount_step), "price": _text(book.order_px[k], market.price_step),
            "created": book.order_created[k],
        }
        if label is not None:
            record["label"] = label
        self._write(record)

    def fill(self, book, order: int, *, ts: int, qty: int, price: int, fee: int, coin: int, maker: bool, kind: int = TRADE, leg: int = 0, rate: str = "") -> None:
        market = book.market
        record = {
            "account": book.account.name, "symbol": market.symbol, "fill": order, "ts": ts,
            "amount": _text(qty, market.amount_step), "price": _text(price, market.price_step),
            "fee": strip(scaled(fee, FEE_EXPONENT)), "fee_coin": book.coins[coin], "maker": bool(maker),
        }
        if market.settle:  # a perpetual's fill: its kind and leg, and a funding row's rate
            record.update({"kind": KINDS[kind], "leg": leg})
            if rate:
                record["rate"] = rate
        self._write(record)

    def sync(self) -> None:
        """Down to the disk, not only the operating system (which a SIGKILL does not lose)."""
        if self._file is not None:
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
