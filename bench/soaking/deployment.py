"""The distributed deployment as real processes, and the faults done to them.

Every process runs in a session of its own, with its output in a log file under the run's directory,
so that it can be killed as a whole (SIGKILL to its process group) and restarted like a crashed
service under a supervisor. The tracker's processes connect to PostgreSQL with the application name
`tracker-soak`, so that terminating "their" backends touches nothing else on the server.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
APPLICATION_NAME = "tracker-soak"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_query(url: str, **params) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


def wait_for(condition, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout:.0f}s")
        time.sleep(interval)


class Service:
    """One process, restartable; killed as a process group."""

    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path):
        self.name, self.argv, self.env = name, argv, env
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.unexpected_exits = 0

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start {self.starts + 1}: {' '.join(self.argv)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.argv, cwd=PROJECT_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        self.starts += 1

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal_group(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signum)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        """SIGKILL, as the kernel's OOM killer or a pulled plug would."""
        self.signal_group(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=30)

    def stop(self, timeout: float = 20.0) -> None:
        if self.process is None:
            return
        self.signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        # A killed group leader can leave children behind: make sure none survive.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Redis(Service):
    """A Redis of our own, keeping nothing on disk, so it can be restarted without touching the shared one."""

    def __init__(self, log_dir: Path, port: int | None = None):
        self.port = port or free_port()
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(log_dir)]
        super().__init__("redis", argv, dict(os.environ), log_dir)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        super().start()
        wait_for(self.ping, 20, "redis answering")

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class Settings:
    """What the tracker's processes get in their environment."""

    sync_interval_seconds: int = 10
    stream_idle_seconds: int = 30
    account_reload_seconds: int = 5
    log_level: str = "WARNING"
    extra: dict = field(default_factory=dict)


class Deployment:
    """Redis, the simulator, Celery beat, a Celery worker and the exchange-streams worker."""

    def __init__(self, database_url: str, log_dir: Path, simulator_config: Path, settings: Settings | None = None):
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.database_name = urlsplit(database_url).path.lstrip("/")
        self.settings = settings or Settings()
        self.redis = Redis(log_dir)
        self.simulator_config = simulator_config
        self.faults: Counter[str] = Counter()
        self.services: dict[str, Service] = {}
        self.simulator_url = ""
        self.lock = threading.Lock()  # a process being killed on purpose is not revived meanwhile

    def tracker_env(self) -> dict:
        s = self.settings
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tracker_project.settings",
            "DATABASE_URL": with_query(self.database_url, application_name=APPLICATION_NAME),
            "REDIS_URL": self.redis.url,
            "CELERY_BROKER_URL": self.redis.url,
            "SYNC_INTERVAL_SECONDS": str(s.sync_interval_seconds),
            "STREAM_IDLE_SECONDS": str(s.stream_idle_seconds),
            "ACCOUNT_RELOAD_SECONDS": str(s.account_reload_seconds),
            "LOG_LEVEL": s.log_level,
            "PYTHONUNBUFFERED": "1",
            **s.extra,
        }

    def _service(self, name: str, *args: str) -> Service:
        service = Service(name, [sys.executable, *args], self.tracker_env(), self.log_dir)
        self.services[name] = service
        return service

    # --- starting and stopping --------------------------------------------------------------------

    def start_simulator(self) -> str:
        """The simulator in a process of its own (it needs no database: accounts are registered here)."""
        service = self._service("simulator", "manage.py", "simulate_exchange", "--config", str(self.simulator_config), "--port", "0")
        service.start()

        def listening():
            found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", service.log_text())
            if not found and not service.alive:
                raise RuntimeError(f"the simulator exited:\n{service.log_text()[-3000:]}")
            return found.group(1) if found else None

        self.simulator_url = wait_for(listening, 60, "simulator listening")
        return self.simulator_url

    def start_tracker(self) -> None:
        self.redis.start()
        self._service("beat", "-m", "celery", "-A", "tracker_project", "beat", "--loglevel", "WARNING").start()
        self._worker().start()
        self._streams().start()

    def _worker(self) -> Service:
        return self._service("worker", "-m", "celery", "-A", "tracker_project", "worker", "--pool", "solo", "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "-n", "soak@%h")

    def _streams(self) -> Service:
        return self._service("streams", "manage.py", "runworker", "exchange-streams")

    def stop(self) -> None:
        for name in ("streams", "worker", "beat", "simulator"):
            if name in self.services:
                self.services[name].stop()
        self.redis.stop()

    # --- faults done to the deployment -------------------------------------------------------------

    def kill_tracker(self, down_seconds: float = 2.0) -> None:
        """SIGKILL the Celery worker and the streams worker together, then start them again."""
        with self.lock:
            for name in ("worker", "streams"):
                self.services[name].kill()
            self.faults["process.sigkill"] += 2
            time.sleep(down_seconds)
            for name in ("worker", "streams"):
                self.services[name].start()

    def restart_redis(self) -> None:
        self.redis.restart()
        self.faults["redis.restart"] += 1

    def terminate_backends(self) -> int:
        """Terminate the tracker's PostgreSQL connections from the server side."""
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as connection:
            (count,) = connection.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s AND application_name = %s AND pid <> pg_backend_pid()",
                [self.database_name, APPLICATION_NAME],
            ).fetchone()
        self.faults["postgres.terminate_backend"] += count
        return count

    def revive_crashed(self) -> list[str]:
        """Start again any tracker process that exited by itself (as a supervisor would), counting it."""
        revived = []
        if not self.lock.acquire(blocking=False):
            return revived
        try:
            revived = self._revive()
        finally:
            self.lock.release()
        return revived

    def _revive(self) -> list[str]:
        revived = []
        for name in ("beat", "worker", "streams"):
            service = self.services.get(name)
            if service is not None and not service.alive:
                service.unexpected_exits += 1
                service.start()
                revived.append(name)
        return revived

    def unexpected_exits(self) -> dict[str, int]:
        return {name: s.unexpected_exits for name, s in self.services.items() if s.unexpected_exits}
