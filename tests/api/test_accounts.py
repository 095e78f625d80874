from ..factories import make_account


def account_with_credentials(name, key, secret, **fields):
    account = make_account(name, **fields)
    account.api_key, account.api_secret = key, secret
    account.save()
    return account


def test_lists_accounts_without_their_credentials(api):
    account_with_credentials("binance_spot", "my-api-key", "my-api-secret", symbols=["BTC/USDT"])
    account_with_credentials("bybit_perp", "other-key", "other-secret", venue="bybit_linear")

    response = api.get("/api/accounts")

    assert response.status_code == 200
    assert [(a["name"], a["venue"], a["exchange"], a["market_type"]) for a in response.json()] == [
        ("binance_spot", "binance_spot", "binance", "spot"),
        ("bybit_perp", "bybit_linear", "bybit", "swap"),
    ]
    assert response.json()[0]["symbols"] == ["BTC/USDT"]
    body = response.content.decode()
    for secret in ("my-api-key", "my-api-secret", "other-key", "other-secret", "api_key", "api_secret"):
        assert secret not in body


def test_one_account(api):
    account = account_with_credentials("binance_spot", "my-api-key", "my-api-secret")

    response = api.get(f"/api/accounts/{account.pk}")

    assert response.status_code == 200
    assert response.json()["name"] == "binance_spot"
    assert response.json()["created_at"].endswith("Z")
    assert "my-api-secret" not in response.content.decode()


def test_an_unknown_account_is_404(api):
    response = api.get("/api/accounts/424242")

    assert response.status_code == 404
    assert response.json() == {"detail": "No ExchangeAccount matches the given query."}


def test_an_account_left_on_an_unknown_venue_is_listed_with_its_venue_name(api):
    make_account("old", venue="kraken_spot")  # as the venue migration leaves an account on a pair no venue is

    [listed] = api.get("/api/accounts").json()

    assert (listed["venue"], listed["exchange"], listed["market_type"]) == ("kraken_spot", "", "")
