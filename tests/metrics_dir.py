"""A pytest plugin, loaded before Django's settings (`-p` in pytest.ini): the run's processes (this one
and every server, `track` or worker it starts, which inherit the variable) write their metrics to a
directory of the run's own, so that a deployment's `var/metrics`, an earlier run's files or another
run at the same time never add to what a test reads from /metrics."""

import atexit
import os
import shutil
import tempfile

if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="tracker-test-metrics-")
    atexit.register(shutil.rmtree, os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
