"""Backfilling an account's history from the exchange's REST API, beside what the exchange allows.

    python bench/backfill.py [--trades 1000000] [--fast-trades 500000] [--days 30]

The exchange simulator (in its own process, `manage.py simulate_exchange`) pre-loads `--trades`
historical Binance spot fills over two symbols; the tracker's REST sync (`RestSync`, the real ccxt
client, the Binance pager: 1,000 trades a page by `fromId`) reads them all into the database, folding
positions as it goes.
(a) Binance's real limits: 6,000 request weight a minute, `myTrades` weighing 20, and ccxt's limiter
    set to the same (exchanges/connectors.py). The floor is what the weight allows for the requests
    the history needs at 1,000 trades each: requests x 20 / 6,000 minutes.
(b) Limits off (simulator unlimited, ccxt's limiter disabled), on a fresh history of `--fast-trades`:
    trades/s end to end, beside ccxt's own parse rate: `client.parse_trades` timed, in this run, on
    the very response lists (a sample of pages) that the sync fetched.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PROJECT_DIR, print_table, setup_django  # noqa: E402

SYMBOLS = ["BTC/USDT", "ETH/USDT"]
PAGE = 1000
WEIGHT, WEIGHT_PER_MINUTE = 20, 6000
UNLIMITED = {"binance": {"weight_per_interval": 10**12}, "bybit": {"per_second": 10**9, "ip_requests": 10**9, "endpoints": {"/v5/execution/list": 10**9}}}
PARSE_SAMPLE_PAGES = 200


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningSimulator:
    """`manage.py simulate_exchange` in its own process, on a config of one Binance account."""

    def __init__(self, workdir: Path, name: str, seed: int, trades: int, start: datetime, end: datetime, limits: dict | None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "seed": seed,
            "accounts": [
                {
                    "name": name,
                    "protocol": "binance",
                    "markets": SYMBOLS,
                    "history": {"trades": trades, "start": start.isoformat(), "end": end.isoformat()},
                }
            ],
        }
        if limits:
            config["rate_limits"] = limits
        path = workdir / f"{name}.json"
        path.write_text(json.dumps(config))
        self.log = workdir / f"{name}.log"
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "simulate_exchange", "--config", str(path), "--port", str(self.port)],
            cwd=PROJECT_DIR,
            env={**os.environ, "LOG_LEVEL": "WARNING"},
            stdout=open(self.log, "w"),
            stderr=subprocess.STDOUT,
        )
        from exchanges.simulator.config import parse_config

        self.config = parse_config(config)
        deadline = time.monotonic() + 60
        while "listening" not in self.log.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the simulator did not start:\n{self.log.read_text()}")
            time.sleep(0.1)

    def stats(self) -> dict:
        import urllib.request

        with urllib.request.urlopen(f"{self.url}/_sim/stats", timeout=30) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def backfill(simulator: RunningSimulator, since: datetime, *, limited: bool, capture: list | None = None) -> dict:
    """One REST pass over the account's symbols from `since`; returns its time and counts."""
    from exchanges.connectors import build_client
    from exchanges.simulator.register import register_accounts
    from trades.models import Trade
    from trades.sync import RestSync

    (account,) = register_accounts(simulator.config.accounts, simulator.url)
    account.backfill_since = since
    account.save(update_fields=["backfill_since"])
    client = build_client(account, **({} if limited else {"enableRateLimit": False}))
    if capture is not None:
        parse_trades = client.parse_trades

        def capturing(response, *args, **kwargs):
            if len(capture) < PARSE_SAMPLE_PAGES and isinstance(response, list) and len(response) == PAGE:
                capture.append(response)
            return parse_trades(response, *args, **kwargs)

        client.parse_trades = capturing

    async def run():
        try:
            start = time.perf_counter()
            result = await RestSync(account, client).run(SYMBOLS)
            return time.perf_counter() - start, result
        finally:
            await client.close()

    seconds, result = asyncio.run(run())
    if capture is not None:
        del client.parse_trades  # ccxt's own again, for timing it
    if any(s.fetched == 0 for s in result.symbols) or len(result.symbols) != len(SYMBOLS):
        raise RuntimeError(f"the backfill failed: {result}; see {simulator.log}")
    stats = simulator.stats()
    return {
        "seconds": seconds,
        "stored": Trade.objects.filter(exchange=account).count(),
        "requests": stats["requests"].get("GET /api/v3/myTrades", 0),
        "weight_refused": sum(stats["rate_limited"].values()),
        "client": client,
        "market": client.market(SYMBOLS[0]),
    }


