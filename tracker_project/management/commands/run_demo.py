import io
import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.db import connections
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from exchanges.simulator.config import ConfigError, default_config, load_config
from exchanges.simulator.state import StateError, StateFile
from tracker_project import web_server
from tracker_project.database import stop_embedded_database

# How long the children have, together, to exit on SIGTERM before they are killed (each needs about
# half a second, more on a busy machine): with the embedded server's shutdown and this process's own
# exit after them, everything is gone within 3 s of Ctrl-C.
STOP_GRACE_SECONDS = 1.5


def interrupt(signum, frame):
    """The first SIGINT or SIGTERM starts the stopping; any later one does not cut it short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def check_kept_ledger(state, simulator_config: str) -> None:
    """Refuse, before anything starts, a kept ledger that an earlier demo wrote with another simulator
    config (a new account, say). Its trades are in the tracker's database too: a new venue history
    would reuse their ids, so the one way on is a new demo, database and all."""
    try:
        config = load_config(simulator_config) if simulator_config else default_config()
        StateFile(state, config)
    except (ConfigError, OSError) as error:
        raise CommandError(str(error)) from error
    except StateError as error:
        where = "remove var/ (the demo's embedded database, its ledger and secret key)" if not os.environ.get("DATABASE_URL") else (
            f"delete {state} and the simulator's accounts (`manage.py accounts list`) from the database of DATABASE_URL"
        )
        raise CommandError(
            f"{state} holds the venue history of an earlier demo run with another simulator config, and "
            f"the tracker's database holds its trades, which a new history would clash with: to start a "
            f"new demo, {where}; or run with the config it was written with ({error})"
        ) from error


class Command(BaseCommand):
    help = (
        "Everything `make run` starts: migrations, the operator login, the exchange simulator (its "
        "accounts registered), the tracker (`track`) and the ASGI web server (uvicorn). Ctrl-C, SIGINT "
        "or SIGTERM stops them all, the embedded PostgreSQL included."
    )

    def add_arguments(self, parser):
        parser.add_argument("--web-port", type=int, default=8000)
        parser.add_argument("--simulator-port", type=int, default=8900)
        parser.add_argument("--simulator-config", default="", help="a simulator config file (default: built-in)")

    def handle(self, *args, web_port, simulator_port, simulator_config, **options):
        # SIGINT as well as SIGTERM, even where SIGINT was inherited as ignored (a script that put
        # `make run` in the background). Installed before any child starts: a handled signal is
        # reset to its default action by exec, so every child starts able to react to both.
        signal.signal(signal.SIGINT, interrupt)
        signal.signal(signal.SIGTERM, interrupt)
        children: list[subprocess.Popen] = []
        try:
            call_command("migrate", interactive=False, verbosity=0)
            login = io.StringIO()
            call_command("ensure_operator", stdout=login)
            # The simulator keeps its ledger under var/, beside the embedded database: a restart goes
            # on with the venue the tracker has stored, never numbering trades from the start again.
            state = settings.VAR_DIR / "simulator" / "ledger.jsonl"
            check_kept_ledger(state, simulator_config)
            simulator_args = ["simulate_exchange", "--port", str(simulator_port), "--register", "--state", str(state)]
            if simulator_config:
                simulator_args += ["--config", simulator_config]
            children.append(self.start([sys.executable, "manage.py", *simulator_args]))
            self.wait_for_port(simulator_port, children[0], "the simulator")
            children.append(self.start([sys.executable, "manage.py", "track"]))
            children.append(self.start(web_server.command("127.0.0.1", web_port)))
            self.wait_for_port(web_port, children[-1], "the web server")
            web = f"http://127.0.0.1:{web_port}"
            self.stdout.write(
                f"board:              {web}/positions/\n"
                f"admin:              {web}/admin/ ({login.getvalue().strip()})\n"
                f"API docs:           {web}/api/docs\n"
                f"exchange simulator: http://127.0.0.1:{simulator_port}/_sim/stats\n"
                "Ctrl-C (or SIGTERM) stops everything."
            )
            self.stdout.flush()
            self.supervise(children)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            self.stop(children)
            if not os.environ.get("DATABASE_URL"):
                connections.close_all()
                if stop_embedded_database(settings.VAR_DIR / "pgdata"):
                    self.stdout.write("embedded PostgreSQL stopped")

    def wait_for_port(self, port: int, child: subprocess.Popen, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if child.poll() is not None:
                raise CommandError(f"{name} exited with code {child.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise CommandError(f"{name} did not listen on port {port} within {timeout:.0f}s")

    def start(self, command: list[str]) -> subprocess.Popen:
        """A child in a process group of its own: the terminal's Ctrl-C reaches this process only,
        which stops the children in order, and a signal to the group reaches their own children."""
        return subprocess.Popen(command, cwd=settings.BASE_DIR, process_group=0)

    def supervise(self, children: list[subprocess.Popen]) -> None:
        """Run until a signal (KeyboardInterrupt, see `interrupt`) or until a child exits."""
        while True:
            for child in children:
                if child.poll() is not None:
                    self.stderr.write(f"{' '.join(child.args[1:3])} exited with code {child.returncode}; stopping")
                    return
            time.sleep(0.2)

    def stop(self, children: list[subprocess.Popen]) -> None:
        """SIGTERM to every child's group, STOP_GRACE_SECONDS for all of them to exit, then SIGKILL to
        what is left of each group."""
        for child in children:
            if child.poll() is None:
                signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in children:
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{' '.join(child.args[1:3])} did not exit on SIGTERM; killed")
        for child in children:
            signal_group(child, signal.SIGKILL)
            child.wait()


def signal_group(child: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(child.pid, signum)
    except (ProcessLookupError, PermissionError):  # the whole group has exited already
        pass
