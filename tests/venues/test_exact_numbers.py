"""Numbers come from the exchange's strings: a recorded REST trade and a recorded stream trade, parsed by
the venue's ccxt client (markets loaded from the venue's simulated account) and normalised by ingest,
give exactly the payload's decimal strings, and the fee coin the payload names."""

from decimal import Decimal

import pytest

from exchanges.connectors import build_client
from trades.normalize import exact_trade

from .conftest import contract, payload

pytestmark = pytest.mark.usefixtures("venue")


@pytest.fixture
async def client(simulator, account_name):
    exchange = build_client(simulator.exchange_account(account_name))
    await exchange.load_markets()
    yield exchange
    await exchange.close()


def rest_trade(client, venue_name) -> tuple[dict, dict]:
    """The recorded REST row parsed as ccxt's fetch_my_trades parses it (with the market asked for)."""
    recorded = contract(venue_name)["rest_trade"]
    raw = payload(venue_name, recorded["payload"])
    for key in recorded["at"]:
        raw = raw[key]
    return client.parse_trade(raw, client.market(recorded["stored"]["symbol"])), recorded["stored"]


def streamed_trades(client, venue, venue_name) -> tuple[list[dict], dict]:
    """The recorded stream message handed to the ccxt.pro client as if its connection had received it."""
    recorded = contract(venue_name)["stream_trade"]
    client.handle_message(client.client("ws://recorded.invalid/private"), payload(venue_name, recorded["payload"]))
    return list(getattr(client, venue.stream_cache_key) or []), recorded["stored"]


def assert_stored_as_recorded(exact, stored: dict) -> None:
    assert exact.exchange_trade_id == stored["id"]
    assert (exact.market_symbol, exact.side, exact.taker_or_maker) == (stored["symbol"], stored["side"], stored["taker_or_maker"])
    for field in ("amount", "price", "cost", "fee_cost"):
        value = getattr(exact, field)
        assert isinstance(value, Decimal) and value == Decimal(stored[field]) and str(value) == stored[field], field
    assert exact.fee_currency == stored["fee_currency"]
    assert int(exact.timestamp.timestamp() * 1000) == stored["timestamp"]


async def test_a_rest_trade_keeps_the_exchanges_strings(client, venue, venue_name):
    trade, stored = rest_trade(client, venue_name)
    assert_stored_as_recorded(exact_trade(venue, trade), stored)


async def test_a_streamed_trade_keeps_the_exchanges_strings(client, venue, venue_name):
    trades, stored = streamed_trades(client, venue, venue_name)
    assert len(trades) == 1
    assert venue.is_own_streamed_trade(trades[0])
    assert_stored_as_recorded(exact_trade(venue, trades[0]), stored)
