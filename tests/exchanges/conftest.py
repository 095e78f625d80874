from exchanges.simulator.testing import *  # noqa: F401,F403  (simulator, simulator_config, simulated_accounts)
