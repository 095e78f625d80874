"""Latency from the exchange's push to the committed position and to the operator's page.

    python bench/latency.py [--rates 100,1000] [--seconds 60] [--deployments distributed,track]

Each deployment of the README in turn, on an empty database, as separate processes: the exchange
simulator (Binance spot, BTC/USDT); the tracker, which is either `manage.py track` (one process: the
WebSocket stream, the periodic REST passes every SYNC_INTERVAL_SECONDS and the mark refresh) or the
distributed deployment (`manage.py runworker exchange-streams` holding the stream, Celery beat and a
Celery worker running the periodic REST passes and mark refreshes); the README's web server
(uvicorn, tracker_project/web_server.py) serving the operator page's WebSocket (`/ws/positions/`,
logged in with a session cookie); and this one, which tells the simulator to execute trades at each
rate for `--seconds` and listens on the page's WebSocket. They share a Redis (database 13, which
nothing else uses) as channel layer and broker.

Each trade is a buy of a random size, so the position's size after trade n is the sum of the first
n sizes: the size a board message shows says which trades it includes. Three clocks of this
machine are compared:
- push: the simulator's `send_str` of the trade's `executionReport` returned (recorded in the
  simulator process by wrapping its WebSocket writer, here in the benchmark);
- commit: the stream's transaction that stored and folded the trade committed (a `trades_inserted`
  receiver registered first in the process holding the stream adds a `transaction.on_commit` hook;
  a trade that a REST pass stored first has no such time and counts as missing);
- page: the first board message on the page's WebSocket whose size includes the trade arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PROJECT_DIR, cpu_seconds, cpu_seconds_of_command, cpu_seconds_of_tree, print_table  # noqa: E402
from tracker_project import web_server  # noqa: E402

ACCOUNT, SYMBOL = "binance_spot", "BTC/USDT"
SIM_CONFIG = {"seed": 11, "accounts": [{"name": ACCOUNT, "protocol": "binance", "markets": [SYMBOL]}]}
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
DATABASE = "tracker_bench_latency"
PRICE_UNITS = 6_000_000  # 60000.00 on a 0.01 tick
WARMUP = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# --- the simulator process -----------------------------------------------------------------------


def serve_simulator(port: int) -> None:
    """The simulator, with each executionReport's send time recorded, and a route that executes buys
    at a steady rate on its own event loop."""
    from aiohttp import web

    from exchanges.simulator.config import parse_config
    from exchanges.simulator.feed import Connection
    from exchanges.simulator.server import Simulator

    pushes: dict[str, float] = {}
    executed: list[tuple[str, int, float]] = []  # (trade id, size in amount steps, executed at)
    trade_id = re.compile(r'"t":(\d+)')
    send = Connection._send

    async def timed_send(self, text: str) -> None:
        await send(self, text)
        if '"executionReport"' in text:
            found = trade_id.search(text)
            if found:
                pushes.setdefault(found.group(1), time.time())

    Connection._send = timed_send
    simulator = Simulator(parse_config(SIM_CONFIG))
    build_app = simulator.build_app
    state = {"running": False}

    async def drive(rate: float, seconds: float) -> None:
        book = simulator.ledger.book(ACCOUNT, SYMBOL)
        rng = random.Random(len(executed))
        loop = asyncio.get_running_loop()
        total, done, start = int(rate * seconds), 0, loop.time()
        try:
            while done < total:
                due = min(total, int((loop.time() - start) * rate) + 1)
                while done < due:
                    qty = rng.randint(1, 100)
                    order = book.open_order(buy=True, qty=qty, price=PRICE_UNITS, market_order=True, created=simulator.now_ms())
                    at = time.time()
                    (fill,) = simulator.execute(book, order, [(qty, PRICE_UNITS, 0, 0, False)])
                    executed.append((fill.trade_id, qty, at))
                    done += 1
                await asyncio.sleep(max(0.0, start + done / rate - loop.time()))
        finally:
            state["running"] = False

    async def run(request):
        body = await request.json()
        state["running"] = True
        state["task"] = asyncio.create_task(drive(float(body["rate"]), float(body["seconds"])))
        return web.json_response({"started": True})

    async def status(request):
        return web.json_response({"running": state["running"], "executed": len(executed)})

    async def record(request):
        return web.json_response({"executed": executed, "pushes": pushes})

    def bench_app():
        app = build_app()
        app.router.add_post("/_bench/run", run)
        app.router.add_get("/_bench/run", status)
        app.router.add_get("/_bench/record", record)
        return app

    simulator.build_app = bench_app

    async def main():
        await simulator.start("127.0.0.1", port)
        print("ready", flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await simulator.stop()

    asyncio.run(main())


# --- the tracker process --------------------------------------------------------------------------


def serve_tracker(out: str, command: str) -> None:
    """`manage.py track` or `manage.py runworker exchange-streams` (the distributed deployment's
    streams), with the commit time of every trade it stored recorded."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker_project.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from positions.receivers import fold_inserted_trades
    from trades.signals import trades_inserted
    from trades.streams import AccountStream

    commits: dict[str, float] = {}
    received: dict[str, float] = {}
    ingest = AccountStream._ingest

    async def timed_ingest(self, trades):
        now = time.time()
        for trade in trades:
            received.setdefault(str(trade.get("id")), now)
        return await ingest(self, trades)

    AccountStream._ingest = timed_ingest  # when the stream hands trades over: the split between ccxt and ingest

    def on_inserted(sender, trades, **kwargs):
        ids = [t.exchange_trade_id.rsplit(":", 1)[-1] for t in trades]  # Binance ids are stored as MARKET:id

        def committed():
            now = time.time()
            for trade_id in ids:
                commits.setdefault(trade_id, now)

        transaction.on_commit(committed)

    # First in line, so its hook runs right at the commit, before the fold's broadcast.
    trades_inserted.disconnect(dispatch_uid="positions.fold_inserted_trades")
    trades_inserted.connect(on_inserted, dispatch_uid="bench.latency")
    trades_inserted.connect(fold_inserted_trades, dispatch_uid="positions.fold_inserted_trades")
    def interrupt(signum, frame):
        raise KeyboardInterrupt  # runworker has no SIGTERM handler of its own: end it as Ctrl-C would

    try:
        if command == "track":
            call_command("track")
        else:
            signal.signal(signal.SIGTERM, interrupt)
            call_command("runworker", "exchange-streams")
    finally:
        Path(out).write_text(json.dumps({"commits": commits, "received": received}))


