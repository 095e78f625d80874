import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from exchanges.models import ExchangeAccount

from ..factories import make_account

pytestmark = pytest.mark.django_db


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command("accounts", *args, stdout=out)
    return out.getvalue()


def test_add_list_disable(simulator):
    run("add", "binance_spot", "--venue", "binance_spot", "--symbols", "BTC/USDT,ETH/USDT", "--api-key", "K1", "--secret", "S3cr3t-value", "--base-url", simulator.base_url)
    account = ExchangeAccount.objects.get(name="binance_spot")
    assert (account.venue, account.symbols) == ("binance_spot", ["BTC/USDT", "ETH/USDT"])
    assert (account.venue_object.ccxt_id, account.market_type) == ("binance", "spot")
    assert account.api_secret == "S3cr3t-value"
    assert "binance_spot" in run("list")
    run("disable", "binance_spot")
    assert not ExchangeAccount.objects.get(name="binance_spot").enabled


def test_secrets_are_encrypted_at_rest_and_never_listed():
    run("add", "acct", "--venue", "bybit_linear", "--symbols", "BTC/USDT", "--api-key", "my-key-123", "--secret", "my-secret-456", "--no-check")
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key, api_secret FROM exchanges_exchangeaccount WHERE name = 'acct'")
        stored = " ".join(cursor.fetchone())
    assert "my-key-123" not in stored and "my-secret-456" not in stored
    account = ExchangeAccount.objects.get(name="acct")
    assert "my-secret-456" not in repr(account.api_secret)
    assert "my-secret-456" not in run("list")


def test_disable_an_unknown_account_is_an_error():
    make_account("spot1")
    with pytest.raises(CommandError, match="^no account named 'nope'; the accounts are: spot1$"):
        run("disable", "nope")


def test_a_bad_name_is_refused():
    with pytest.raises(CommandError, match="name"):
        run("add", "bad name!", "--venue", "binance_spot", "--secret", "x")
