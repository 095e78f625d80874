"""ccxt clients for exchange accounts, and the account's `Market` rows from what ccxt loads.

`build_client` gives a ccxt.pro client (REST and watch_* in one object) configured so that
`load_markets` fetches only the account's market type. With `base_url` set, every REST and
WebSocket URL of the client points there instead (the simulator, a proxy); empty, the client talks
to the real exchange.
"""

from __future__ import annotations

import asyncio
import copy
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

import ccxt
import ccxt.pro
from django.conf import settings

from .models import ExchangeAccount, Market, canonical_symbol
from .markets import forget_markets
from .throttle import credit_idle_time, pass_interval, share_budgets
from .venues import VENUES, UnsupportedAccount, Venue, unknown_venue_message


def point_urls_at(urls, base_url: str):
    """A copy of ccxt's URL tree with every absolute URL moved to `base_url`, keeping each path.

    https://api.example.com/api/v3 -> http://127.0.0.1:8900/api/v3, wss://stream.{hostname}/v5/private
    -> ws://127.0.0.1:8900/v5/private. Secure schemes stay secure when the base URL is https.
    """
    base = urlsplit(base_url)
    secure = base.scheme == "https"
    prefix = base.path.rstrip("/")

    def move(value):
        if isinstance(value, dict):
            return {key: move(item) for key, item in value.items()}
        if isinstance(value, list):
            return [move(item) for item in value]
        if not isinstance(value, str) or "://" not in value:
            return value
        url = urlsplit(value)
        if url.scheme in ("ws", "wss"):
            scheme = "wss" if secure else "ws"
        elif url.scheme in ("http", "https"):
            scheme = "https" if secure else "http"
        else:
            return value
        return urlunsplit((scheme, base.netloc, prefix + url.path, url.query, url.fragment))

    return move(copy.deepcopy(urls))


def _venue(account: ExchangeAccount) -> Venue:
    venue = VENUES.get(account.venue)
    if venue is None:
        raise UnsupportedAccount(unknown_venue_message(account.venue))
    return venue


def client_config(account: ExchangeAccount) -> dict:
    return {
        "apiKey": str(account.api_key),
        "secret": str(account.api_secret),
        "enableRateLimit": True,
        # Sync checks the last body ccxt parsed (a malformed one parses to None) and honours the
        # last Retry-After.
        "enableLastJsonResponse": True,
        "enableLastResponseHeaders": True,
        **_venue(account).client_config(),
    }


def build_client(account: ExchangeAccount, **overrides) -> ccxt.pro.Exchange:
    """A ccxt.pro client for the account; `overrides` are merged into its ccxt config."""
    config = client_config(account)
    for key, value in overrides.items():
        config[key] = {**config[key], **value} if isinstance(config.get(key), dict) and isinstance(value, dict) else value
    return _client(account, config, api_key=str(account.api_key))


def build_public_client(account: ExchangeAccount) -> ccxt.pro.Exchange:
    """A client without the account's credentials (never read, so never decrypted), for public data
    of its venue (candles) at its base URL; it spends the venue's budgets that are not per key."""
    return _client(account, {"enableRateLimit": True, "enableLastJsonResponse": True, **_venue(account).client_config()}, api_key="")


def _client(account: ExchangeAccount, config: dict, *, api_key: str) -> ccxt.pro.Exchange:
    venue = _venue(account)
    client = getattr(ccxt.pro, venue.ccxt_id)(config)
    credit_idle_time(client)
    share_budgets(client, venue, api_key=api_key, base_url=account.base_url, redis_url=settings.REDIS_URL)
    if account.base_url:
        client.urls["api"] = point_urls_at(client.urls["api"], account.base_url)
    return client


def _exact(text: str | None, fallback) -> Decimal:
    if text not in (None, ""):
        return Decimal(text).normalize()
    # ccxt's float: repr is the shortest string that round-trips, so 0.001 stays 0.001.
    return Decimal(repr(fallback)) if fallback is not None else Decimal(0)


