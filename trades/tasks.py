"""Celery tasks: thin wrappers that take a lock and call the sync services."""

from __future__ import annotations

import logging
from datetime import timedelta

from asgiref.sync import async_to_sync
from celery import shared_task
from django.conf import settings
from django.utils import timezone

from exchanges.models import ExchangeAccount

from .audit import audit_account as audit
from .locks import account_lock
from .schedule import ensure_beat_schedule
from .sync import RestSync
from .synchronizer import with_rest_client

logger = logging.getLogger(__name__)


def _with_connector(account: ExchangeAccount, work):
    return async_to_sync(with_rest_client)(account, work)


def _locked(account_id: int, job):
    account = ExchangeAccount.objects.filter(pk=account_id, enabled=True).first()
    if account is None or not account.symbols:
        return None
    with account_lock(account.pk) as acquired:
        if not acquired:
            logger.info("%s: a sync or audit is already running elsewhere; skipped", account.name)
            return {"account": account.name, "skipped": True}
        return job(account)


@shared_task(acks_late=True)
def sync_account(account_id: int) -> dict | None:
    """One REST pass for an account from its cursor; never two at once for the same account."""
    def job(account):
        result = _with_connector(account, lambda client, symbols: RestSync(account, client).run(symbols))
        return {"account": account.name, "fetched": result.fetched, "new": result.new, "stopped": result.stopped}

    return _locked(account_id, job)


@shared_task(acks_late=True)
def audit_account(account_id: int, hours: int | None = None, repair: bool = True) -> dict | None:
    """Read the last `hours` back from the exchange and store whatever is missing (the daily re-check)."""
    since = timezone.now() - timedelta(hours=hours or settings.SYNC_RECHECK_HOURS)

    def job(account):
        result = _with_connector(account, lambda client, symbols: audit(account, client, symbols, since, repair=repair))
        return {
            "account": account.name, "checked": result.checked, "missing": result.missing_count, "differing": result.differing_count, "repaired": result.repaired,
            "missing_funding": result.missing_funding_count, "funding_repaired": result.funding_repaired,
        }

    return _locked(account_id, job)


@shared_task
def audit_all_accounts() -> int:
    """Queue the daily re-check for every enabled account."""
    ids = list(ExchangeAccount.objects.filter(enabled=True).values_list("pk", flat=True))
    for account_id in ids:
        audit_account.delay(account_id)
    return len(ids)


@shared_task
def refresh_beat_schedule() -> list[str]:
    """Follow accounts being added, enabled or disabled."""
    return ensure_beat_schedule()
