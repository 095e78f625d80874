"""A small soak: the distributed deployment (Celery beat and worker, the streams worker, a Redis of
its own) against the simulator while faults are injected, the tracker's processes are SIGKILLed and
restarted twice, Redis is restarted and PostgreSQL connections are terminated. Every trade stored
exactly once with its kind and leg (liquidations and ADL fills among them), every funding payment
once in the funding ledger, positions (a hedge-mode account's legs among them) equal to an
independent fold of the ground truth's trades and funding. `bench/soak.py` is the same
at 100,000 trades."""

import pytest

from bench.soaking.deployment import Settings
from bench.soaking.run import Plan, run_soak
from bench.soaking.verdict import table

from .. import processes

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_small_soak_loses_nothing_and_counts_nothing_twice(tmp_path):
    plan = Plan(trades=600, minutes=0.5, seed=3, settle_seconds=120, settings=Settings(sync_interval_seconds=5), binance_window_seconds=10)

    verdict = run_soak(plan, processes.test_database_url(), tmp_path)

    report = "\n".join(f"{name}: {value}" for name, value in table(verdict)[1]) + "\n" + "\n".join(verdict.examples)
    print(report)
    assert verdict.trades_made == verdict.trades_stored >= 600, report  # the soak's fills, and liquidations and ADL
    assert (verdict.funding_missing, verdict.funding_unknown, verdict.funding_mismatches) == (0, 0, 0), report
    assert verdict.funding_made == verdict.funding_stored > 0, report
    assert (verdict.missing, verdict.duplicated, verdict.unknown, verdict.field_mismatches) == (0, 0, 0, 0), report
    assert (verdict.unprocessed, verdict.position_mismatches, verdict.audit_missing) == (0, 0, 0), report
    assert verdict.positions_checked > verdict.positions_with_funding > 0, report  # funding folded into positions
    assert verdict.leg_positions_checked > 0, report  # the hedge-mode account's legs
    assert verdict.faults["perpetual event: liquidation"] + verdict.faults["perpetual event: adl"] > 0, report
    # The faults really happened.
    assert verdict.faults["process.sigkill"] == 4 and verdict.faults["redis.restart"] == 1, report
    assert verdict.faults["postgres.terminate_backend"] > 0 and verdict.faults["binance.ban"] == 1, report
    assert verdict.faults["ws.disconnect"] > 0 and verdict.faults["rest.5xx"] > 0, report
    assert not verdict.unexpected_exits, report  # nothing died by itself
