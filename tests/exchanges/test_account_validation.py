"""`accounts add`, the admin form and the model refuse an account the tracker cannot sync, with one
line saying what is wrong and what to write instead; nothing invalid is stored."""

import socket
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from exchanges.models import ExchangeAccount
from exchanges.venues import VENUES
pytestmark = pytest.mark.django_db

KNOWN_VENUES = ", ".join(VENUES)  # every registered venue, in the registry's order


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def add(*args, base_url=None):
    out = StringIO()
    extra = ["--base-url", base_url] if base_url else []
    call_command("accounts", "add", *args, *extra, stdout=out)
    return out.getvalue()


def refused(*args, base_url=None) -> str:
    with pytest.raises(CommandError) as raised:
        add(*args, base_url=base_url)
    assert not ExchangeAccount.objects.exists()
    message = str(raised.value)
    assert "\n" not in message
    return message


KEYS = ["--api-key", "K", "--secret", "S"]


def test_a_valid_account_is_checked_on_the_venue_and_stored(simulator):
    assert add("spot1", "--venue", "binance_spot", "--symbols", "BTC/USDT,ETH/USDT", *KEYS, base_url=simulator.base_url) == "added spot1\n"
    add("perp1", "--venue", "bybit_linear", "--symbols", "BTC/USDT:USDT,ETH/USDT", *KEYS, base_url=simulator.base_url)
    assert dict(ExchangeAccount.objects.values_list("name", "symbols")) == {
        "spot1": ["BTC/USDT", "ETH/USDT"],
        "perp1": ["BTC/USDT:USDT", "ETH/USDT"],
    }


@pytest.mark.parametrize("venue", ["krakenx_spot", "binance", "binance_swap", "bybit_spot_"])
def test_an_unknown_venue_is_refused_with_the_known_ones(venue):
    message = refused("a", "--venue", venue, "--symbols", "BTC/USDT", *KEYS)
    assert message == f"--venue: {venue} is not a venue the tracker supports; the venues are: {KNOWN_VENUES}"


def test_the_venue_is_read_whatever_its_case(simulator):
    add("a", "--venue", " Bybit_Linear", "--symbols", "BTC/USDT", *KEYS, base_url=simulator.base_url)
    assert ExchangeAccount.objects.get().venue == "bybit_linear"


def test_no_symbols_is_refused():
    assert refused("a", "--venue", "binance_spot", *KEYS) == "--symbols: no symbols: name at least one to track, e.g. BTC/USDT"


def test_an_empty_symbol_is_refused():
    message = refused("a", "--venue", "binance_spot", "--symbols", "BTC/USDT,,ETH/USDT", *KEYS)
    assert message == "--symbols: symbol 2 of 3 is empty: write names separated by single commas, e.g. BTC/USDT,ETH/USDT"


def test_a_symbol_without_its_slash_gets_a_suggestion_even_unchecked():
    message = refused("a", "--venue", "binance_spot", "--symbols", "BTCUSDT", *KEYS, "--no-check")
    assert message == "--symbols: BTCUSDT is not a symbol: did you mean BTC/USDT?"


def test_a_symbol_the_venue_does_not_list_gets_the_market_it_means(simulator):
    message = refused("a", "--venue", "binance_spot", "--symbols", "BTC/USDT,eth/usdt,DOGE/USDT", *KEYS, base_url=simulator.base_url)
    eth, doge = message.removeprefix("--symbols: ").split("; ")
    assert eth == "eth/usdt is not a market on binance_spot: did you mean ETH/USDT?"
    assert doge.startswith("DOGE/USDT is not a market on binance_spot: it has ")
    assert {"BTC/USDT", "ETH/USDT"} <= set(doge.split(": it has ")[1].split(", "))


def test_a_perpetual_account_is_told_the_perpetual_symbol(simulator):
    message = refused("a", "--venue", "bybit_linear", "--symbols", "BTCUSDT", *KEYS, base_url=simulator.base_url)
    assert message == "--symbols: BTCUSDT is not a symbol: did you mean BTC/USDT:USDT?"
    message = refused("a", "--venue", "bybit_linear", "--symbols", "BTC/USDC:USDC", *KEYS, base_url=simulator.base_url)
    assert "BTC/USDC:USDC is not a market on bybit_linear" in message


