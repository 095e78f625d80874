"""The venues the tracker supports: one (ccxt exchange id, market type) pair each, with the ccxt
options its client needs and the credentials it asks for.

`CLIENT_OPTIONS` is the one list: a pair is supported when its client is configured here, and the
validation of accounts (`exchanges.validation`) and the connectors both read it. It imports no model,
so that the model's own validation can use it.
"""

from __future__ import annotations

# ccxt.pro keeps an account's last `tradesLimit` trades (1,000 by default) for the next watch call;
# a stream whose ingest waits longer than that many trades take to arrive (behind a REST pass's
# pages, say: about a second at 1,000 trades/s) loses the oldest to the next REST pass. Keep ten times
# as many: at 1,000 trades/s a ten-second stall loses none.
STREAM_TRADES_KEPT = 10_000
# Per (ccxt id, market type): options that keep load_markets to that type and skip the currencies call.
CLIENT_OPTIONS = {
    # fetchMargins: with credentials, binance's fetch_markets also asks the two sapi margin pair lists.
    ("binance", "spot"): {
        "defaultType": "spot",
        "fetchMarkets": {"types": ["spot"]},
        "fetchCurrencies": False,
        "fetchMargins": False,
        "tradesLimit": STREAM_TRADES_KEPT,
    },
    ("bybit", "swap"): {
        "defaultType": "swap",
        "defaultSubType": "linear",
        "fetchMarkets": {"types": ["linear"]},
        "tradesLimit": STREAM_TRADES_KEPT,
    },
}
SUPPORTED_VENUES: tuple[tuple[str, str], ...] = tuple(CLIENT_OPTIONS)
# The account fields each exchange's private API needs (ccxt's `requiredCredentials`: apiKey, secret).
REQUIRED_CREDENTIALS = {"binance": ("api_key", "api_secret"), "bybit": ("api_key", "api_secret")}


class UnsupportedAccount(ValueError):
    """An account on an exchange and market type the tracker has no client for."""


def is_supported(ccxt_id: str, market_type: str) -> bool:
    return (ccxt_id, market_type) in CLIENT_OPTIONS


def supported_list() -> str:
    return ", ".join(f"{ccxt_id} {market_type}" for ccxt_id, market_type in SUPPORTED_VENUES)


def unsupported_venue_message(ccxt_id: str, market_type: str) -> str:
    return f"{ccxt_id or '(no exchange)'} {market_type or '(no market type)'} is not a venue the tracker supports; supported: {supported_list()}"
