"""Running commands the way a fresh clone does: no DATABASE_URL, so on the embedded PostgreSQL, here
under a temporary var directory of their own."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil

from ..processes import PROJECT_DIR


def embedded_env(var_dir: Path) -> dict:
    env = {name: value for name, value in os.environ.items() if name not in ("DATABASE_URL", "XDG_RUNTIME_DIR", "REDIS_URL")}
    return {**env, "TRACKER_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "tracker_project.settings"}


def start_manage(var_dir: Path, *args: str, log: Path, ignore_sigint: bool = False) -> subprocess.Popen:
    """`manage.py ARGS` with stdin closed and its output in `log`; with `ignore_sigint`, as a job a
    script put in the background starts: SIGINT ignored, inherited by whatever it starts."""
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=embedded_env(var_dir),
        stdin=subprocess.DEVNULL,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None,
    )


def embedded_server(var_dir: Path) -> psutil.Process | None:
    """The embedded PostgreSQL running on `var_dir`, if any."""
    try:
        pid = int((var_dir / "pgdata" / "postmaster.pid").read_text().split()[0])
        server = psutil.Process(pid)
    except (FileNotFoundError, IndexError, ValueError, psutil.NoSuchProcess):
        return None
    return server if is_running(server) else None


def is_running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def one_account_config(path: Path, trades: int) -> Path:
    """A simulator with one Binance account, `trades` trades of history and no live trading."""
    path.write_text(json.dumps({"accounts": [{
        "name": "solo", "protocol": "binance", "markets": ["BTC/USDT"],
        "history": {"trades": trades, "days": 2}, "generator": {"orders_per_minute": 0},
    }]}))
    return path


def wait_for_output(log: Path, text: str, process: subprocess.Popen, timeout: float = 180) -> str:
    """Wait until `text` is in the log (the embedded server's first initdb takes a while)."""
    from ..ground_truth import wait_until

    def seen():
        if process.poll() is not None and text not in log.read_text():
            raise AssertionError(f"exited with {process.returncode} before {text!r}:\n{log.read_text()[-3000:]}")
        return text in log.read_text()

    wait_until(seen, timeout=timeout, interval=0.2, message=repr(text))
    return log.read_text()


def run_manage(var_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env=embedded_env(var_dir),
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
    )
