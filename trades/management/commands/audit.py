import asyncio
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from trades.audit import audit_account
from trades.management.commands.sync import chosen_accounts, failed_accounts, failure, parse_date
from trades.synchronizer import with_rest_client


class Command(BaseCommand):
    help = "Read trades back from the exchange and report any that are not stored (--repair stores them)."

    def add_arguments(self, parser):
        parser.add_argument("--account", help="account name (default: every enabled account)")
        parser.add_argument("--since", help="start of the range, an ISO date or time (default: 24 hours ago)")
        parser.add_argument("--repair", action="store_true", help="store the missing trades")

    def handle(self, *args, account=None, since=None, repair=False, **options):
        since = parse_date(since) if since else timezone.now() - timedelta(hours=24)
        accounts = chosen_accounts(account)
        missing_total = 0
        failed = []
        for acct in accounts:  # an account that fails is reported and the others are audited
            try:
                result = asyncio.run(self.audit(acct, since, repair))
            except Exception as error:
                self.stderr.write(f"{acct.name} failed: {failure(acct, error)}")
                failed.append(acct.name)
                continue
            missing_total += result.missing_count
            self.stdout.write(f"{acct.name}: {result.checked} trades read back since {since:%Y-%m-%d %H:%M}, {result.missing_count} missing" + (f", {result.repaired} repaired" if repair else ""))
            for symbol, ids in result.missing.items():
                self.stdout.write(f"  {symbol}: {', '.join(ids[:20])}{' ...' if len(ids) > 20 else ''}")
        if missing_total and not repair:
            raise CommandError(f"{missing_total} trades missing; run with --repair to store them" + (f"; {len(failed)} accounts failed: {', '.join(failed)}" if failed else ""))
        if failed:
            raise failed_accounts(failed, len(accounts), "were audited")

    async def audit(self, account, since, repair):
        return await with_rest_client(account, lambda client, symbols: audit_account(account, client, symbols, since, repair=repair))
