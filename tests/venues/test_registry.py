"""Every venue in the tracker's registry comes with what the contract suite needs: recorded payloads and
a simulated account of the same venue; one without them fails here saying what to add."""

import pytest

from exchanges.simulator.config import parse_config
from exchanges.venues import venue_for

from .conftest import contract, payload, simulated_account_config

CONTRACT_KEYS = {"rest_trade", "stream_trade", "trade_list_path", "max_page", "max_window_ms", "refusals"}
REFUSALS = {"bad_signature", "unknown_key", "stale_timestamp", "long_window", "rate_limit"}


def test_the_venue_has_recorded_payloads(venue_name):
    recorded = contract(venue_name)
    assert CONTRACT_KEYS <= set(recorded), f"{venue_name}'s contract.json lacks {sorted(CONTRACT_KEYS - set(recorded))}"
    assert REFUSALS <= set(recorded["refusals"]), f"{venue_name}'s contract.json lacks refusals {sorted(REFUSALS - set(recorded['refusals']))}"
    for kind in ("rest_trade", "stream_trade"):
        assert payload(venue_name, recorded[kind]["payload"]), f"{venue_name}: {recorded[kind]['payload']} is empty"


def test_the_venue_has_a_simulated_account_of_the_same_venue(venue_name):
    [account] = parse_config({"accounts": [simulated_account_config(venue_name)]}).accounts
    assert venue_for(account.ccxt_id, account.market_type).name == venue_name


def test_a_venue_without_payloads_or_account_is_told_what_to_add():
    with pytest.raises(pytest.fail.Exception, match=r"venue okx_spot has no recorded payloads: add tests/venues/payloads/okx_spot/contract.json"):
        contract("okx_spot")
    with pytest.raises(pytest.fail.Exception, match=r"venue okx_spot has no simulated account: add one to VENUE_ACCOUNTS in exchanges/simulator/testing.py"):
        simulated_account_config("okx_spot")
