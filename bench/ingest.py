"""Ingest throughput on PostgreSQL, beside the database's own limit and the naive way.

    python bench/ingest.py [--trades 200000] [--batch 1000]

Rows are ccxt-shaped Binance trades on two symbols with fees in three coins. Three ways into the same
table: (1) `ingest_trades` in batches (normalise, deduplicating insert, position fold); (2) a raw
`COPY` of the already-normalised rows, nothing else (the database's limit); (3) one `save()` per trade
with a `post_save` receiver updating the position (the way hand-written trackers often do it). Then
(1) again with the same trades, all duplicates.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import print_table, setup_django, timed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trades", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--naive-trades", type=int, default=10_000, help="the one-save-per-trade run is slow: measure on fewer")
    args = parser.parse_args()
    setup_django("tracker_bench_ingest")

    from django.db import connection, transaction
    from django.db.models.signals import post_save

    from exchanges.models import ExchangeAccount, Market
    from positions import fold
    from positions.models import Position
    from positions.services import Book, fill_of, state_of, store_state
    from tests.trades.many_trades import many_trades
    from trades.ingest import _COLUMNS, ingest_trades, normalise_batch
    from trades.models import Trade

    def account(name):
        acct = ExchangeAccount.objects.create(name=name, ccxt_id="binance", market_type="spot")
        for symbol, step in (("BTC/USDT", "0"), ("ETH/USDT", "0.0001")):
            Market.objects.create(account=acct, symbol=symbol, market_symbol=symbol, base=symbol[:3], quote="USDT", amount_step=step)
        return acct

    print(f"generating {args.trades:,} trades ...", file=sys.stderr)
    trades = many_trades(args.trades)
    seconds: dict[str, float] = {}

    fast = account("ingest")
    with timed(seconds, "ingest"):
        for start in range(0, len(trades), args.batch):
            ingest_trades(fast, trades[start : start + args.batch])
    assert Trade.objects.filter(exchange=fast).count() == args.trades

    with timed(seconds, "ingest, all duplicates"):
        for start in range(0, len(trades), args.batch):
            ingest_trades(fast, trades[start : start + args.batch])

    copied = account("copy")
    rows, _ = normalise_batch(copied, trades)
    names = [name for name, _ in _COLUMNS] + ["processed", "received_at"]
    from django.utils import timezone
    from psycopg.types.json import Jsonb

    now = timezone.now()
    raw_connection = connection.connection if connection.connection else (connection.ensure_connection() or connection.connection)
    with timed(seconds, "raw COPY"):
        with transaction.atomic():
            with connection.cursor() as cursor:
                with cursor.cursor.copy(f"COPY {Trade._meta.db_table} ({', '.join(names)}) FROM STDIN") as copy:
                    for trade in rows:
                        copy.write_row([*(Jsonb(trade.raw) if n == "raw" else getattr(trade, n) for n, _ in _COLUMNS), True, now])

    naive = account("naive")
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

    post_save.connect(update_position, sender=Trade, dispatch_uid="bench-naive")
    with timed(seconds, "save() + post_save"):
        for trade in naive_rows:
            trade.save()
    post_save.disconnect(dispatch_uid="bench-naive")

    rate = {
        "ingest": args.trades / seconds["ingest"],
        "ingest, all duplicates": args.trades / seconds["ingest, all duplicates"],
        "raw COPY": args.trades / seconds["raw COPY"],
        "save() + post_save": args.naive_trades / seconds["save() + post_save"],
    }
    counts = {"save() + post_save": args.naive_trades}
    table = [
        [name, f"{counts.get(name, args.trades):,}", f"{seconds[name]:.2f}", f"{rate[name]:,.0f}", f"{rate[name] / rate['raw COPY']:.1%}", f"{rate[name] / rate['save() + post_save']:.1f}x"]
        for name in ("raw COPY", "ingest", "ingest, all duplicates", "save() + post_save")
    ]
    print_table(
        f"ingest on PostgreSQL, batches of {args.batch}",
        ["path", "trades", "seconds", "trades/s", "of COPY", "vs save()"],
        table,
        f"python bench/ingest.py --trades {args.trades} --batch {args.batch}",
    )
    print(f"targets: ingest >= 25% of COPY ({rate['ingest'] / rate['raw COPY']:.1%}); >= 20x save() ({rate['ingest'] / rate['save() + post_save']:.1f}x); duplicates at least as fast ({rate['ingest, all duplicates'] / rate['ingest']:.2f}x)")


if __name__ == "__main__":
    main()
