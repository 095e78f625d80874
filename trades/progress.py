"""How far a long read of one symbol's history has got (a sync pass, a first backfill, an audit) and
when it will be done, and how it is shown: a bar per symbol on a terminal, one line per symbol when it
ends anywhere else (a log, a pipe).

The estimate is written once, here: the share of the pass's time range read (the pager's position in
time against the range), trades so far, and the time left, which is the pages still to come (the time
left to read at the pace of the last pages) at the venue's request spacing, or slower when the pages
have come slower than that.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

PACE_PAGES = 10  # the pace is that of the last this many pages: a first-trade search covers days a page


def to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms // 1000, tz=UTC) + timedelta(milliseconds=ms % 1000)


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def share_read(start_ms: int, reached_ms: int | None, end_ms: int) -> float:
    """Of the time range [start, end] a pass read up to `reached`, 0 to 1."""
    if reached_ms is None or end_ms <= start_ms:
        return 0.0
    return min(max((reached_ms - start_ms) / (end_ms - start_ms), 0.0), 1.0)


@dataclass
class PassProgress:
    """One symbol's pass over [start_ms, end_ms]."""

    account: str
    symbol: str
    start_ms: int
    end_ms: int
    spacing_seconds: float | None = None  # the venue's, between two pager calls
    reached_ms: int | None = None
    trades: int = 0
    new: int = 0
    pages: int = 0
    finished: bool = False
    started: float = field(default_factory=lambda: time.monotonic())
    _recent: deque = field(default_factory=lambda: deque(maxlen=PACE_PAGES + 1))  # (monotonic, reached_ms)

    def __post_init__(self):
        self._recent.append((self.started, self.reached_ms if self.reached_ms is not None else self.start_ms))

    def advance(self, *, trades: int, reached_ms: int | None, done: bool = False) -> None:
        """After a page: its trades and how far in time the pass has now read."""
        self.trades += trades
        self.pages += 1
        if reached_ms is not None:
            self.reached_ms = max(reached_ms, self.reached_ms or reached_ms)
        if done:
            self.reached_ms = max(self.end_ms, self.reached_ms or self.end_ms)
        self._recent.append((time.monotonic(), self.reached_ms if self.reached_ms is not None else self.start_ms))

    def finish(self) -> None:
        self.finished = True
        self.reached_ms = max(self.end_ms, self.reached_ms or self.end_ms)
        self._recent.append((time.monotonic(), self.reached_ms))

    @property
    def share(self) -> float:
        """Of the time range read, 0 to 1."""
        return 1.0 if self.finished else share_read(self.start_ms, self.reached_ms, self.end_ms)

    @property
    def seconds_left(self) -> float | None:
        """None until a page has moved the pass forward in time."""
        if self.finished:
            return 0.0
        (first_at, first_ms), (last_at, last_ms) = self._recent[0], self._recent[-1]
        pages = len(self._recent) - 1
        if pages < 1 or last_ms <= first_ms:
            return None
        pages_left = max(self.end_ms - last_ms, 0) / ((last_ms - first_ms) / pages)
        seconds_a_page = max(self.spacing_seconds or 0.0, (last_at - first_at) / pages)
        return pages_left * seconds_a_page

    @property
    def eta(self) -> datetime | None:
        left = self.seconds_left
        return None if left is None else datetime.now(UTC) + timedelta(seconds=left)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def summary(self) -> str:
        """One line for the end of the symbol's pass."""
        return (
            f"{self.account} {self.symbol}: {self.trades:,} trades ({self.new:,} new) from "
            f"{to_datetime(self.start_ms):%Y-%m-%d %H:%M} in {self.elapsed:.1f}s"
        )


ProgressCallback = Callable[[PassProgress], None]

PROGRESS_FIELDS = ("pass_from", "pass_until", "pass_reached", "pass_trades", "pass_eta")  # of `SyncCursor`


def note_progress(cursor, progress: PassProgress) -> None:
    """Put a pass's progress on its `SyncCursor` (saved by the caller, with the page it follows)."""
    cursor.pass_from, cursor.pass_until = to_datetime(progress.start_ms), to_datetime(progress.end_ms)
    cursor.pass_reached = to_datetime(progress.reached_ms) if progress.reached_ms is not None else None
    cursor.pass_trades = progress.trades
    cursor.pass_eta = progress.eta


def pass_progress(account, cursor, since: datetime | None, until_ms: int, *, default_start_ms: int) -> PassProgress:
    """The progress of a pass over a cursor's symbol beginning now: from `since`; a first backfill
    resumed (no pass ended yet) goes on from what its cursor kept (its range, trades and position);
    any later pass covers from where the last one reached; a first one from `default_start_ms`."""
    spacing = account.venue_object.history_call_spacing_ms
    spacing_seconds = spacing / 1000 if spacing else None
    if since is None and cursor.last_sync_at is None and cursor.pass_from is not None:
        return PassProgress(
            account.name,
            cursor.symbol,
            to_ms(cursor.pass_from),
            max(until_ms, to_ms(cursor.pass_until or cursor.pass_from)),
            spacing_seconds,
            reached_ms=to_ms(cursor.pass_reached) if cursor.pass_reached else None,
            trades=cursor.pass_trades,
        )
    if since is not None:
        start = to_ms(since)
    elif cursor.last_sync_at is not None and (cursor.pass_reached or cursor.last_trade_time):
        start = to_ms(cursor.pass_reached or cursor.last_trade_time)
    else:
        start = default_start_ms
    return PassProgress(account.name, cursor.symbol, start, until_ms, spacing_seconds)


def _eta_text(progress: PassProgress) -> str:
    if progress.finished:
        return "done"
    left = progress.seconds_left
    if left is None:
        return "ETA -"
    return f"ETA {timedelta(seconds=round(left))}"


class ProgressDisplay:
    """Shows passes as they go: rich bars on a terminal, else one line per finished symbol (`write`,
    or the log). Use as a context manager around the passes; `update` is the `ProgressCallback`."""

    def __init__(self, *, stream=None, write: Callable[[str], None] | None = None, terminal: bool | None = None):
        self.stream = stream or sys.stderr
        self.write = write or logging.getLogger(__name__).info
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self._bars = None
        self._tasks: dict[tuple[str, str], int] = {}
        self._entered = 0  # several passes at once (a synchronizer's accounts) share one display

    def __enter__(self) -> ProgressDisplay:
        self._entered += 1
        if self.terminal and self._bars is None:
            self._bars = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[trades]:,} trades"),
                TextColumn("{task.fields[eta]}"),
                console=Console(file=self.stream, force_terminal=True),
            )
            self._bars.start()
        return self

    def __exit__(self, *exc) -> None:
        self._entered -= 1
        if self._bars is not None and not self._entered:
            self._bars.stop()
            self._bars = None
            self._tasks.clear()

    def update(self, progress: PassProgress) -> None:
        if self._bars is None:
            if progress.finished:
                self.write(progress.summary())
            return
        key = (progress.account, progress.symbol)
        if key not in self._tasks:
            self._tasks[key] = self._bars.add_task(f"{progress.account} {progress.symbol}", total=1.0, trades=0, eta="")
        self._bars.update(self._tasks[key], completed=progress.share, trades=progress.trades, eta=_eta_text(progress))
