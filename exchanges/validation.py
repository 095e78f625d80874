"""What makes an exchange account one the tracker can sync, stated once for the model's `clean()`,
the admin form and the `accounts` command.

Each rule returns messages by field: what is wrong and what to write instead. The rules that need no
network run in `account_errors`; whether the symbols exist on the venue needs its markets, which the
caller loads (`exchanges.connectors.load_venue_symbols`) and hands to `symbols_on_venue_errors`.
"""

from __future__ import annotations

import difflib
import re
from urllib.parse import urlsplit

from .venues import VENUES, Venue, unknown_venue_message

SYMBOL = re.compile(r"^[A-Za-z0-9._-]+/[A-Za-z0-9._-]+(:[A-Za-z0-9._-]+)?$")
# For a symbol written without its slash (BTCUSDT) when the venue's markets are not at hand.
COMMON_QUOTES = ("USDT", "USDC", "FDUSD", "BUSD", "TUSD", "DAI", "USD", "EUR", "TRY", "BTC", "ETH", "BNB")
CREDENTIAL_NAMES = {"api_key": "an API key", "api_secret": "an API secret"}
SUGGESTIONS_LISTED = 5

Errors = dict[str, list[str]]


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def venue_errors(venue_name: str) -> Errors:
    return {} if venue_name in VENUES else {"venue": [unknown_venue_message(venue_name)]}


def credential_errors(venue: Venue, *, api_key: str, api_secret: str) -> Errors:
    errors: Errors = {}
    given = {"api_key": api_key, "api_secret": api_secret}
    for field in venue.required_credentials:
        if not str(given[field] or "").strip():
            _add(errors, field, f"{venue.name} needs {CREDENTIAL_NAMES[field]} (a read-only key is enough)")
    return errors


def base_url_errors(base_url: str) -> Errors:
    if not base_url:
        return {}
    url = urlsplit(base_url)
    if url.scheme not in ("http", "https") or not url.netloc:
        return {"base_url": [f"{base_url!r} is not an http(s) URL: write e.g. http://127.0.0.1:8900, or leave it empty for the real exchange"]}
    return {}


def _market_symbol(venue: Venue | None, symbol: str) -> str:
    return venue.market_symbol(symbol) if venue is not None else symbol


def _guess_slash(symbol: str, venue: Venue | None) -> str | None:
    """BTCUSDT -> BTC/USDT (BTC/USDT:USDT on a linear perpetual account), by the usual quote coins."""
    text = symbol.upper()
    for quote in COMMON_QUOTES:
        if text.endswith(quote) and len(text) > len(quote):
            return _market_symbol(venue, f"{text[: -len(quote)]}/{quote}")
    return None


def _form_error(symbol: str, venue: Venue | None) -> str | None:
    if SYMBOL.match(symbol):
        if venue is not None and venue.market_type == "spot" and ":" in symbol:
            return f"{symbol} is a derivative's symbol; a {venue.market_type} account's is {symbol.split(':', 1)[0]}"
        return None
    guess = _guess_slash(symbol, venue)
    hint = f"did you mean {guess}?" if guess else "write it as BASE/QUOTE, e.g. BTC/USDT"
    return f"{symbol} is not a symbol: {hint}"


def symbols_errors(symbols, venue: Venue | None) -> Errors:
    """The list itself: present, no empty item, each BASE/QUOTE (BASE/QUOTE:SETTLE on a derivatives
    account), none twice. `venue` None: an unknown one, whose symbols are taken as written."""
    if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
        return {"symbols": ['symbols are a list of names, e.g. ["BTC/USDT", "ETH/USDT"]']}
    if not symbols:
        return {"symbols": ["no symbols: name at least one to track, e.g. BTC/USDT"]}
    errors: Errors = {}
    seen = set()
    for position, symbol in enumerate(symbols, start=1):
        if not symbol.strip():
            _add(errors, "symbols", f"symbol {position} of {len(symbols)} is empty: write names separated by single commas, e.g. BTC/USDT,ETH/USDT")
            continue
        problem = _form_error(symbol, venue)
        if problem:
            _add(errors, "symbols", problem)
        market_symbol = _market_symbol(venue, symbol)
        if market_symbol in seen:
            _add(errors, "symbols", f"{symbol} is listed twice: name each market once")
        seen.add(market_symbol)
    return errors


def account_errors(*, venue: str, symbols, api_key: str, api_secret: str, base_url: str) -> Errors:
    """Every rule that needs no network, by field. `venue`: the account's venue name."""
    errors: Errors = {}
    known = VENUES.get(venue)
    for found in (
        venue_errors(venue),
        symbols_errors(symbols, known),
        credential_errors(known, api_key=api_key, api_secret=api_secret) if known is not None else {},
        base_url_errors(base_url),
    ):
        for field, messages in found.items():
            errors.setdefault(field, []).extend(messages)
    return errors


def _compact(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def _close_market(symbol: str, venue_symbols: dict[str, str]) -> str | None:
    """The market whose base is spelled most like the symbol's, among those of its quote (ETHH/USDT:
    ETH/USDT; DOGE/USDT: none, though it shares "/USDT" with ETH/USDT)."""
    base, _, rest = symbol.upper().partition("/")
    same_quote = {m.split("/", 1)[0]: m for m in venue_symbols if "/" in m and _compact(m.split("/", 1)[1]).startswith(_compact(rest))}
    close = difflib.get_close_matches(base, list(same_quote), n=1, cutoff=0.6) if rest else []
    return same_quote[close[0]] if close else None


def symbols_on_venue_errors(symbols: list[str], *, venue: Venue, venue_symbols: dict[str, str]) -> Errors:
    """Each symbol is a market of the venue. `venue_symbols`: ccxt symbol -> the venue's market id
    (BTC/USDT -> BTCUSDT), of the account's market type; a symbol not among them gets the market
    it most likely means."""
    by_compact: dict[str, str] = {}
    for market_symbol, market_id in venue_symbols.items():
        for key in (_compact(market_symbol), _compact(market_symbol.split(":", 1)[0]), _compact(market_id or "")):
            by_compact.setdefault(key, market_symbol)
    errors: Errors = {}
    for symbol in symbols:
        if venue.market_symbol(symbol) in venue_symbols:
            continue
        guess = by_compact.get(_compact(symbol)) or _close_market(symbol, venue_symbols)
        if guess is not None:
            hint = f"did you mean {guess}?"
        elif venue_symbols:
            listed = sorted(venue_symbols)
            hint = f"it has {', '.join(listed[:SUGGESTIONS_LISTED])}{' ...' if len(listed) > SUGGESTIONS_LISTED else ''}"
        else:
            hint = "it lists no markets of this type"
        _add(errors, "symbols", f"{symbol} is not a market on {venue.name}: {hint}")
    return errors


def one_line(errors: Errors, labels: dict[str, str] | None = None) -> str:
    """`field: message; field: message`, the fields named by `labels` (command options, say)."""
    labels = labels or {}
    return "; ".join(f"{labels.get(field, field)}: {'; '.join(messages)}" for field, messages in errors.items())

