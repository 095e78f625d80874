"""The fault-injection soak: the distributed deployment (Celery beat and worker, the Channels streams
worker, Redis) against the exchange simulator, with faults on a schedule, checked against the
simulator's ground truth. `bench/soak.py` runs it at full size; `tests/soak/` runs a small one.

- `deployment`: the processes (own Redis, Celery beat and worker, streams worker, simulator) and the
  faults done to them (SIGKILL and restart, Redis restart, PostgreSQL backends terminated).
- `traffic`: the trades posted to the simulator and the schedule of injected faults.
- `verdict`: stored trades and positions against an independent fold of the ground truth; the table.
- `run`: one soak from start to verdict.
"""
