"""Celery tasks: thin wrappers that take a lock and call the sync services."""

from __future__ import annotations

import logging
from datetime import timedelta

from asgiref.sync import async_to_sync
from celery import shared_task
from django.conf import settings
from django.utils import timezone

from exchanges.models import ExchangeAccount

from .locks import account_lock
from .synchronizer import market_symbol_for

logger = logging.getLogger(__name__)


def _rest_pass(account: ExchangeAccount, *, since=None) -> dict:
    from exchanges.connectors import ExchangeConnector

    from .sync import RestSync

    async def run():
        connector = ExchangeConnector(account)
        try:
            symbols = [market_symbol_for(account, s) for s in account.symbols]
            return await RestSync(account, connector.rest_client()).run(symbols, since=since)
        finally:
            await connector.close()

    result = async_to_sync(run)()
    return {"account": account.name, "fetched": result.fetched, "new": result.new, "stopped": result.stopped}


@shared_task(acks_late=True)
def sync_account(account_id: int, recheck_hours: int | None = None) -> dict | None:
    """One REST pass for an account; never two at once for the same account. With `recheck_hours`,
    re-reads that many hours back (a re-check: trades already stored are skipped)."""
    account = ExchangeAccount.objects.filter(pk=account_id, enabled=True).first()
    if account is None or not account.symbols:
        return None
    with account_lock(account.pk) as acquired:
        if not acquired:
            logger.info("sync of %s already running elsewhere; skipped", account.name)
            return {"account": account.name, "skipped": True}
        since = timezone.now() - timedelta(hours=recheck_hours) if recheck_hours else None
        return _rest_pass(account, since=since)


@shared_task
def sync_all_accounts() -> int:
    """Queue a pass for every enabled account (the beat schedule's entry point)."""
    ids = list(ExchangeAccount.objects.filter(enabled=True).values_list("pk", flat=True))
    for account_id in ids:
        sync_account.delay(account_id)
    return len(ids)


@shared_task
def recheck_all_accounts() -> int:
    """The daily re-check of the last day for every enabled account."""
    ids = list(ExchangeAccount.objects.filter(enabled=True).values_list("pk", flat=True))
    for account_id in ids:
        sync_account.delay(account_id, recheck_hours=settings.SYNC_RECHECK_HOURS)
    return len(ids)


@shared_task
def sweep_unprocessed_trades() -> int:
    from positions.services import sweep_unprocessed

    return sweep_unprocessed()


@shared_task
def refresh_beat_schedule() -> list[str]:
    """Follow accounts being added, enabled or disabled."""
    from .schedule import ensure_beat_schedule

    return ensure_beat_schedule()
