from datetime import UTC, datetime, timedelta

from django.utils import timezone

from trades.health import note_rest_cadence, sync_health
from trades.models import StreamHealth, SyncCursor

from ..factories import make_account

NOW = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)


def test_sync_health_per_account_and_symbol(api, account):
    connected = timezone.now() - timedelta(minutes=5)
    StreamHealth.objects.create(account=account, ws_connected_since=connected, ws_reconnects=2)
    SyncCursor.objects.create(account=account, symbol="BTC/USDT", last_trade_id="41", last_sync_at=timezone.now(), last_pass_fetched=3, last_pass_new=1)
    make_account("bybit_perp", venue="bybit_linear")

    response = api.get("/api/sync-health")

    assert response.status_code == 200
    spot, perp = response.json()
    assert (spot["account"], spot["ws_connected"], spot["ws_reconnects"]) == ("binance_spot", True, 2)
    assert spot["ws_connected_since"].endswith("Z")
    (symbol,) = spot["symbols"]
    assert (symbol["symbol"], symbol["last_trade_id"], symbol["last_pass_fetched"], symbol["last_pass_new"]) == ("BTC/USDT", "41", 3, 1)
    assert symbol["lag_seconds"] >= 0
    assert spot["last_rest_sync"] == symbol["last_sync_at"]
    assert (perp["account"], perp["ws_connected"], perp["symbols"], perp["lag_seconds"]) == ("bybit_perp", False, [], None)


def test_sync_health_of_one_account(api, account):
    other = make_account("bybit_perp", venue="bybit_linear")

    assert [h["account"] for h in api.get("/api/sync-health", {"account": other.pk}).json()] == ["bybit_perp"]


def test_the_lag_is_that_of_the_stalest_symbol(account):
    SyncCursor.objects.create(account=account, symbol="BTC/USDT", last_sync_at=NOW - timedelta(seconds=10))
    SyncCursor.objects.create(account=account, symbol="ETH/USDT", last_sync_at=NOW - timedelta(seconds=70))

    (health,) = sync_health(now=NOW)

    assert [s.lag_seconds for s in health.symbols] == [10.0, 70.0]
    assert health.lag_seconds == 70.0
    assert health.last_rest_sync == NOW - timedelta(seconds=10)


def test_a_symbol_never_synced_leaves_the_lag_unknown(account):
    SyncCursor.objects.create(account=account, symbol="BTC/USDT", last_sync_at=NOW)
    SyncCursor.objects.create(account=account, symbol="ETH/USDT")

    (health,) = sync_health(now=NOW)

    assert health.lag_seconds is None
    assert not health.ws_connected


def test_a_stopped_account_says_why(api, account):
    StreamHealth.objects.create(account=account, stopped_reason="API key rejected", last_error="AuthenticationError")

    (health,) = api.get("/api/sync-health").json()

    assert (health["stopped_reason"], health["last_error"]) == ("API key rejected", "AuthenticationError")


def test_sync_health_says_which_accounts_are_down_and_why(api, account):
    perp = make_account("bybit_perp", venue="bybit_linear")
    spot3 = make_account("spot3")
    StreamHealth.objects.create(account=account, stopped_reason="binance_spot BTC/USDT: AuthenticationError: signature not valid")
    StreamHealth.objects.create(account=perp, down_reason="NetworkError: connection refused", down_since=NOW)
    StreamHealth.objects.create(account=spot3, last_error="a stream dropped once")

    health = {h["account"]: h for h in api.get("/api/sync-health").json()}

    assert {name: (h["state"], h["reason"]) for name, h in health.items()} == {
        "binance_spot": ("down", "binance_spot BTC/USDT: AuthenticationError: signature not valid"),
        "bybit_perp": ("down", "NetworkError: connection refused"),
        "spot3": ("ok", ""),
    }
    assert health["bybit_perp"]["down_since"] == "2024-01-01T12:00:00Z"


def test_sync_health_shows_the_rest_cadence_each_account_gets(api, account):
    note_rest_cadence(account, 74.52, 75.0)

    (health,) = api.get("/api/sync-health").json()

    assert (health["rest_interval_seconds"], health["rest_planned_interval_seconds"]) == (74.52, 75.0)
