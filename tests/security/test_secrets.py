"""Exchange credentials: encrypted at rest, and nowhere else in clear. A scenario that exercises
every place they could leak (sync against the simulator with faults and a rejected key, streams,
the admin, the API, error pages) collects all it can see, and the test greps it for them."""

import asyncio
import logging
import sys

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.db import connection
from django.core.signals import got_request_exception
from django.test import Client
from django.views.debug import ExceptionReporter, technical_500_response

from api.models import ApiToken
from exchanges.connectors import ExchangeConnector
from exchanges.crypto import decrypt
from exchanges.models import ExchangeAccount
from exchanges.simulator.testing import BINANCE, BYBIT
from trades.models import StreamHealth
from trades.sync import RestSync
from trades.synchronizer import TradeSynchronizer

from ..ground_truth import wait_until

pytestmark = pytest.mark.django_db(transaction=True)
# Built here so that no source line shown by a traceback of these tests holds one whole.
WRONG_SECRET = "-".join(["wrong", "but", "still", "secret", "0f9e8d7c"])
TYPED_KEY, TYPED_SECRET = "-".join(["typed", "key", "2468"]), "-".join(["typed", "secret", "1357"])


def debug_page_of_a_failing_view(request, account_id: int) -> str:
    try:
        account = ExchangeAccount.objects.get(pk=account_id)
        key, secret = account.api_key, account.api_secret  # noqa: F841 (locals the debug page shows)
        raise RuntimeError("exchange call failed")
    except RuntimeError:
        return technical_500_response(request, *sys.exc_info()).content.decode()


def failing_save(self, *args, **kwargs):
    raise RuntimeError("database went away")


def everything_in_the_database() -> str:
    """Every row of every table, as text: what a backup or a look at the database would show."""
    text = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            text += [repr(row) for row in cursor.fetchall()]
    return "\n".join(text)


def credentials(accounts) -> list[str]:
    return [value for account in accounts for value in (str(account.api_key), str(account.api_secret))]


def test_credentials_are_stored_encrypted(simulated_accounts):
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, api_key, api_secret FROM exchanges_exchangeaccount ORDER BY name")
        rows = cursor.fetchall()

    for name, key, secret in rows:
        account = simulated_accounts[name]
        assert key.startswith("gAAAAA") and secret.startswith("gAAAAA")  # Fernet tokens
        assert (decrypt(key), decrypt(secret)) == (account.api_key, account.api_secret)
    dump = everything_in_the_database()
    assert not [value for value in credentials(simulated_accounts.values()) if value in dump]


def test_a_decrypted_secret_does_not_show_itself():
    account = ExchangeAccount(name="x", venue="binance_spot", api_key="key-value-1234", api_secret="secret-value-5678")
    account.save()
    account = ExchangeAccount.objects.get(pk=account.pk)

    shown = [repr(account), str(account), repr(account.api_secret), repr(vars(account)), f"{account!r} {[account.api_key]}"]

    assert not [text for text in shown if "secret-value-5678" in text or "key-value-1234" in text]


