"""What a perpetual venue books besides the account's own fills: the venue's recorded liquidation, ADL
and funding rows, parsed by its ccxt client as its pager parses them, split into trades (with their
kind, and their leg for a hedge-mode account) and funding payments (exact, + received). A venue
without funding or legs says so, and its recorded trade is a plain fill."""

from decimal import Decimal

import pytest

from exchanges.connectors import build_client
from trades.funding import exact_payment
from trades.normalize import exact_trade

from .conftest import contract, payload

pytestmark = pytest.mark.usefixtures("venue")


@pytest.fixture
async def client(simulator, account_name):
    exchange = build_client(simulator.exchange_account(account_name))
    await exchange.load_markets()
    yield exchange
    await exchange.close()


def is_perpetual(venue) -> bool:
    return venue.has_funding or len(venue.position_modes) > 1


def recorded_executions(client, venue_name) -> tuple[list[dict], dict]:
    recorded = contract(venue_name).get("perpetual_executions")
    if recorded is None:
        pytest.fail(
            f"venue {venue_name} books funding or legs but records no perpetual executions: add perpetual_executions to "
            f"tests/venues/payloads/{venue_name}/contract.json (see tests/venues/payloads/README.md)",
            pytrace=False,
        )
    rows = payload(venue_name, recorded["payload"])
    for key in recorded["at"]:
        rows = rows[key]
    symbol = recorded["funding"][0]["symbol"] if recorded["funding"] else None
    return client.parse_trades(rows, client.market(symbol) if symbol else None), recorded


async def test_liquidations_and_adl_are_trades_of_their_kind_and_leg(client, venue, venue_name):
    if not is_perpetual(venue):
        trade = client.parse_trade(*_rest_row(client, venue_name))
        assert (venue.has_funding, venue.position_modes, venue.trade_kind(trade)) == (False, ("one_way",), "fill")
        return
    executions, recorded = recorded_executions(client, venue_name)
    trades = [e for e in executions if not venue.is_funding(e)]
    assert len(trades) == len(recorded["trades"])
    for parsed, stored in zip(trades, recorded["trades"]):
        one_way, hedge = exact_trade(venue, parsed), exact_trade(venue, parsed, hedge=True)
        assert (hedge.exchange_trade_id, hedge.kind, hedge.leg, hedge.side) == (stored["id"], stored["kind"], stored["hedge_leg"], stored["side"])
        assert one_way.leg == "" and one_way.kind == stored["kind"]
        for field in ("amount", "price", "cost", "fee_cost"):
            assert str(getattr(hedge, field)) == stored[field], field


async def test_funding_rows_are_payments_never_trades(client, venue, venue_name):
    if not venue.has_funding:
        pytest.skip(f"{venue_name} has no funding")
    executions, recorded = recorded_executions(client, venue_name)
    payments = [e for e in executions if venue.is_funding(e)]
    assert len(payments) == len(recorded["funding"])
    for parsed, stored in zip(payments, recorded["funding"]):
        exact = exact_payment(venue, parsed, hedge=True)
        assert (exact.exchange_funding_id, exact.market_symbol, exact.leg, exact.currency) == (stored["id"], stored["symbol"], stored["hedge_leg"], stored["currency"])
        for field in ("amount", "rate", "position_size"):
            value = getattr(exact, field)
            assert isinstance(value, Decimal) and str(value) == stored[field], field
        assert int(exact.timestamp.timestamp() * 1000) == stored["timestamp"]
        assert exact_payment(venue, parsed).leg == ""


def _rest_row(client, venue_name):
    recorded = contract(venue_name)["rest_trade"]
    raw = payload(venue_name, recorded["payload"])
    for key in recorded["at"]:
        raw = raw[key]
    return raw, client.market(recorded["stored"]["symbol"])
