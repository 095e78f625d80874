"""The simulator's accounts as `ExchangeAccount` rows, so the tracker syncs against it with nothing set by hand."""

from __future__ import annotations

from exchanges.models import ExchangeAccount

from .config import AccountConfig


def register_accounts(accounts: tuple[AccountConfig, ...] | list[AccountConfig], base_url: str) -> list[ExchangeAccount]:
    """Create or update one enabled `ExchangeAccount` per simulated account, pointing at `base_url`."""
    registered = []
    for account in accounts:
        row, _ = ExchangeAccount.objects.update_or_create(
            name=account.name,
            defaults={
                "ccxt_id": account.ccxt_id,
                "market_type": account.market_type,
                "api_key": account.api_key,
                "api_secret": account.api_secret,
                "base_url": base_url,
                "symbols": [market.symbol for market in account.markets],
                "enabled": True,
            },
        )
        registered.append(row)
    return registered
