"""The recommended web server: uvicorn, on uvloop with the httptools parser, serving
`tracker_project.asgi:application` (pages, API, admin and the board's WebSocket), one worker process
per core. One command for `make run`, the browser tests and the benchmarks, so that they all run what
the README recommends:

    python -m tracker_project.web_server --host 127.0.0.1 --port 8000 --workers 2

Each worker listens on a socket of its own on the same port (SO_REUSEPORT), so the kernel spreads
new connections evenly over the workers. With uvicorn's own `--workers`, the workers share one
socket and uvloop accepts every connection that is waiting at once: a burst of keep-alive clients
(a proxy's pool, a dashboard's panels) could all land on one worker and leave the others idle,
which in the API benchmark happened in every other run and halved its throughput. A worker that
dies is started again; SIGTERM or SIGINT stops them all.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import socket
import subprocess
import sys
import time

APPLICATION = "tracker_project.asgi:application"
RESTART_PAUSE_SECONDS = 1.0
# Database connections each worker keeps in a pool (`DB_POOL_SIZE`, which overrides it): a worker's
# requests each read in a thread of their own, and would each open a connection without one.
WORKER_DB_POOL_SIZE = 4

logger = logging.getLogger(__name__)


def command(host: str, port: int, *, workers: int = 1, access_log: bool = True) -> list[str]:
    args = [sys.executable, "-m", "tracker_project.web_server", "--host", host, "--port", str(port), "--workers", str(workers)]
    return args if access_log else [*args, "--no-access-log"]


def listening_socket(host: str, port: int) -> socket.socket:
    family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, protocol)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    return sock


def serve(host: str, port: int, *, access_log: bool) -> None:
    """One worker: uvicorn on a socket of its own (it listens with uvicorn's backlog)."""
    import uvicorn  # only a serving worker needs it, not the supervisor that imports this module

    # Channels' router has no lifespan protocol: "auto" would log that it is unsupported at start.
    config = uvicorn.Config(APPLICATION, loop="uvloop", http="httptools", ws="websockets-sansio", lifespan="off", access_log=access_log)
    os.environ.setdefault("DB_POOL_SIZE", str(WORKER_DB_POOL_SIZE))
    # The application (and the settings) before uvicorn takes over the signals: after its graceful
    # shutdown it raises the signal again under the handler it found, which the settings may have
    # set so that the worker lets go of the embedded database (tracker_project/database.py).
    config.load()
    from .middleware import start_requests_on_the_loop  # imports Django's middleware: after its setup

    start_requests_on_the_loop()
    freeze_what_is_loaded()
    uvicorn.Server(config).run(sockets=[listening_socket(host, port)])


def freeze_what_is_loaded() -> None:
    """Keep the objects loaded so far (Django, ccxt, the application: some 300,000) out of the
    garbage collector's full passes, which otherwise walk all of them every few seconds under load
    and stop the worker meanwhile (up to 300 ms on a busy 2-core machine, the API's p99)."""
    gc.collect()
    gc.freeze()


def supervise(worker_command: list[str], workers: int) -> None:
    """Run `workers` copies of the worker until SIGTERM or SIGINT, starting again any that exits."""
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    running = [subprocess.Popen(worker_command) for _ in range(workers)]
    try:
        while not stopping:
            time.sleep(0.2)
            for n, process in enumerate(running):
                if process.poll() is not None and not stopping:
                    logger.error("web worker %d exited with %s; starting it again", process.pid, process.returncode)
                    time.sleep(RESTART_PAUSE_SECONDS)
                    running[n] = subprocess.Popen(worker_command)
    finally:
        for process in running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in running:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tracker_project.web_server", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1, help="worker processes (one per core)")
    parser.add_argument("--no-access-log", dest="access_log", action="store_false")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.port <= 0:
        parser.error("--port: give a port (workers share it, so it cannot be chosen by the kernel)")
    if args.workers < 1:
        parser.error("--workers: at least 1")
    if args.worker or args.workers == 1:
        return serve(args.host, args.port, access_log=args.access_log)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    supervise([*command(args.host, args.port, access_log=args.access_log), "--worker"], args.workers)


if __name__ == "__main__":
    main()
