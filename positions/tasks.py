"""Celery tasks of the positions app: thin wrappers around the services."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from celery import shared_task

from exchanges.connectors import ExchangeConnector
from exchanges.models import ExchangeAccount

from .marks import refresh_marks
from .services import sweep_unprocessed


@shared_task
def refresh_account_marks(account_id: int) -> int:
    """Refresh the mark prices of one account; returns how many were stored."""
    account = ExchangeAccount.objects.filter(pk=account_id, enabled=True).first()
    if account is None:
        return 0

    async def run():
        connector = ExchangeConnector(account)
        try:
            return await refresh_marks(account, connector.rest_client())
        finally:
            await connector.close()

    return len(async_to_sync(run)())


@shared_task
def refresh_all_marks() -> int:
    """Queue a mark refresh for every enabled account (the beat schedule's entry point)."""
    ids = list(ExchangeAccount.objects.filter(enabled=True).values_list("pk", flat=True))
    for account_id in ids:
        refresh_account_marks.delay(account_id)
    return len(ids)


@shared_task
def sweep_unprocessed_trades() -> int:
    """Fold the trades and funding payments a failed fold left unprocessed; returns how many."""
    return sweep_unprocessed()
