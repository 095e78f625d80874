import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from tracker_project import web_server
from tracker_project.database import stop_embedded_database


class Command(BaseCommand):
    help = (
        "Everything `make run` starts: migrations, the operator login, the exchange simulator (its "
        "accounts registered), the tracker (`track`) and the ASGI web server (uvicorn)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--web-port", type=int, default=8000)
        parser.add_argument("--simulator-port", type=int, default=8900)
        parser.add_argument("--simulator-config", default="", help="a simulator config file (default: built-in)")

    def handle(self, *args, web_port, simulator_port, simulator_config, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("ensure_operator")
        # The simulator keeps its ledger under var/, beside the embedded database: a restart goes on
        # with the venue the tracker has stored, never numbering trades from the start again.
        state = settings.VAR_DIR / "simulator" / "ledger.jsonl"
        simulator_args = ["simulate_exchange", "--port", str(simulator_port), "--register", "--state", str(state)]
        if simulator_config:
            simulator_args += ["--config", simulator_config]
        children = [self.start(*simulator_args)]
        self.wait_for_port(simulator_port, children[0])
        web = subprocess.Popen(web_server.command("127.0.0.1", web_port), cwd=settings.BASE_DIR)
        children += [self.start("track"), web]
        self.stdout.write(
            f"exchange simulator: http://127.0.0.1:{simulator_port}/_sim/stats\n"
            f"admin:              http://127.0.0.1:{web_port}/admin/\n"
            f"positions:          http://127.0.0.1:{web_port}/positions/\n"
            "Ctrl-C stops everything."
        )
        try:
            self.supervise(children)
        finally:
            if not os.environ.get("DATABASE_URL"):
                from django.db import connections

                connections.close_all()
                stop_embedded_database(settings.VAR_DIR / "pgdata")
                self.stdout.write("embedded PostgreSQL stopped")

    def wait_for_port(self, port: int, child: subprocess.Popen, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if child.poll() is not None:
                raise CommandError(f"the simulator exited with code {child.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise CommandError(f"the simulator did not listen on port {port} within {timeout:.0f}s")

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR)

    def supervise(self, children: list[subprocess.Popen]) -> None:
        """Run until Ctrl-C or until a child exits; then stop the rest."""
        stop = False

        def request_stop(*_):
            nonlocal stop
            stop = True

        signal.signal(signal.SIGTERM, request_stop)
        try:
            while not stop and all(child.poll() is None for child in children):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)  # like Ctrl-C: each exits cleanly and lets go of the database
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
