"""The recommended web server: uvicorn, on uvloop with the httptools parser, serving
`tracker_project.asgi:application` (pages, API, admin and the board's WebSocket). One command for
`make run`, the browser tests and bench/api.py, so that they all run what the README recommends."""

from __future__ import annotations

import sys


def command(host: str, port: int, *, workers: int = 1, access_log: bool = True) -> list[str]:
    args = [sys.executable, "-m", "uvicorn", "tracker_project.asgi:application", "--host", host, "--port", str(port)]
    args += ["--workers", str(workers), "--loop", "uvloop", "--http", "httptools", "--ws", "websockets"]
    # Channels' router has no lifespan protocol: "auto" would log that it is unsupported at start.
    args += ["--lifespan", "off"]
    return args if access_log else [*args, "--no-access-log"]
