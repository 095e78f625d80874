"""The API fuzzed from its own OpenAPI schema with schemathesis: whatever a caller sends, in or out of
the schema, the answer is never a server error, and a valid request gets an answer that matches the
schema it was promised."""

from datetime import UTC, datetime

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from api.models import ApiToken
from positions.models import MarkPrice
from trades.ingest import ingest_trades

from ..factories import binance_trade, bybit_trade, make_account, make_market

EXAMPLES = 40
# The CSV export streams from an async iterator: fine under ASGI, served here through WSGI.
pytestmark = pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume asynchronous iterators")
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@pytest.fixture
def api_schema(db):
    """The schema as the app serves it, called in-process through WSGI. As Django's test client
    does, requests leave the test's database connection open (it holds the test's transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def token(db):
    """A token, and something for it to read: trades, open and closed positions, marks."""
    spot = make_account(symbols=["BTC/USDT", "ETH/USDT"])
    make_market(spot, "BTC/USDT")
    make_market(spot, "ETH/USDT", amount_step="0.0001")
    perp = make_account("bybit_perp", venue="bybit_linear")
    make_market(perp, "BTC/USDT:USDT", contract_size="0.001")
    ingest_trades(spot, [binance_trade(n, side="buy" if n % 3 else "sell", amount="0.5", price=str(100 + n), fee="0.01") for n in range(1, 30)])
    ingest_trades(spot, [binance_trade(100, symbol="ETH/USDT", amount="2", price="30", fee="0.001", fee_currency="BNB")])
    ingest_trades(perp, [bybit_trade(f"e-{n}", side="sell" if n % 2 else "buy", amount="10", price=str(40000 + n), fee="-0.1") for n in range(1, 9)])
    MarkPrice.objects.create(account=spot, market_symbol="BTC/USDT", symbol="BTC/USDT", price="131.5", fetched_at=datetime(2024, 1, 2, tzinfo=UTC))
    operator = get_user_model().objects.create_user("operator", is_staff=True, is_superuser=True)
    return ApiToken.issue(operator, "fuzz")[1]


@schema.parametrize()
@FUZZ
def test_no_request_gets_a_server_error(case, token):
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    case.validate_response(response, checks=[not_a_server_error])


@schema.parametrize()
@FUZZ
def test_without_a_token_every_request_is_refused_and_never_an_error(case, db):
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code == (401 if case.method == "GET" else 405)  # the API is read-only


@schema.parametrize()
@FUZZ
def test_valid_requests_get_answers_that_match_the_schema(case, token):
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
