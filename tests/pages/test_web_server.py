"""The recommended web server with several workers: connections spread over them, and a worker
that dies is replaced."""

import contextlib
import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from tracker_project import web_server

from ..ground_truth import wait_until
from ..processes import PROJECT_DIR
from ..processes import test_database_url as database_url
from .browser import free_port

WORKERS = 2


def worker_pids(parent: int) -> list[int]:
    return [int(pid) for task in Path(f"/proc/{parent}/task").iterdir() for pid in (task / "children").read_text().split()]


ESTABLISHED, LISTEN = "01", "0A"


def sockets_on(pid: int, port: int, state: str) -> int:
    """How many of this process's sockets on local `port` are in `state` (its socket inodes in
    /proc/net/tcp)."""
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(FileNotFoundError):  # closed while we looked
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    except FileNotFoundError:  # the process is gone
        return 0
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port, socket_state, inode = int(fields[1].split(":")[1], 16), fields[3], fields[9]
        count += local_port == port and socket_state == state and inode in inodes
    return count


def every_worker_listens(parent: int, port: int) -> bool:
    """Each worker has a listening socket of its own: until then the kernel gives every connection
    to the workers that do."""
    pids = worker_pids(parent)
    return len(pids) == WORKERS and all(sockets_on(pid, port, LISTEN) for pid in pids)


def answering(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"GET /api/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return sock.recv(12).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@pytest.fixture
def server():
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "tracker_project.settings"}
    process = subprocess.Popen(
        web_server.command("127.0.0.1", port, workers=WORKERS, access_log=False), cwd=PROJECT_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until(lambda: every_worker_listens(process.pid, port) and answering(port), message="both workers up")
        yield process, port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_a_burst_of_connections_is_spread_over_the_workers(server):
    process, port = server
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
    try:
        workers = worker_pids(process.pid)

        def all_accepted():
            counts = [sockets_on(pid, port, ESTABLISHED) for pid in workers]
            return counts if sum(counts) == len(clients) else None

        assert all(count > 0 for count in wait_until(all_accepted, message="all accepted"))
    finally:
        for client in clients:
            client.close()


def test_a_worker_that_dies_is_replaced(server):
    process, port = server
    killed = worker_pids(process.pid)[0]

    os.kill(killed, signal.SIGKILL)

    def replaced():
        pids = worker_pids(process.pid)
        return len(pids) == WORKERS and killed not in pids

    assert wait_until(replaced, message="a new worker")
    assert wait_until(lambda: answering(port), message="answering")
