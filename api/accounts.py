"""Exchange accounts, never their credentials."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from ninja import Path, Router, Schema

from exchanges.models import ExchangeAccount

from .auth import TokenAuth
from .types import Id, UtcDateTime

router = Router(tags=["accounts"], auth=TokenAuth("exchanges.view_exchangeaccount"))


class AccountOut(Schema):
    id: int
    name: str
    exchange: str
    market_type: str
    enabled: bool
    symbols: list[str]
    base_url: str
    backfill_since: UtcDateTime | None
    created_at: UtcDateTime

    @staticmethod
    def resolve_exchange(account: ExchangeAccount) -> str:
        return account.ccxt_id


@router.get("/accounts", response=list[AccountOut], summary="List exchange accounts")
def list_accounts(request):
    return ExchangeAccount.objects.without_credentials().order_by("name")


@router.get("/accounts/{account_id}", response=AccountOut, summary="One exchange account")
def get_account(request, account_id: Path[Id]):
    return get_object_or_404(ExchangeAccount.objects.without_credentials(), pk=account_id)
