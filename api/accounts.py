"""Exchange accounts, never their credentials."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from ninja import Path, Router, Schema

from exchanges.models import ExchangeAccount
from exchanges.venues import VENUES

from .auth import TokenAuth
from .types import Id, UtcDateTime

router = Router(tags=["accounts"], auth=TokenAuth("exchanges.view_exchangeaccount"))


class AccountOut(Schema):
    id: int
    name: str
    venue: str
    exchange: str
    market_type: str
    enabled: bool
    symbols: list[str]
    base_url: str
    backfill_since: UtcDateTime | None
    created_at: UtcDateTime

    @staticmethod
    def resolve_exchange(account: ExchangeAccount) -> str:
        venue = VENUES.get(account.venue)  # none for an account left on an unknown venue
        return venue.exchange if venue else ""

    @staticmethod
    def resolve_market_type(account: ExchangeAccount) -> str:
        venue = VENUES.get(account.venue)
        return venue.market_type if venue else ""


@router.get("/accounts", response=list[AccountOut], summary="List exchange accounts")
def list_accounts(request):
    return ExchangeAccount.objects.without_credentials().order_by("name")


@router.get("/accounts/{account_id}", response=AccountOut, summary="One exchange account")
def get_account(request, account_id: Path[Id]):
    return get_object_or_404(ExchangeAccount.objects.without_credentials(), pk=account_id)
