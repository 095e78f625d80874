"""The simulator refuses what the venue refuses, with the venue's own codes (recorded in each venue's
contract.json from its documentation), and the tracker's ccxt client reads them as ccxt does: a bad
signature, an unknown key, a stale timestamp, a window longer than the venue allows, and its rate-limit
answer."""

import ccxt
import pytest

from exchanges.connectors import build_client

from .conftest import contract

pytestmark = pytest.mark.usefixtures("venue")
HOUR_MS = 3_600_000


def refusal(venue_name, kind):
    expected = contract(venue_name)["refusals"][kind]
    return getattr(ccxt, expected["error"]), expected


async def refused(exchange, call, error, code):
    try:
        with pytest.raises(error, match=code) as raised:
            await call(exchange)
        return raised.value
    finally:
        await exchange.close()


def symbol_of(simulator, account_name):
    return simulator.account(account_name).markets[0].symbol


@pytest.mark.parametrize("kind, changes", [("bad_signature", {"api_secret": "not-the-secret"}), ("unknown_key", {"api_key": "nobody"})])
async def test_bad_credentials_are_an_authentication_error(simulator, venue_name, account_name, kind, changes):
    error, expected = refusal(venue_name, kind)
    symbol = symbol_of(simulator, account_name)
    exchange = build_client(simulator.exchange_account(account_name, **changes))
    await refused(exchange, lambda c: c.fetch_my_trades(symbol), error, expected["code"])


async def test_a_stale_timestamp_is_refused(simulator, venue_name, account_name):
    error, expected = refusal(venue_name, "stale_timestamp")
    symbol = symbol_of(simulator, account_name)
    exchange = build_client(simulator.exchange_account(account_name))

    async def call(client):
        await client.load_markets()
        client.options["timeDifference"] = 30_000  # the client's clock runs 30 s behind
        await client.fetch_my_trades(symbol)

    await refused(exchange, call, error, expected["code"])


async def test_a_window_longer_than_the_venue_allows_is_refused(simulator, venue, venue_name, account_name):
    error, expected = refusal(venue_name, "long_window")
    longest = contract(venue_name)["max_window_ms"]
    symbol = symbol_of(simulator, account_name)
    since = simulator.simulator.now_ms() - 30 * 24 * HOUR_MS
    exchange = build_client(simulator.exchange_account(account_name))

    await refused(exchange, lambda c: c.fetch_my_trades(symbol, since=since, params={"until": since + longest + HOUR_MS}), error, expected["code"])


async def test_the_venues_pager_asks_no_more_than_the_venue_allows(venue, venue_name):
    recorded = contract(venue_name)
    pager = venue.pager()
    assert pager.limit <= recorded["max_page"]
    assert pager.window_ms <= recorded["max_window_ms"]


async def test_rate_limits_are_answered_as_the_venue_answers_them(simulator, venue_name, account_name):
    error, expected = refusal(venue_name, "rate_limit")
    symbol = symbol_of(simulator, account_name)
    exchange = build_client(simulator.exchange_account(account_name))
    await exchange.load_markets()
    await simulator.afaults({"action": "429", "count": 1})

    await refused(exchange, lambda c: c.fetch_my_trades(symbol), error, expected["code"])
    assert expected["header"].lower() in {name.lower() for name in exchange.last_response_headers or {}}
