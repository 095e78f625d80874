"""The venue contract suite: a test that takes `venue_name` runs once for each venue in the tracker's
registry (`exchanges.venues.VENUES`), with that venue's recorded payloads (payloads/<venue>/) and its
simulated account (`VENUE_ACCOUNTS` in exchanges/simulator/testing.py). A venue registered without
either fails the suite with a message saying what to add."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from exchanges.simulator.testing import VENUE_ACCOUNTS
from exchanges.venues import VENUES

PAYLOADS = Path(__file__).resolve().parent / "payloads"
CONTRACT = "contract.json"


def pytest_generate_tests(metafunc):
    if "venue_name" in metafunc.fixturenames:
        metafunc.parametrize("venue_name", list(VENUES))


def contract(venue_name: str) -> dict:
    """The venue's recorded payloads and what the venue documents about them (payloads/README.md)."""
    path = PAYLOADS / venue_name / CONTRACT
    if not path.is_file():
        pytest.fail(
            f"venue {venue_name} has no recorded payloads: add tests/venues/payloads/{venue_name}/{CONTRACT} "
            "and the payloads it names (see tests/venues/payloads/README.md)",
            pytrace=False,
        )
    return json.loads(path.read_text())


def payload(venue_name: str, name: str):
    return json.loads((PAYLOADS / venue_name / name).read_text())


def simulated_account_config(venue_name: str) -> dict:
    if venue_name not in VENUE_ACCOUNTS:
        pytest.fail(
            f"venue {venue_name} has no simulated account: add one to VENUE_ACCOUNTS in exchanges/simulator/testing.py "
            "(its protocol registered in exchanges/simulator/protocols/)",
            pytrace=False,
        )
    return copy.deepcopy(VENUE_ACCOUNTS[venue_name])


@pytest.fixture
def venue(venue_name):
    return VENUES[venue_name]


@pytest.fixture
def history() -> dict | None:
    """The simulated account's pre-loaded history; override in a module for one."""
    return None


@pytest.fixture
def simulator_config(venue_name, history):
    account = simulated_account_config(venue_name)
    if history:
        account["history"] = history
    return {"seed": 7, "accounts": [account]}


@pytest.fixture
def account_name(venue_name) -> str:
    return simulated_account_config(venue_name)["name"]
