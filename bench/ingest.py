"""Ingest throughput on PostgreSQL, beside the database's own limit and the naive way.

    python bench/ingest.py [--trades 200000] [--batch 1000] [--rounds 10]

Rows are ccxt-shaped Binance trades on two symbols with fees in three coins. Four ways into the same
table (the `Trade` table with its indexes, one account each):
(1) `ingest_trades` in batches: normalise, deduplicating insert, position fold, commit;
(2) a raw `COPY` of the same rows, already normalised and already in COPY's text format, so that
    only the database's work is timed: the database's limit for this table;
(3) `ingest_trades` again with the same trades: all duplicates;
(4) one `save()` per trade with a `post_save` receiver updating the position (the way hand-written
    trackers often do it), on fewer trades since it is slow.
The machine is shared and its load moves, so the trades are split into rounds and each round runs
the four ways one after another: every figure sees the same load, and the per-round spread of the
ratios shows how noisy the run was.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import print_table, setup_django  # noqa: E402


def copy_text(values: list) -> str:
    """One row in COPY's text format."""

    def field(value) -> str:
        if value is None:
            return "\\N"
        if value is True or value is False:
            return "t" if value else "f"
        if hasattr(value, "isoformat"):
            return value.isoformat()
        text = value if isinstance(value, str) else str(value)
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")

    return "\t".join(field(v) for v in values) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trades", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--naive-trades", type=int, default=10_000, help="the one-save-per-trade run is slow: measure on fewer")
    args = parser.parse_args()
    setup_django("tracker_bench_ingest")

    import json

    from django.db import connection, transaction
    from django.db.models.signals import post_save
    from django.utils import timezone

    from exchanges.models import ExchangeAccount, Market
    from positions import fold
    from positions.models import Position
    from positions.services import Book, fill_of, state_of, store_state
    from tests.trades.many_trades import many_trades
    from trades.ingest import _COLUMNS, ingest_trades, normalise_batch
    from trades.models import Trade

    def account(name):
        acct = ExchangeAccount.objects.create(name=name, venue="binance_spot")
        for symbol, step in (("BTC/USDT", "0"), ("ETH/USDT", "0.0001")):
            Market.objects.create(account=acct, symbol=symbol, market_symbol=symbol, base=symbol[:3], quote="USDT", amount_step=step)
        return acct

    print(f"generating {args.trades:,} trades ...", file=sys.stderr)
    trades = many_trades(args.trades)
    fast, copied, naive = account("ingest"), account("copy"), account("naive")

    # The COPY's input, prepared before any clock runs: the same rows as ingest stores, normalised,
    # with the same `processed` and `received_at`, in COPY's text format.
    names = [name for name, _ in _COLUMNS] + ["processed", "received_at"]
    rows, _ = normalise_batch(copied, trades)
    now = timezone.now()
    copy_lines = [
        copy_text([json.dumps(t.raw, separators=(",", ":")) if n == "raw" else getattr(t, n) for n, _ in _COLUMNS] + [True, now])
        for t in rows
    ]
    naive_rows, _ = normalise_batch(naive, trades[: args.naive_trades])

    def update_position(sender, instance, created, **kwargs):
        book = Book.of(instance)
        position = Position.objects.filter(**book.filter(), is_open=True).first()
        base, quote = instance.symbol.split("/")
        states = fold.apply_fill(state_of(position) if position else None, fill_of(instance, base, quote))
        if position:
            store_state(position, states[0]).save()
        for state in states[1 if position else 0 :]:
            store_state(Position(**book.filter()), state).save()

    paths = ("raw COPY", "ingest", "ingest, all duplicates", "save() + post_save")
    seconds = dict.fromkeys(paths, 0.0)
    counts = dict.fromkeys(paths, 0)
    rounds: list[dict[str, float]] = []
    per_round = -(-args.trades // args.rounds)
    naive_per_round = -(-args.naive_trades // args.rounds)
    table = Trade._meta.db_table
    connection.ensure_connection()

    def ingest(chunk):
        for start in range(0, len(chunk), args.batch):
            ingest_trades(fast, chunk[start : start + args.batch])

    def raw_copy(lines):
        with transaction.atomic():
            with connection.cursor() as cursor:
                with cursor.cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                    copy.write("".join(lines))

    def save_each(chunk):
        for trade in chunk:
            trade.save()

    for number in range(args.rounds):
        lo, hi = number * per_round, min((number + 1) * per_round, args.trades)
        nlo, nhi = number * naive_per_round, min((number + 1) * naive_per_round, args.naive_trades)
        print(f"round {number + 1}/{args.rounds}: trades {lo:,}..{hi:,}", file=sys.stderr)
        work = {
            "raw COPY": (raw_copy, copy_lines[lo:hi]),
            "ingest": (ingest, trades[lo:hi]),
            "ingest, all duplicates": (ingest, trades[lo:hi]),
            "save() + post_save": (save_each, naive_rows[nlo:nhi]),
        }
        rate = {}
        for path in paths:
            function, chunk = work[path]
            if path == "save() + post_save":
                post_save.connect(update_position, sender=Trade, dispatch_uid="bench-naive")
            start = time.perf_counter()
            try:
                function(chunk)
            finally:
                post_save.disconnect(dispatch_uid="bench-naive")
            elapsed = time.perf_counter() - start
            seconds[path] += elapsed
            counts[path] += len(chunk)
            rate[path] = len(chunk) / elapsed if chunk else 0.0
        rounds.append(rate)

    assert Trade.objects.filter(exchange=fast).count() == args.trades
    assert Trade.objects.filter(exchange=copied).count() == len(rows)
    assert Trade.objects.filter(exchange=naive).count() == args.naive_trades

    rate = {path: counts[path] / seconds[path] for path in paths}

    def spread(path, against, how):
        values = [how(r[path], r[against]) for r in rounds if r[path] and r[against]]
        return min(values), max(values)

    of_copy = lambda a, b: a / b  # noqa: E731
    lines = []
    for path in paths:
        low, high = spread(path, "raw COPY", of_copy)
        lines.append(
            [
                path,
                f"{counts[path]:,}",
                f"{seconds[path]:.2f}",
                f"{rate[path]:,.0f}",
                f"{rate[path] / rate['raw COPY']:.1%}",
                f"{low:.1%}..{high:.1%}",
                f"{rate[path] / rate['save() + post_save']:.1f}x",
            ]
        )
    print_table(
        f"ingest on PostgreSQL, batches of {args.batch}, {args.rounds} interleaved rounds",
        ["path", "trades", "seconds", "trades/s", "of COPY", "of COPY per round", "vs save()"],
        lines,
        f"python bench/ingest.py --trades {args.trades} --batch {args.batch} --rounds {args.rounds}",
    )
    dup_low, dup_high = spread("ingest, all duplicates", "ingest", of_copy)
    save_low, save_high = spread("ingest", "save() + post_save", of_copy)
    print(
        f"targets: ingest >= 25% of COPY: {rate['ingest'] / rate['raw COPY']:.1%}; "
        f">= 20x save(): {rate['ingest'] / rate['save() + post_save']:.1f}x (rounds {save_low:.1f}x..{save_high:.1f}x); "
        f"duplicates at least as fast: {rate['ingest, all duplicates'] / rate['ingest']:.2f}x (rounds {dup_low:.2f}x..{dup_high:.2f}x)"
    )


if __name__ == "__main__":
    main()