def parse_rate(client, market, pages: list) -> tuple[int, float]:
    """ccxt's `parse_trades` over the captured responses: (trades, seconds), best of three passes."""
    count = sum(len(page) for page in pages)
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        for page in pages:
            client.parse_trades(page, market)
        best = min(best, time.perf_counter() - start)
    return count, best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trades", type=int, default=1_000_000, help="history for (a), over two symbols")
    parser.add_argument("--fast-trades", type=int, default=500_000, help="history for (b), limits off")
    parser.add_argument("--days", type=float, default=30, help="the history spans this many days")
    parser.add_argument("--skip-limited", action="store_true", help="run (b) only")
    args = parser.parse_args()
    setup_django("tracker_bench_backfill")
    from django.db import connection

    workdir = Path(tempfile.mkdtemp(prefix="bench-backfill-"))
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    start = end - timedelta(days=args.days)
    rows = []

    if not args.skip_limited:
        print(f"(a) {args.trades:,} trades at Binance's limits ...", file=sys.stderr)
        simulator = RunningSimulator(workdir, "binance_limited", 21, args.trades, start, end, None)
        try:
            limited = backfill(simulator, start, limited=True)
        finally:
            simulator.stop()
        # The fewest myTrades calls that can return the history at 1,000 a call, one per symbol more
        # to see that nothing newer is left when the last page is full.
        shares = [args.trades // len(SYMBOLS) + (1 if n < args.trades % len(SYMBOLS) else 0) for n in range(len(SYMBOLS))]
        needed = sum(share // PAGE + 1 for share in shares)
        floor = needed * WEIGHT / WEIGHT_PER_MINUTE * 60
        rows.append(
            [
                "(a) Binance limits",
                f"{limited['stored']:,}",
                f"{limited['seconds']:.1f}",
                f"{limited['stored'] / limited['seconds']:,.0f}",
                f"{limited['requests']:,} (floor {needed:,})",
                f"floor {floor:.1f} s",
                f"{limited['seconds'] / floor:.3f}x floor",
            ]
        )
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE trades_trade, positions_position, trades_synccursor, trades_rejectedtrade")

    print(f"(b) {args.fast_trades:,} trades, limits off ...", file=sys.stderr)
    simulator = RunningSimulator(workdir, "binance_unlimited", 22, args.fast_trades, start, end, UNLIMITED)
    pages: list = []
    try:
        fast = backfill(simulator, start, limited=False, capture=pages)
    finally:
        simulator.stop()
    parsed, parse_seconds = parse_rate(fast["client"], fast["market"], pages)
    parse_per_second = parsed / parse_seconds
    fast_rate = fast["stored"] / fast["seconds"]
    rows.append(
        [
            "(b) limits off",
            f"{fast['stored']:,}",
            f"{fast['seconds']:.1f}",
            f"{fast_rate:,.0f}",
            f"{fast['requests']:,}",
            f"ccxt parse_trades {parse_per_second:,.0f}/s",
            f"{fast_rate / parse_per_second:.1%} of parse",
        ]
    )
    print_table(
        "backfill through REST sync (ccxt binance against the simulator), PostgreSQL",
        ["run", "trades", "seconds", "trades/s", "myTrades calls", "bound", "against it"],
        rows,
        f"python bench/backfill.py --trades {args.trades} --fast-trades {args.fast_trades} --days {args.days:g}",
    )
    print(f"ccxt parse rate: {parsed:,} trades in {len(pages)} captured pages, best of 3 passes")
    targets = []
    if not args.skip_limited:
        targets.append(f"(a) within 10% of the floor: {limited['seconds'] / floor:.3f}x")
    targets.append(f"(b) at least half of ccxt's parse rate: {fast_rate / parse_per_second:.1%}")
    print("targets: " + "; ".join(targets))


if __name__ == "__main__":
    main()
