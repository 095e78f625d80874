"""`manage.py run_demo` (what `make run` starts), started as a script starts a background job
(SIGINT ignored, stdin closed) on the embedded database: it prints every URL, says when each
account's backfill is complete, and SIGINT or SIGTERM stops everything it started."""

import json
import re
import signal
import socket
import urllib.request

import psutil
import pytest
from django.core.management.base import CommandError

from exchanges.simulator.testing import TEST_CONFIG, start_simulator
from tracker_project.management.commands.run_demo import check_kept_ledger

from ..ground_truth import wait_until
from .embedded import embedded_server, is_running, one_account_config, start_manage, wait_for_output

HISTORY_TRADES = 40


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("run_demo") / "var"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def status_of(url: str) -> int:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status


def ignores_sigint(process: psutil.Process) -> bool:
    status = open(f"/proc/{process.pid}/status").read()
    ignored = int(re.search(r"^SigIgn:\s+([0-9a-f]+)", status, flags=re.M).group(1), 16)
    return bool(ignored & (1 << (signal.SIGINT - 1)))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_run_demo_prints_its_urls_and_a_signal_stops_everything_it_started(var_dir, tmp_path, signum):
    log = tmp_path / "run_demo.log"
    config = one_account_config(tmp_path / "sim.json", HISTORY_TRADES)
    web_port, simulator_port = free_port(), free_port()
    demo = start_manage(
        var_dir, "run_demo", "--web-port", str(web_port), "--simulator-port", str(simulator_port), "--simulator-config", str(config),
        log=log, ignore_sigint=True,
    )
    try:
        output = wait_for_output(log, "stops everything", demo)
        urls = dict(re.findall(r"^(board|admin|API docs|exchange simulator): +(http://\S+)", output, flags=re.M))
        assert set(urls) == {"board", "admin", "API docs", "exchange simulator"}
        assert all(status_of(url) == 200 for url in urls.values())
        assert re.search(r"^admin: .*operator login: operator / \S+", output, flags=re.M)
        backfilled = wait_for_output(log, "solo: backfill complete", demo)
        assert int(re.search(r"solo: backfill complete, (\d+) trades", backfilled).group(1)) >= HISTORY_TRADES

        started = [demo_process := psutil.Process(demo.pid), *demo_process.children(recursive=True), embedded_server(var_dir)]
        assert len(started) >= 5 and None not in started  # simulator, track, web server, PostgreSQL
        assert not any(ignores_sigint(child) for child in demo_process.children())  # each still reacts to Ctrl-C

        demo.send_signal(signum)

        demo.wait(timeout=60)
        wait_until(lambda: not any(is_running(process) for process in started), message="every process run_demo started gone")
        assert not (var_dir / "pgdata" / "postmaster.pid").exists()
    finally:
        if demo.poll() is None:
            demo.kill()


def test_a_kept_ledger_of_another_config_stops_the_demo_before_it_starts(tmp_path, monkeypatch):
    """An earlier demo's ledger, written with another simulator config, would make the simulator
    start a new history whose ids clash with the trades the tracker stored: the demo says what to do
    instead, before it starts anything."""
    state = tmp_path / "ledger.jsonl"
    simulator = start_simulator(TEST_CONFIG, state=state)
    simulator.thread.stop()
    written_with = tmp_path / "sim.json"
    written_with.write_text(json.dumps(TEST_CONFIG))
    check_kept_ledger(state, str(written_with))  # the same config goes on

    other = tmp_path / "other.json"
    other.write_text(json.dumps({**TEST_CONFIG, "accounts": TEST_CONFIG["accounts"][:1]}))  # an account fewer
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(CommandError, match=r"to start a new demo, remove var/"):
        check_kept_ledger(state, str(other))
