"""The JSON API under concurrent load: the positions list and a trades page.

    python bench/api.py [--seconds 20] [--connections 32] [--servers uvicorn:2,daphne:1]

Each server in `--servers` is run in turn: `uvicorn:N` is the README's recommended server with N
workers (tracker_project/web_server.py: uvicorn, a socket per worker; without its access log), `daphne:N`
is N daphne processes sharing one listening socket (`daphne --fd`, bound by this script). The
servers have `REDIS_URL` (database 12 of the Redis at 127.0.0.1:6379, which nothing else uses), as
in the distributed deployment, so the positions list is served from its cache while no position
or mark changes; the row "positions list, marks changing" has this script store a new mark price
(which invalidates that cache) every `--mark-every` seconds during the load. Before the load, the
script checks that a mark stored just before a request shows in its answer.
The load comes from a separate process: a small HTTP/1.1 keep-alive client on asyncio (one
request in flight per connection), sending `Authorization: Bearer` with a token from
`manage.py api_token create` for a user with the two view permissions. Each endpoint is loaded for
`--seconds` after a short warm-up; requests/s counts answers with status 200, and p50/p99 are their
latencies as the client saw them.

The data: 4 accounts x 5 symbols with 40,000 trades ingested through `ingest_trades` (so positions
open, close and reopen), and a mark price per market.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PROJECT_DIR, cpu_seconds_of_tree, print_table  # noqa: E402
from tracker_project import web_server  # noqa: E402

ENDPOINTS = {
    "positions list": "/api/positions",
    "positions list, marks changing": "/api/positions",
    "trades page": "/api/trades?limit=100",
}
REDIS_URL = "redis://127.0.0.1:6379/12"
ACCOUNTS, SYMBOLS, TRADES = 4, ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "ADA/USDT"], 40_000


# --- the load process ---------------------------------------------------------------------------


async def load(port: int, path: str, token: str, connections: int, seconds: float, warmup: float) -> dict:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Accept: application/json\r\nConnection: keep-alive\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    loop = asyncio.get_running_loop()
    start = loop.time()
    measure_from, stop_at = start + warmup, start + warmup + seconds

    async def one_connection():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                sent = loop.time()
                if sent >= stop_at:
                    return
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                done = loop.time()
                if sent >= measure_from:
                    statuses[status] = statuses.get(status, 0) + 1
                    if status == 200:
                        latencies.append(done - sent)
                if head.lower().find(b"connection: close") >= 0:
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
        finally:
            writer.close()

    await asyncio.gather(*(one_connection() for _ in range(connections)))
    latencies.sort()
    return {
        "ok": len(latencies),
        "statuses": statuses,
        "seconds": seconds,
        "p50": latencies[len(latencies) // 2] if latencies else None,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else None,
    }


def load_process(port: int, path: str, token: str, connections: int, seconds: float, warmup: float) -> None:
    start_cpu = time.process_time()
    result = asyncio.run(load(port, path, token, connections, seconds, warmup))
    result["cpu"] = time.process_time() - start_cpu
    print(json.dumps(result))


# --- this process -------------------------------------------------------------------------------


def populate() -> str:
    """Accounts, trades, positions, marks; returns an API token for a user who may view them."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.utils import timezone

    from api.models import ApiToken
    from exchanges.models import ExchangeAccount, Market
    from positions.models import MarkPrice
    from tests.trades.many_trades import many_trades
    from trades.ingest import ingest_trades

    for n in range(ACCOUNTS):
        account = ExchangeAccount.objects.create(name=f"bot{n}", venue="binance_spot", symbols=SYMBOLS)
        for symbol in SYMBOLS:
            Market.objects.create(account=account, symbol=symbol, market_symbol=symbol, base=symbol.split("/")[0], quote="USDT", amount_step=Decimal("0.001"))
            MarkPrice.objects.create(account=account, market_symbol=symbol, symbol=symbol, price=Decimal("100.5"), fetched_at=timezone.now())
        trades = many_trades(TRADES // ACCOUNTS, seed=5 + n, symbols=SYMBOLS, step_ms=1000)
        for start in range(0, len(trades), 1000):
            ingest_trades(account, trades[start : start + 1000])
    user = get_user_model().objects.create_user("grafana")
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_position", "view_trade", "view_markprice"]))
    _, token = ApiToken.issue(user, "bench")
    return token


def listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def start_server(kind: str, processes: int, workdir: Path) -> tuple[int, subprocess.Popen, list[subprocess.Popen]]:
    """The server's port, the process that owns it (closed when the servers stop) and its processes."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tracker_project.settings", "LOG_LEVEL": "WARNING", "REDIS_URL": REDIS_URL}
    log = open(workdir / f"{kind}-{processes}.log", "w")
    sock = listening_socket()
    port = sock.getsockname()[1]
    if kind == "daphne":
        started = [
            subprocess.Popen(
                [sys.executable, "-m", "daphne", "--fd", str(sock.fileno()), "tracker_project.asgi:application"],
                cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, pass_fds=(sock.fileno(),),
            )
            for _ in range(processes)
        ]
        return port, sock, started
    sock.close()  # uvicorn binds its own (its --fd takes Unix sockets only)
    command = web_server.command("127.0.0.1", port, workers=processes, access_log=False)
    return port, None, [subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)]


def change_marks_every(seconds: float, stop) -> None:
    """Store a new mark price for one market every `seconds` until `stop` is set (a thread)."""
    from decimal import Decimal

    from django.db import connection
    from django.utils import timezone

    from exchanges.models import ExchangeAccount
    from positions.marks import store_marks

    account = ExchangeAccount.objects.order_by("pk").first()
    n = 0
    while not stop.wait(seconds):
        n += 1
        store_marks(account, {SYMBOLS[0]: Decimal("100.5") + Decimal(n) / 1000}, timezone.now())
    connection.close()


def check_fresh(port: int, token: str) -> bool:
    """A mark stored just before a request shows in the positions list it answers."""
    from decimal import Decimal

    from django.utils import timezone

    from exchanges.models import ExchangeAccount
    from positions.marks import store_marks

    account = ExchangeAccount.objects.order_by("pk").first()
    for price in ("101.25", "100.5"):
        get(port, ENDPOINTS["positions list"], token)
        store_marks(account, {SYMBOLS[0]: Decimal(price)}, timezone.now())
        items = json.loads(get(port, ENDPOINTS["positions list"], token)[1])["items"]
        marks = {item["mark_price"] for item in items if item["account_id"] == account.pk and item["symbol"] == SYMBOLS[0]}
        if marks != {price}:
            return False
    return True


def get(port: int, path: str, token: str) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--servers", default="uvicorn:2,uvicorn:1,daphne:1", help="KIND:PROCESSES runs, comma-separated (uvicorn, daphne)")
    parser.add_argument("--endpoint", action="append", choices=list(ENDPOINTS), help="load only this endpoint (repeatable; default: all)")
    parser.add_argument("--database", default="tracker_bench_api", help="the database this script (re)creates")
    parser.add_argument("--mark-every", type=float, default=0.1, help="seconds between mark changes in the 'marks changing' run")
    parser.add_argument("--role", choices=["load"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "load":
        return load_process(args.port, args.path, args.token, args.connections, args.seconds, args.warmup)

    from bench.common import setup_django

    os.environ["REDIS_URL"] = REDIS_URL  # this script's mark changes bump the servers' change stamp
    setup_django(args.database)
    print(f"populating: {TRADES:,} trades over {ACCOUNTS} accounts ...", file=sys.stderr)
    token = populate()
    from positions.models import Position

    open_positions = Position.objects.filter(is_open=True).count()
    workdir = Path(tempfile.mkdtemp(prefix="bench-api-"))
    rows, fresh = [], []
    for kind, _, processes in (s.partition(":") for s in args.servers.split(",")):
        processes = int(processes or 1)
        server_name = f"{kind} x{processes}"
        port, sock, servers = start_server(kind, processes, workdir)
        try:
            deadline = time.monotonic() + 60
            while get(port, ENDPOINTS["positions list"], token)[0] != 200:
                if time.monotonic() > deadline or any(s.poll() is not None for s in servers):
                    raise RuntimeError(f"{kind} did not answer; logs in {workdir}")
                time.sleep(0.2)
            fresh.append(f"{server_name}: {'yes' if check_fresh(port, token) else 'NO'}")
            for name, path in ENDPOINTS.items():
                if args.endpoint and name not in args.endpoint:
                    continue
                status, body = get(port, path, token)
                items = len(json.loads(body)["items"])
                print(f"{server_name}: {name} ({items} items) for {args.seconds:.0f} s ...", file=sys.stderr)
                stop_marks = threading.Event()
                marks = threading.Thread(target=change_marks_every, args=(args.mark_every, stop_marks))
                if "marks changing" in name:
                    marks.start()
                cpu_before = cpu_seconds_of_tree([s.pid for s in servers])
                try:
                    loader = subprocess.run(
                        [sys.executable, __file__, "--role", "load", "--port", str(port), "--path", path, "--token", token,
                         "--connections", str(args.connections), "--seconds", str(args.seconds), "--warmup", str(args.warmup)],
                        cwd=PROJECT_DIR, capture_output=True, text=True, check=True,
                    )
                finally:
                    stop_marks.set()
                    if marks.is_alive():
                        marks.join()
                server_cpu = cpu_seconds_of_tree([s.pid for s in servers]) - cpu_before
                result = json.loads(loader.stdout)
                elapsed = args.seconds + args.warmup
                errors = sum(n for status, n in result["statuses"].items() if int(status) != 200)
                rows.append(
                    [
                        name,
                        server_name,
                        str(items),
                        f"{result['ok'] / result['seconds']:,.0f}",
                        f"{result['p50'] * 1000:.1f}" if result["p50"] else "-",
                        f"{result['p99'] * 1000:.1f}" if result["p99"] else "-",
                        str(errors),
                        f"{server_cpu / elapsed:.0%}",
                        f"{server_cpu / elapsed / (result['ok'] / result['seconds']) * 1000:.2f}" if result["ok"] else "-",
                        f"{result['cpu'] / elapsed:.0%}",
                    ]
                )
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
            if sock is not None:
                sock.close()
    print_table(
        f"JSON API under load: {args.connections} keep-alive connections from a separate process, {open_positions} open positions",
        ["endpoint", "server", "items", "requests/s", "p50 ms", "p99 ms", "non-200", "server CPU", "CPU ms/req", "load CPU"],
        rows,
        f"python bench/api.py --seconds {args.seconds:g} --connections {args.connections} --servers {args.servers}"
        + "".join(f" --endpoint '{name}'" for name in args.endpoint or []),
    )
    best = max((float(r[3].replace(",", "")) for r in rows if r[0] == "positions list"), default=0)
    print(f"a mark stored just before a request shows in its positions list: {'; '.join(fresh)}")
    print(f"target: 1,000 requests/s for the positions list: best {best:,.0f}/s; server and load CPU are shares of one core, CPU ms/req the server's per answer")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
