import pytest

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "/api/accounts",
    "/api/accounts/{account_id}",
    "/api/trades",
    "/api/trades.csv",
    "/api/trades/statistics",
    "/api/funding",
    "/api/funding.csv",
    "/api/sync-health",
    "/api/positions",
    "/api/positions/net",
    "/api/positions/{position_id}",
    "/api/marks",
    "/api/pnl",
]


def test_the_openapi_schema_is_served_and_lists_every_endpoint(client):
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert sorted(schema["paths"]) == sorted(ENDPOINTS)
    assert all(list(operations) == ["get"] for operations in schema["paths"].values())


def test_the_schema_declares_bearer_auth_and_decimal_strings(client):
    schema = client.get("/api/openapi.json").json()

    assert schema["components"]["securitySchemes"]["TokenAuth"] == {"type": "http", "scheme": "bearer"}
    assert schema["components"]["schemas"]["TradeOut"]["properties"]["price"]["type"] == "string"
    assert schema["components"]["schemas"]["TradeOut"]["properties"]["timestamp"]["format"] == "date-time"


def test_the_docs_page_is_served_without_a_cdn(client):
    response = client.get("/api/docs")

    assert response.status_code == 200
    assert b"/static/ninja/swagger-ui-bundle.js" in response.content
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200