# --- this process ---------------------------------------------------------------------------------


class Page:
    """The operator page's WebSocket: every board message's arrival and the position's size in it."""

    def __init__(self, url: str, session: str, step: Decimal):
        self.url, self.session, self.step = url, session, step
        self.boards: list[tuple[float, int]] = []  # (arrived at, size in amount steps)
        self.connected = asyncio.Event()

    async def run(self) -> None:
        import aiohttp

        origin = self.url.replace("ws://", "http://").split("/ws/")[0]
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(self.url, headers={"Origin": origin, "Cookie": f"sessionid={self.session}"}) as ws:
                self.connected.set()
                async for message in ws:
                    arrived = time.time()
                    board = json.loads(message.data)["board"]
                    size = next((Decimal(row["exact"]["size"]) for row in board["positions"] if row["symbol"] == SYMBOL), Decimal(0))
                    self.boards.append((arrived, int(size / self.step)))

    def size(self) -> int:
        return self.boards[-1][1] if self.boards else 0


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=PROJECT_DIR, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)


def wait_listening(port: int, process: subprocess.Popen, log: Path, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {limit}s:\n{log.read_text()}")


async def call(url: str, method: str = "GET", body=None):
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.request(method, url, json=body) as response:
            return await response.json()


def cpu_now(processes: dict[str, subprocess.Popen]) -> dict[str, float]:
    """CPU seconds so far of each process of the run, of PostgreSQL and Redis, and of this one."""
    now = {name: cpu_seconds_of_tree([process.pid]) for name, process in processes.items()}
    now["postgres"] = cpu_seconds_of_command("postgres")
    now["redis"] = cpu_seconds_of_command("redis-server")
    now["bench"] = cpu_seconds(os.getpid())
    return now


async def measure(sim_url: str, page: Page, rate: float, seconds: float, count_stored, drain_limit: float, processes: dict) -> dict:
    """Execute trades at `rate` for `seconds`; wait until the page shows them all (or `drain_limit`)."""
    before = (await call(f"{sim_url}/_bench/run"))["executed"]
    cpu_before, clock_before = cpu_now(processes), time.monotonic()
    await call(f"{sim_url}/_bench/run", "POST", {"rate": rate, "seconds": seconds})
    started = time.monotonic()
    while (await call(f"{sim_url}/_bench/run"))["running"]:
        await asyncio.sleep(0.5)
    driven = time.monotonic() - started
    executed = (await call(f"{sim_url}/_bench/run"))["executed"]
    record = await call(f"{sim_url}/_bench/record")
    target = sum(qty for _, qty, _ in record["executed"])
    deadline = time.monotonic() + drain_limit
    while page.size() < target and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    drained = time.monotonic() - started - driven
    cpu_after, elapsed = cpu_now(processes), time.monotonic() - clock_before
    cpu = {name: (cpu_after[name] - cpu_before[name]) / elapsed for name in cpu_after}
    return {"rate": rate, "first": before, "last": executed, "driven": driven, "drained": drained, "stored": await count_stored(), "cpu": cpu}


def latencies(record: dict, commits: dict[str, float], boards: list[tuple[float, int]], first: int, last: int):
    """Per trade of executed[first:last]: push -> commit and push -> page, in ms; and the missing."""
    to_commit, to_page, missing = [], [], 0
    cumulative, sizes = 0, []
    for _, qty, _ in record["executed"]:
        cumulative += qty
        sizes.append(cumulative)
    pointer = 0  # boards only grow (buys only), and trades arrive in order: one pass over both
    for n in range(first, last):
        trade_id = record["executed"][n][0]
        pushed = record["pushes"].get(trade_id)
        while pointer < len(boards) and boards[pointer][1] < sizes[n]:
            pointer += 1
        if pushed is None or trade_id not in commits or pointer == len(boards):
            missing += 1
            continue
        to_commit.append((commits[trade_id] - pushed) * 1000)
        to_page.append((boards[pointer][0] - pushed) * 1000)
    return to_commit, to_page, missing


DEPLOYMENTS = {
    # name: (the tracker's command, run in the bench's tracker role; Celery beat and a worker beside it)
    "track": ("track", False),
    "distributed": ("runworker", True),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", default="100,1000", help="trades per second, comma-separated")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--drain", type=float, default=120, help="how long to wait for a rate's backlog")
    parser.add_argument("--deployments", default="distributed,track", help=f"comma-separated: {', '.join(DEPLOYMENTS)}")
    parser.add_argument("--role", choices=["simulator", "tracker"], help=argparse.SUPPRESS)
    parser.add_argument("--command", choices=["track", "runworker"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "simulator":
        return serve_simulator(args.port)
    if args.role == "tracker":
        return serve_tracker(args.out, args.command)

    from bench.common import setup_django

    setup_django(DATABASE)
    workdir = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    measured = {}
    for deployment in args.deployments.split(","):
        print(f"{deployment}:", file=sys.stderr)
        measured[deployment] = run_deployment(deployment, args, workdir / deployment)
    report(args, measured, workdir)


def run_deployment(deployment: str, args, workdir: Path) -> dict:
    """One deployment on an empty database and Redis: its processes started, the rates driven, stopped."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    import redis

    from exchanges.simulator.config import parse_config
    from exchanges.simulator.register import register_accounts

    command, celery = DEPLOYMENTS[deployment]
    workdir.mkdir(parents=True)
    call_command("flush", interactive=False, verbosity=0)
    redis.Redis.from_url(REDIS_URL).flushdb()
    sim_port, web_port = free_port(), free_port()
    sim_url = f"http://127.0.0.1:{sim_port}"
    register_accounts(parse_config(SIM_CONFIG).accounts, sim_url)
    if celery:
        call_command("beat_schedule", stdout=io.StringIO())
    client = Client()
    client.force_login(get_user_model().objects.create_user("operator", is_staff=True))
    session = client.cookies["sessionid"].value

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tracker_project.settings",
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "LOG_LEVEL": "WARNING",
        "SYNC_BACKFILL_DAYS": "1",
    }
    commits_file = workdir / "commits.json"
    processes = {}
    try:
        processes["simulator"] = start([sys.executable, __file__, "--role", "simulator", "--port", str(sim_port)], env, workdir / "simulator.log")
        wait_listening(sim_port, processes["simulator"], workdir / "simulator.log")
        processes["web"] = start(web_server.command("127.0.0.1", web_port, access_log=False), env, workdir / "web.log")
        wait_listening(web_port, processes["web"], workdir / "web.log")
        role = "tracker" if command == "track" else "streams"
        processes[role] = start([sys.executable, __file__, "--role", "tracker", "--command", command, "--out", str(commits_file)], env, workdir / f"{role}.log")
        if celery:
            celery_command = ["nice", "-n", "10", sys.executable, "-m", "celery", "-A", "tracker_project"]
            processes["beat"] = start([*celery_command, "beat", "--loglevel", "WARNING", "--schedule", str(workdir / "beat-schedule")], env, workdir / "beat.log")
            processes["worker"] = start([*celery_command, "worker", "--pool", "solo", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"], env, workdir / "worker.log")
        results = asyncio.run(drive_rates(args, sim_url, f"ws://127.0.0.1:{web_port}/ws/positions/", session, processes))
    finally:
        for name, process in reversed(processes.items()):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
    tracked = json.loads(commits_file.read_text())
    (workdir / "record.json").write_text(json.dumps(results))
    return {**results, "commits": tracked["commits"], "received": tracked["received"]}


async def drive_rates(args, sim_url: str, page_url: str, session: str, processes: dict):
    from asgiref.sync import sync_to_async

    from trades.models import Trade

    count_stored = sync_to_async(lambda: Trade.objects.count())
    page = Page(page_url, session, Decimal("0.00001"))
    page_task = asyncio.create_task(page.run())
    await asyncio.wait_for(page.connected.wait(), 30)
    # Warm up: a few trades through the whole chain, which also proves the stream is subscribed.
    deadline = time.monotonic() + 120
    while page.size() == 0:
        if time.monotonic() > deadline:
            raise RuntimeError("no trade reached the page in 120 s: is the tracker's stream up?")
        await call(f"{sim_url}/_bench/run", "POST", {"rate": 20, "seconds": 1})
        await asyncio.sleep(3)
    warmup = await measure(sim_url, page, 20, 1, count_stored, 60, processes)
    runs = []
    for rate in [float(r) for r in args.rates.split(",")]:
        print(f"{rate:,.0f} trades/s for {args.seconds:.0f} s ...", file=sys.stderr)
        runs.append(await measure(sim_url, page, rate, args.seconds, count_stored, args.drain, processes))
        await asyncio.sleep(2)
    record = await call(f"{sim_url}/_bench/record")
    page_task.cancel()
    return {"warmup": warmup, "runs": runs, "record": record, "boards": page.boards}


def report(args, measured: dict[str, dict], workdir: Path) -> None:
    command = f"python bench/latency.py --rates {args.rates} --seconds {args.seconds:.0f} --deployments {args.deployments}"
    table, splits, targets = [], [], []
    for deployment, results in measured.items():
        record, boards, commits, received = results["record"], results["boards"], results["commits"], results["received"]
        for run in results["runs"]:
            to_commit, to_page, missing = latencies(record, commits, boards, run["first"], run["last"])
            trades = run["last"] - run["first"]
            until = record["executed"][run["last"]][2] if run["last"] < len(record["executed"]) else float("inf")
            boards_in_run = sum(1 for at, _ in boards if record["executed"][run["first"]][2] <= at < until)
            row = [deployment, f"{run['rate']:,.0f}/s", f"{trades:,}", f"{trades / run['driven']:,.0f}/s"]
            for values in (to_commit, to_page):
                row += [f"{percentile(values, 0.5):.1f}", f"{percentile(values, 0.99):.1f}", f"{max(values):.1f}"] if values else ["-", "-", "-"]
            row += [f"{run['drained']:.1f}", str(missing), f"{boards_in_run:,}"]
            table.append(row)
            if run is results["runs"][0] and to_commit and to_page:
                targets.append(f"{deployment} {percentile(to_commit, 0.99):.1f} to commit, {percentile(to_page, 0.99):.1f} to the page")
            pushes = record["pushes"]
            ids = [trade_id for trade_id, _, _ in record["executed"][run["first"] : run["last"]]]
            ids = [i for i in ids if i in pushes and i in received and i in commits]
            if ids:
                handed = [(received[i] - pushes[i]) * 1000 for i in ids]
                stored = [(commits[i] - received[i]) * 1000 for i in ids]
                splits.append(
                    f"{deployment} at {run['rate']:,.0f}/s: push -> the stream hands over p50 {percentile(handed, 0.5):.1f} p99 {percentile(handed, 0.99):.1f} ms; "
                    f"hand-over -> commit p50 {percentile(stored, 0.5):.1f} p99 {percentile(stored, 0.99):.1f} ms ({len(ids):,} trades the stream brought)"
                )
    print_table(
        "push -> commit and push -> page, ms (track: one process; distributed: the streams worker, Celery beat and worker; page: uvicorn, Redis channel layer)",
        ["deployment", "rate", "trades", "executed", "commit p50", "p99", "max", "page p50", "p99", "max", "drain s", "missing", "boards"],
        table,
        command,
    )
    print("\n".join(splits))
    names = list(dict.fromkeys(name for results in measured.values() for run in results["runs"] for name in run["cpu"]))
    print_table(
        "CPU while each rate ran and drained, in shares of one core (the machine has two; PostgreSQL: all its processes)",
        ["deployment", "rate", *names, "total"],
        [
            [deployment, f"{run['rate']:,.0f}/s", *(f"{run['cpu'][n]:.0%}" if n in run["cpu"] else "-" for n in names), f"{sum(run['cpu'].values()):.0%}"]
            for deployment, results in measured.items()
            for run in results["runs"]
        ],
        command,
    )
    rate = args.rates.split(",")[0]
    print(f"target at {rate}/s: p99 < 10 ms to commit, < 20 ms to the page: " + "; ".join(targets))
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"logs: {workdir}")


if __name__ == "__main__":
    main()
