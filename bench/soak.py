"""The fault-injection soak: nothing lost, nothing counted twice, under faults, in figures.

    python bench/soak.py [--trades 100000] [--minutes 10]

The distributed deployment (Celery beat and a Celery worker for the periodic REST passes, the
Channels exchange-streams worker for the WebSockets, on a Redis of its own) tracks 6 accounts on the
exchange simulator (2 Binance spot, 2 Bybit linear, 1 Bybit spot on a linear account's unified key,
1 hedge-mode Bybit linear; 9 symbols; funding, liquidations and ADL fills on the perpetuals) while
the simulator makes `--trades` trades over `--minutes`, and faults are injected on a schedule:
WebSockets cut every few seconds, events duplicated, reordered and dropped, the feed paused, bursts of 429 and 5xx, hung and cut-off
answers, a Binance 418 ban, the Celery worker and the streams worker SIGKILLed and restarted twice,
Redis restarted, PostgreSQL connections terminated from the server side. Then the faults stop, the
tracker settles, and what it stored is compared with the simulator's ground truth; positions with an
independent fold of its trades and funding. Exits 1 on any missing, duplicated or mismatched trade, funding payment or position.

It uses database `tracker_soak` (re-created) on the server of DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/postgres), its own redis-server on a free port, and writes the
processes' logs under var/soak/.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PROJECT_DIR, print_table, setup_django  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trades", type=int, default=100_000)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the fault phase, over which the trades are made")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", default="tracker_soak")
    args = parser.parse_args()
    setup_django(args.database)

    import os

    from bench.soaking.run import Plan, run_soak
    from bench.soaking.verdict import table

    log_dir = PROJECT_DIR / "var" / "soak" / time.strftime("%Y%m%d-%H%M%S")
    started = time.monotonic()
    verdict = run_soak(Plan(trades=args.trades, minutes=args.minutes, seed=args.seed), os.environ["DATABASE_URL"], log_dir)
    verdict.seconds["whole soak"] = time.monotonic() - started
    headers, rows = table(verdict)
    print_table(
        f"Soak: {args.trades:,} trades over {args.minutes:g} minutes of faults, 6 accounts, 9 symbols, distributed deployment",
        headers,
        rows,
        f"python bench/soak.py --trades {args.trades} --minutes {args.minutes:g}",
    )
    for line in verdict.examples:
        print("  " + line)
    print(f"logs: {log_dir}")
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
