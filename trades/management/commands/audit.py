import asyncio
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from exchanges.models import ExchangeAccount
from trades.audit import audit_account
from trades.management.commands.sync import parse_date
from trades.synchronizer import with_rest_client


class Command(BaseCommand):
    help = "Read trades back from the exchange and report any that are not stored (--repair stores them)."

    def add_arguments(self, parser):
        parser.add_argument("--account", help="account name (default: every enabled account)")
        parser.add_argument("--since", type=parse_date, help="start of the range (default: 24 hours ago)")
        parser.add_argument("--repair", action="store_true", help="store the missing trades")

    def handle(self, *args, account=None, since=None, repair=False, **options):
        accounts = ExchangeAccount.objects.filter(name=account) if account else ExchangeAccount.objects.filter(enabled=True)
        if account and not accounts.exists():
            raise CommandError(f"no account named {account!r}")
        since = since or timezone.now() - timedelta(hours=24)
        missing_total = 0
        for acct in accounts:
            result = asyncio.run(self.audit(acct, since, repair))
            missing_total += result.missing_count
            self.stdout.write(f"{acct.name}: {result.checked} trades read back since {since:%Y-%m-%d %H:%M}, {result.missing_count} missing" + (f", {result.repaired} repaired" if repair else ""))
            for symbol, ids in result.missing.items():
                self.stdout.write(f"  {symbol}: {', '.join(ids[:20])}{' ...' if len(ids) > 20 else ''}")
        if missing_total and not repair:
            raise CommandError(f"{missing_total} trades missing; run with --repair to store them")

    async def audit(self, account, since, repair):
        return await with_rest_client(account, lambda client, symbols: audit_account(account, client, symbols, since, repair=repair))
