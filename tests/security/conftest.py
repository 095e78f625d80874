from exchanges.simulator.testing import *  # noqa: F401,F403
