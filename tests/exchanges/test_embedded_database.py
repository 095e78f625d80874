"""Without DATABASE_URL the commands use an embedded PostgreSQL: only those that need a database
start it, and each lets go of it on SIGINT and SIGTERM, the last one out stopping it."""

import signal

import pytest

from ..ground_truth import wait_until
from .embedded import embedded_server, is_running, one_account_config, run_manage, start_manage, wait_for_output


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory):
    """A var directory with a migrated embedded database (its initdb is paid once per module)."""
    var = tmp_path_factory.mktemp("embedded") / "var"
    migrated = run_manage(var, "migrate", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr
    return var


def test_commands_that_need_no_database_start_none(tmp_path):
    var = tmp_path / "var"
    for args in (["help"], ["check"], ["simulate_exchange", "--help"]):
        assert run_manage(var, *args).returncode == 0
    simulator = start_manage(var, "simulate_exchange", "--port", "0", log=tmp_path / "simulator.log")
    wait_for_output(tmp_path / "simulator.log", "listening on", simulator)
    simulator.send_signal(signal.SIGTERM)
    assert simulator.wait(timeout=60) == 0

    assert not (var / "pgdata").exists()


def test_a_command_that_used_the_database_stops_it_when_it_ends(var_dir):
    assert run_manage(var_dir, "showmigrations", "trades").returncode == 0

    assert (var_dir / "pgdata" / "PG_VERSION").exists()
    assert embedded_server(var_dir) is None


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_registering_simulator_stopped_by_a_signal_leaves_no_server(var_dir, tmp_path, signum):
    log = tmp_path / "simulator.log"
    simulator = start_manage(
        var_dir, "simulate_exchange", "--port", "0", "--register", "--config", str(one_account_config(tmp_path / "sim.json", 20)),
        log=log, ignore_sigint=True,
    )
    wait_for_output(log, "listening on", simulator)
    server = embedded_server(var_dir)
    assert server is not None

    simulator.send_signal(signum)

    assert simulator.wait(timeout=60) == 0
    wait_until(lambda: not is_running(server), message="the embedded server stopped")


def test_a_process_killed_outright_does_not_keep_the_server_running(var_dir, tmp_path):
    log = tmp_path / "simulator.log"
    simulator = start_manage(var_dir, "simulate_exchange", "--port", "0", "--register", "--config", str(one_account_config(tmp_path / "sim.json", 20)), log=log)
    wait_for_output(log, "listening on", simulator)
    server = embedded_server(var_dir)
    simulator.kill()
    simulator.wait(timeout=60)
    assert is_running(server)  # nobody let go of it

    assert run_manage(var_dir, "showmigrations", "trades").returncode == 0  # joins it, and is the last to leave

    wait_until(lambda: not is_running(server), message="the embedded server stopped")
