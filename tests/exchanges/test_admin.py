import pytest

from trades.ingest import ingest_trades

from ..factories import binance_trade

pytestmark = pytest.mark.django_db


def test_admin_lists_accounts_trades_and_positions_without_showing_secrets(admin_client, account):
    account.api_secret = "never-show-this-secret"
    account.save()
    ingest_trades(account, [binance_trade(4242, amount="2")])

    pages = {
        url: admin_client.get(url)
        for url in (
            "/admin/exchanges/exchangeaccount/",
            f"/admin/exchanges/exchangeaccount/{account.pk}/change/",
            "/admin/trades/trade/",
            "/admin/positions/position/",
            "/admin/trades/synccursor/",
        )
    }
    for url, response in pages.items():
        assert response.status_code == 200, url
        assert b"never-show-this-secret" not in response.content, url
    assert b"4242" in pages["/admin/trades/trade/"].content
    assert b"BTC/USDT" in pages["/admin/positions/position/"].content


def test_saving_an_account_with_empty_secret_fields_keeps_the_secrets(admin_client, account):
    account.symbols = ["BTC/USDT"]
    account.save()
    response = admin_client.post(
        f"/admin/exchanges/exchangeaccount/{account.pk}/change/",
        {"name": account.name, "venue": "binance_spot", "api_key": "", "api_secret": "", "base_url": "", "enabled": "on", "symbols": '["BTC/USDT"]'},
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.api_key, account.api_secret) == ("key", "secret")
