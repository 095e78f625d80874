"""The Celery beat schedule, kept in the database (django-celery-beat) so operators can change
intervals in the admin. One periodic sync per enabled account; created here, never overwritten."""

from __future__ import annotations

import json

from django.conf import settings
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from exchanges.models import ExchangeAccount


def _every(seconds: int) -> IntervalSchedule:
    schedule, _ = IntervalSchedule.objects.get_or_create(every=seconds, period=IntervalSchedule.SECONDS)
    return schedule


def ensure_beat_schedule() -> list[str]:
    """Add the tasks that are missing; enable or disable account tasks as their accounts are.
    Intervals already there are the operator's and stay as they are. Returns the names added."""
    added = []

    def ensure(name: str, task: str, *, args=(), enabled=True, **schedule):
        task_row, created = PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "args": json.dumps(list(args)), "enabled": enabled, **schedule}
        )
        if created:
            added.append(name)
            return
        # The task's path is the code's (it moves with the code); the interval is the operator's.
        changed = [f for f, value in (("enabled", enabled), ("task", task)) if getattr(task_row, f) != value]
        if changed:
            task_row.enabled, task_row.task = enabled, task
            task_row.save(update_fields=changed)

    for account in ExchangeAccount.objects.all():
        ensure(
            f"sync {account.name}",
            "trades.tasks.sync_account",
            args=[account.pk],
            enabled=account.enabled,
            interval=_every(int(settings.SYNC_INTERVAL_SECONDS)),
        )
    daily, _ = CrontabSchedule.objects.get_or_create(minute="17", hour="3", day_of_week="*", day_of_month="*", month_of_year="*")
    ensure("audit the last day of every account", "trades.tasks.audit_all_accounts", crontab=daily)
    ensure("fold unprocessed trades", "positions.tasks.sweep_unprocessed_trades", interval=_every(60))
    ensure("refresh mark prices", "positions.tasks.refresh_all_marks", interval=_every(int(settings.MARK_REFRESH_SECONDS)))
    ensure("prune the live stream's history", "trades.tasks.prune_stream_history", interval=_every(600))
    ensure("refresh this schedule", "trades.tasks.refresh_beat_schedule", interval=_every(60))
    return added
