import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Everything `make run` starts: migrations, the operator login and the web server."

    def add_arguments(self, parser):
        parser.add_argument("--web-port", type=int, default=8000)

    def handle(self, *args, web_port, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("ensure_operator")
        children = [self.start("runserver", f"127.0.0.1:{web_port}", "--noreload")]
        self.stdout.write(f"admin: http://127.0.0.1:{web_port}/admin/  (database: {settings.DATABASES['default']['NAME']})")
        self.supervise(children)

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
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
