"""Every error is JSON with a `detail` message, and no input makes the API answer 500."""

import pytest

pytestmark = pytest.mark.django_db

BAD_QUERIES = [
    ("/api/trades", {"since": "yesterday"}),
    ("/api/trades", {"since": "2024-13-45T00:00:00Z"}),
    ("/api/trades", {"until": "99999-01-01"}),
    ("/api/trades", {"since": "1e400"}),
    ("/api/trades", {"until": "9999-12-31T23:59:59-01:00"}),
    ("/api/trades", {"since": "0001-01-01T00:00:00+01:00"}),
    ("/api/trades", {"since": "2024-01-01T00:00:00+25:00"}),
    ("/api/trades", {"account": ""}),
    ("/api/trades", {"since": "2024-01-02T00:00:00Z", "until": "2024-01-01T00:00:00Z"}),
    ("/api/trades", {"limit": "1000000"}),
    ("/api/trades", {"limit": "0"}),
    ("/api/trades", {"limit": "-5"}),
    ("/api/trades", {"limit": "ten"}),
    ("/api/trades", {"account": "abc"}),
    ("/api/trades", {"account": "99999999999999999999999"}),
    ("/api/trades", {"account": "1.5"}),
    ("/api/trades", {"side": "long"}),
    ("/api/trades", {"order": "sideways"}),
    ("/api/trades", {"symbol": "BTC\x00/USDT"}),
    ("/api/trades", {"symbol": "BTCUSDT"}),
    ("/api/trades", {"symbol": "B" * 500 + "/USDT"}),
    ("/api/trades", {"cursor": "not-a-cursor"}),
    ("/api/trades", {"cursor": "MjAyNC0wMS0wMXwx"}),  # a naive time
    ("/api/trades", {"cursor": "x" * 300}),
    ("/api/trades.csv", {"side": "both"}),
    ("/api/trades.csv", {"since": "soon"}),
    ("/api/trades.csv", {"until": "9999-12-31T23:59:59-01:00"}),
    ("/api/trades/statistics", {}),
    ("/api/trades/statistics", {"symbol": "BTC/USDT"}),
    ("/api/trades/statistics", {"symbol": "BTC/USDT", "since": "2024-01-02", "until": "2024-01-01"}),
    ("/api/positions", {"status": "pending"}),
    ("/api/positions", {"bot_instance": "-1"}),
    ("/api/positions", {"cursor": "%%%"}),
    ("/api/positions/abc", {}),
    ("/api/positions/0", {}),
    ("/api/positions/99999999999999999999999", {}),
    ("/api/positions/net", {"symbol": "nope"}),
    ("/api/accounts/abc", {}),
    ("/api/accounts/-3", {}),
    ("/api/sync-health", {"account": "all"}),
    ("/api/marks", {"account": "1e3"}),
    ("/api/pnl", {"symbol": "BTC/USDT/ETH"}),
]


@pytest.mark.parametrize(("path", "params"), BAD_QUERIES)
def test_a_bad_query_is_422_with_a_message(api, path, params):
    response = api.get(path, params)

    assert response.status_code == 422
    assert response["Content-Type"] == "application/json"
    assert isinstance(response.json()["detail"], str) and response.json()["detail"]


def test_a_validation_error_names_the_parameter(api):
    body = api.get("/api/trades", {"limit": "1000000"}).json()

    assert body["detail"] == "query.limit: Input should be less than or equal to 1000"
    assert body["errors"] == [{"loc": "query.limit", "msg": "Input should be less than or equal to 1000", "type": "less_than_equal"}]


@pytest.mark.parametrize("path", ["/api/positions/424242", "/api/accounts/424242", "/api/nothing-here", "/api/trades/424242/more"])
def test_what_is_not_there_is_404_json(api, path):
    response = api.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_an_unexpected_failure_is_500_json_without_the_traceback(api, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("api.positions.latest_marks", broken)

    response = api.get("/api/pnl")

    assert response.status_code == 500
    assert response.json() == {"detail": "internal error"}


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/api/trades", "/api/trades/statistics", "/api/positions/1", "/api/accounts", "/api/pnl"])
def test_the_api_is_read_only_and_says_so_in_json(client, token, method, path):
    response = getattr(client, method)(path, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == "GET"
    assert response.json() == {"detail": f"method {method.upper()} not allowed: the API is read-only; this path answers GET"}


@pytest.mark.parametrize("path", ["/api/", "/api/trades/"])
def test_a_path_beside_the_api_is_404_json(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response.json() == {"detail": "not found"}


def test_too_many_query_parameters_are_400_json(api, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10

    response = api.get("/api/trades", {f"p{n}": "x" for n in range(11)})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" in response.json()["detail"]


def test_a_host_not_allowed_is_400_json_under_the_api_and_a_page_elsewhere(client, settings):
    settings.ALLOWED_HOSTS = ["tracker.example"]

    api_response = client.get("/api/trades", headers={"Host": "evil.example"})
    page_response = client.get("/positions/", headers={"Host": "evil.example"})

    assert (api_response.status_code, api_response.json()) == (400, {"detail": "bad request"})
    assert page_response.status_code == 400
    assert page_response["Content-Type"].startswith("text/html")
