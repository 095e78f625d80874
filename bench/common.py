"""What every benchmark needs: Django on a fresh database of its own, and a table printer."""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse, urlunparse

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def setup_django(database: str) -> None:
    """Create (or re-create) database `database` on the server of DATABASE_URL, migrate it, set Django up on it."""
    import psycopg

    server = os.environ.get("DATABASE_URL", DEFAULT_SERVER)
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{database}"')
    parts = urlparse(server)
    os.environ["DATABASE_URL"] = urlunparse(parts._replace(path="/" + database))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker_project.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


@contextmanager
def timed(results: dict, name: str):
    start = time.perf_counter()
    yield
    results[name] = time.perf_counter() - start


def print_table(title: str, headers: list[str], rows: list[list], command: str) -> None:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    print(f"\n{title}")
    print("  ".join(str(h).ljust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
    print(f"\nreproduce: {command}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds_of_tree(pids: list[int]) -> float:
    """User + system CPU of these processes and their children (uvicorn's workers), so far."""
    total, pids = 0.0, list(pids)
    while pids:
        pid = pids.pop()
        try:
            total += cpu_seconds(pid)
            for task in Path(f"/proc/{pid}/task").iterdir():
                pids += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def cpu_seconds_of_command(name: str) -> float:
    """User + system CPU so far of every process whose command is `name` (`postgres`: the server and
    all its backends, those of this machine's other users included)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    total += cpu_seconds(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return total
