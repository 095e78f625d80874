"""The simulator's accounts as `ExchangeAccount` rows, so the tracker syncs against it with nothing set by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from exchanges.models import ExchangeAccount
from exchanges.venues import venue_for

from .accounts import AccountConfig, history_window

# The simulator dates its history from its own start; this much earlier covers the moments between.
HISTORY_MARGIN = timedelta(hours=1)


def history_start(account: AccountConfig, window: tuple[int, int] | None = None) -> datetime | None:
    """Where the account's pre-loaded history begins (None without one): a first sync need not read
    further back, which at Binance's real rate limit costs 6 seconds a symbol per empty month.
    `window`: the simulator's own (start, end), which a kept ledger dates from its first run."""
    if not account.history.trades:
        return None
    start_ms, _ = window or history_window(account.history, timezone.now())
    return datetime.fromtimestamp(start_ms / 1000, tz=UTC) - HISTORY_MARGIN


def register_accounts(
    accounts: tuple[AccountConfig, ...] | list[AccountConfig], base_url: str, history_windows: dict[str, tuple[int, int]] | None = None
) -> list[ExchangeAccount]:
    """Create or update one enabled `ExchangeAccount` per simulated account, pointing at `base_url`.
    The same config gives the same names, keys and secrets, so registering again after a restart
    leaves the tracker's accounts authenticating as before."""
    registered = []
    for account in accounts:
        row, _ = ExchangeAccount.objects.update_or_create(
            name=account.name,
            defaults={
                "venue": venue_for(account.ccxt_id, account.market_type).name,
                "api_key": account.api_key,
                "api_secret": account.api_secret,
                "base_url": base_url,
                "symbols": [market.symbol for market in account.markets],
                "enabled": True,
                "backfill_since": history_start(account, (history_windows or {}).get(account.name)),
            },
        )
        registered.append(row)
    return registered