def test_credentials_appear_in_no_log_page_api_answer_error_page_or_stored_error(simulator, simulated_accounts, caplog):
    caplog.set_level(logging.DEBUG)
    binance, bybit = simulated_accounts[BINANCE], simulated_accounts[BYBIT]
    bybit.api_secret = WRONG_SECRET  # refused: Bybit echoes the signed string, API key included, in its error
    bybit.save()
    bybit = ExchangeAccount.objects.get(pk=bybit.pk)
    secrets = credentials([binance, bybit]) + [simulator.account(BYBIT).api_secret]
    simulator.faults(
        {"action": "429", "protocol": "bybit"}, {"action": "5xx", "count": 2, "protocol": "binance"}, {"action": "malformed", "protocol": "binance"}
    )
    seen = []

    # REST passes and streams: the good account with faults, the refused one stopping.
    async def sync():
        for account in (binance, bybit):
            connector = ExchangeConnector(account)
            try:
                result = await RestSync(account, connector.rest_client()).run(account.symbols)
                seen.append(result.stopped)
            finally:
                await connector.close()
        synchronizer = TradeSynchronizer({a.name: ExchangeConnector(a) for a in (binance, bybit)}, interval_seconds=3600)
        await synchronizer.start({a.name: a.symbols for a in (binance, bybit)})
        await simulator.apost_trades({"account": BINANCE, "symbol": "BTC/USDT", "side": "buy", "amount": "0.001", "price": "60000"})
        await asyncio.sleep(3)
        await synchronizer.stop()

    async_to_sync(sync)()
    assert seen[1]  # the refused account stopped: its error message is among what is checked

    # The admin and the API, as an operator sees them.
    operator = get_user_model().objects.create_user("operator", is_staff=True, is_superuser=True)
    token = ApiToken.issue(operator)[1]
    client = Client()
    client.force_login(operator)
    for account in (binance, bybit):
        for url in ("/admin/exchanges/exchangeaccount/", f"/admin/exchanges/exchangeaccount/{account.pk}/change/",
                    f"/admin/exchanges/exchangeaccount/{account.pk}/history/", f"/admin/exchanges/exchangeaccount/{account.pk}/delete/",
                    "/admin/trades/streamhealth/", "/admin/trades/synccursor/", "/positions/"):
            seen.append(client.get(url).content.decode())
        for url in ("/api/accounts", f"/api/accounts/{account.pk}", "/api/sync-health", "/api/openapi.json"):
            seen.append(client.get(url, headers={"Authorization": f"Bearer {token}"}).content.decode())

    # Error pages: Django's debug page for an error while the credentials are at hand, in a view ...
    seen.append(debug_page_of_a_failing_view(client.get("/").wsgi_request, binance.pk))

    # ... and while the admin saves credentials typed into its form: the page a visitor gets, and the
    # full report that error mails (and any report handler) carry.
    reports = []

    def report(sender, request, **kwargs):
        reports.append(ExceptionReporter(request, *sys.exc_info(), is_email=True).get_traceback_text())

    form = {"name": binance.name, "venue": "binance_spot", "api_key": TYPED_KEY, "api_secret": TYPED_SECRET,
            "base_url": binance.base_url, "enabled": "on", "symbols": '["BTC/USDT"]'}
    client.raise_request_exception = False
    got_request_exception.connect(report)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(ExchangeAccount, "save", failing_save)
            response = client.post(f"/admin/exchanges/exchangeaccount/{binance.pk}/change/", form)
    finally:
        got_request_exception.disconnect(report)
    assert response.status_code == 500 and len(reports) == 1 and "database went away" in reports[0]
    seen += [response.content.decode(), *reports]
    secrets += [TYPED_KEY, TYPED_SECRET]

    # What sync health stored, and everything else in the database.
    seen += [f"{h.stopped_reason} {h.last_error}" for h in StreamHealth.objects.all()]
    seen.append(everything_in_the_database())
    seen.append(caplog.text)

    everything = "\n".join(seen)
    assert "error sign" in everything or "10004" in everything  # Bybit's refusal was seen, scrubbed
    assert not [secret for secret in secrets if secret in everything]


def test_the_error_page_in_production_shows_nothing(client, settings):
    settings.DEBUG = False
    client.raise_request_exception = False
    client.force_login(get_user_model().objects.create_user("operator", is_staff=True, is_superuser=True))
    ExchangeAccount.objects.create(name="x", venue="binance_spot", api_key="key-value-1234", api_secret="secret-value-5678")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("exchanges.admin.ExchangeAccountAdmin.has_credentials", lambda self, account: 1 / 0)
        response = client.get("/admin/exchanges/exchangeaccount/")

    assert response.status_code == 500
    assert "secret-value-5678" not in response.content.decode() and "Traceback" not in response.content.decode()


def test_rest_errors_are_stored_without_the_credentials(simulator, simulated_accounts):
    account = simulated_accounts[BYBIT]
    account.api_secret = WRONG_SECRET
    account.save()
    account = ExchangeAccount.objects.get(pk=account.pk)

    async def run():
        connector = ExchangeConnector(account)
        try:
            return await RestSync(account, connector.rest_client()).run(account.symbols)
        finally:
            await connector.close()

    result = async_to_sync(run)()
    health = wait_until(lambda: StreamHealth.objects.filter(account=account).first(), 10)

    assert result.stopped and "****" in result.stopped  # the key Bybit echoed back was taken out
    assert str(account.api_key) not in health.stopped_reason + health.last_error


def debug_page_of(request) -> str:
    try:
        raise RuntimeError("a view failed")
    except RuntimeError:
        return technical_500_response(request, *sys.exc_info()).content.decode()


def test_the_debug_page_hides_the_connection_urls_and_their_passwords(rf, settings):
    password = "-".join(["db", "password", "9876"])
    url = f"postgresql://tracker:{password}@db.internal:5432/tracker"
    redis_url = f"redis://:{password}@cache.internal:6379/0"
    settings.DATABASE_URL, settings.REDIS_URL, settings.CELERY_BROKER_URL = url, redis_url, redis_url
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [{"address": redis_url}]}}}
    request = rf.get("/", DATABASE_URL=url, REDIS_URL=redis_url)  # as runserver passes the environment in META

    page = debug_page_of(request)

    assert "a view failed" in page and "DATABASE_URL" in page
    assert password not in page