def market_fields(venue: Venue, market: dict) -> dict:
    """A `Market` row's fields from a ccxt market, its steps from the exchange's own strings."""
    info = market.get("info") or {}
    contract_size = market.get("contractSize")
    return {
        "symbol": canonical_symbol(market["symbol"]),
        "base": market["base"],
        "quote": market["quote"],
        "contract_size": Decimal(repr(contract_size)) if contract_size is not None else Decimal(1),
        "amount_step": _exact(venue.amount_step(info), market.get("precision", {}).get("amount")),
        "price_step": _exact(venue.price_step(info), market.get("precision", {}).get("price")),
    }


def upsert_markets(account: ExchangeAccount, markets: dict) -> list[Market]:
    """Create or update the account's `Market` rows from ccxt's loaded markets of its market type."""
    venue = account.venue_object
    rows = [
        Market(account=account, market_symbol=market["symbol"], **market_fields(venue, market))
        for market in markets.values()
        if market.get("type") == venue.market_type
    ]
    stored = Market.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["account", "market_symbol"],
        update_fields=["symbol", "base", "quote", "contract_size", "amount_step", "price_step"],
    )
    forget_markets(account.pk)
    return stored


class VenueUnreachable(Exception):
    """The venue's markets could not be loaded: it is down, the base URL is wrong, or it refused."""


def one_line_error(error: BaseException, limit: int = 300) -> str:
    """`Type: first line of the message`, short enough for a log line or a health cell."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


async def load_venue_symbols(account: ExchangeAccount) -> dict[str, str]:
    """The venue's markets of the account's type, ccxt symbol -> the venue's market id, loaded the
    way the account's sync loads them (its ccxt client, its base URL)."""
    client = build_client(account)
    where = account.base_url or "the real exchange"
    try:
        markets = await client.load_markets()
    except (ccxt.BaseError, OSError) as error:
        raise VenueUnreachable(
            f"could not load the markets of {account.venue} from {where} ({one_line_error(error)})"
        ) from error
    finally:
        await client.close()
    return {market["symbol"]: market.get("id") or "" for market in markets.values() if market.get("type") == account.market_type}


def venue_symbols(account: ExchangeAccount) -> dict[str, str]:
    """`load_venue_symbols` for synchronous callers (a command, the admin)."""
    return asyncio.run(load_venue_symbols(account))


class ExchangeConnector:
    """An account's ccxt clients: one kept for REST passes, and new ones for WebSocket streams and
    mark prices, which their users close (a stream torn down must not take the REST client with it,
    and REST sync reads its own client's last response)."""

    def __init__(self, account: ExchangeAccount, **overrides):
        self.account = account
        self.overrides = overrides
        self._rest = None
        self._last_new = None

    def rest_client(self):
        if self._rest is None:
            self._rest = build_client(self.account, **self.overrides)
        return self._rest

    def new_client(self):
        """A client of its own, which the caller closes: for a stream (torn down on its own) or marks.
        It starts with the markets this connector's clients already loaded: a stream that reconnects
        every few seconds would otherwise spend request weight on reloading them each time (Binance's
        exchangeInfo weighs as much as a page of trades), which after a ban can keep the IP limited."""
        client = build_client(self.account, **self.overrides)
        for loaded in (self._rest, self._last_new):
            if loaded is not None and loaded.markets:
                client.set_markets(loaded.markets, loaded.currencies)
                break
        self._last_new = client
        return client

    def rest_spent(self) -> dict[str, int]:
        """The request weight the REST client spent so far, per budget key."""
        return dict(self.rest_client().budget_hook.spent)

    async def rest_pass_interval(self, spent_before: dict[str, int], base_seconds: float) -> float:
        """The seconds until the account's next routine REST pass, now that one pass spent what
        `rest_spent()` adds to `spent_before`: `base_seconds` while the accounts on its budgets fit,
        longer where they together would spend more than the budget allows."""
        spent = {key: weight - spent_before.get(key, 0) for key, weight in self.rest_spent().items()}
        return await pass_interval(self.account.name, spent, base_seconds)

    async def close(self) -> None:
        if self._rest is not None:
            client, self._rest = self._rest, None
            await client.close()
