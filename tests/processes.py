"""Running project code in other processes against the test database."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from django.db import connection

PROJECT_DIR = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    db = connection.settings_dict
    url = f"postgresql://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}@/{db['NAME']}?host={quote(db['HOST'] or '')}"
    return url + (f"&port={db['PORT']}" if db["PORT"] else "")


def start_python(*args: str, env: dict | None = None) -> subprocess.Popen:
    """Start `python ARGS` in the project directory, on the test database."""
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=PROJECT_DIR,
        env={**os.environ, "DATABASE_URL": test_database_url(), "DJANGO_SETTINGS_MODULE": "tracker_project.settings", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