@pytest.mark.parametrize(
    "credentials, expected",
    [
        (["--secret", "S"], "--api-key: binance_spot needs an API key (a read-only key is enough)"),
        (["--api-key", "K"], "--secret: binance_spot needs an API secret (a read-only key is enough)"),
    ],
)
def test_missing_credentials_are_refused(credentials, expected):
    assert refused("a", "--venue", "binance_spot", "--symbols", "BTC/USDT", *credentials) == expected


def test_a_base_url_that_is_not_http_is_refused():
    message = refused("a", "--venue", "binance_spot", "--symbols", "BTC/USDT", *KEYS, base_url="ftp://127.0.0.1:8900")
    assert message == "--base-url: 'ftp://127.0.0.1:8900' is not an http(s) URL: write e.g. http://127.0.0.1:8900, or leave it empty for the real exchange"


def test_a_venue_that_cannot_be_reached_stores_nothing_unless_told_not_to_check():
    nowhere = f"http://127.0.0.1:{free_port()}"
    message = refused("a", "--venue", "binance_spot", "--symbols", "BTC/USDT", *KEYS, base_url=nowhere)
    assert message.startswith(f"could not load the markets of binance_spot from {nowhere} (")
    assert message.endswith("nothing stored. Check --base-url, or add --no-check to store without checking the symbols")

    add("a", "--venue", "binance_spot", "--symbols", "BTC/USDT", *KEYS, "--no-check", base_url=nowhere)
    assert ExchangeAccount.objects.get().symbols == ["BTC/USDT"]


def test_the_model_refuses_what_the_command_refuses():
    account = ExchangeAccount(name="a", venue="krakenx_spot", symbols=["BTCUSDT", ""], base_url="ftp://x.example")
    with pytest.raises(ValidationError) as raised:
        account.full_clean()
    errors = raised.value.message_dict
    assert set(errors) == {"venue", "symbols", "base_url"}  # an unknown venue has no credential rule
    assert errors["venue"] == [f"krakenx_spot is not a venue the tracker supports; the venues are: {KNOWN_VENUES}"]
    assert errors["symbols"] == [
        "BTCUSDT is not a symbol: did you mean BTC/USDT?",
        "symbol 2 of 2 is empty: write names separated by single commas, e.g. BTC/USDT,ETH/USDT",
    ]


def admin_post(admin_client, **fields):
    data = {"name": "a", "venue": "binance_spot", "api_key": "K", "api_secret": "S", "base_url": "", "enabled": "on", "symbols": '["BTC/USDT"]'}
    return admin_client.post("/admin/exchanges/exchangeaccount/add/", {**data, **fields})


def test_the_admin_form_shows_the_error_and_stores_nothing(admin_client, simulator):
    response = admin_post(admin_client, symbols='["BTCUSDT"]', base_url=simulator.base_url)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"symbols": ["BTCUSDT is not a symbol: did you mean BTC/USDT?"]}

    response = admin_post(admin_client, symbols='["ETHH/USDT"]', base_url=simulator.base_url)
    assert response.context["adminform"].form.errors == {"symbols": ["ETHH/USDT is not a market on binance_spot: did you mean ETH/USDT?"]}

    response = admin_post(admin_client, venue="krakenx_spot", api_secret="", base_url="ftp://127.0.0.1:1")
    assert response.context["adminform"].form.errors == {
        "venue": [f"krakenx_spot is not a venue the tracker supports; the venues are: {KNOWN_VENUES}"],
        "base_url": ["'ftp://127.0.0.1:1' is not an http(s) URL: write e.g. http://127.0.0.1:8900, or leave it empty for the real exchange"],
    }
    assert not ExchangeAccount.objects.exists()

    assert admin_post(admin_client, base_url=simulator.base_url).status_code == 302
    assert ExchangeAccount.objects.get().symbols == ["BTC/USDT"]


def test_the_position_mode_is_set_where_the_venue_has_one(simulator):
    message = refused("spot1", "--venue", "binance_spot", "--symbols", "BTC/USDT", "--position-mode", "hedge", *KEYS, base_url=simulator.base_url)
    assert message == "--position-mode hedge: binance_spot accounts are one_way only"
    add("perp1", "--venue", "bybit_linear", "--symbols", "BTC/USDT", "--position-mode", "hedge", *KEYS, base_url=simulator.base_url)
    assert ExchangeAccount.objects.get().position_mode == "hedge"
    add("perp1", "--venue", "bybit_linear", *KEYS, base_url=simulator.base_url)  # omitted on an update: kept
    assert ExchangeAccount.objects.get().position_mode == "hedge"
