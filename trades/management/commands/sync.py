import asyncio
import sys
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from exchanges.models import ExchangeAccount
from trades.sync import RestSync
from trades.synchronizer import with_rest_client


def parse_date(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--since {text!r}: use an ISO date such as 2024-01-31 or 2024-01-31T12:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Run one REST pass now, for one account or all enabled ones, showing progress."

    def add_arguments(self, parser):
        parser.add_argument("--account", help="account name (default: every enabled account)")
        parser.add_argument("--since", type=parse_date, help="re-read from this date instead of the saved cursor")

    def handle(self, *args, account=None, since=None, **options):
        accounts = ExchangeAccount.objects.filter(enabled=True)
        if account:
            accounts = ExchangeAccount.objects.filter(name=account)
            if not accounts.exists():
                raise CommandError(f"no account named {account!r}")
        failed = False
        for acct in accounts:
            result = asyncio.run(self.sync_account(acct, since))
            sys.stderr.write("\n")
            self.stdout.write(f"{acct.name}: {result.fetched} fetched, {result.new} new")
            if result.stopped:
                self.stderr.write(f"{acct.name} stopped: {result.stopped}")
                failed = True
        if failed:
            raise CommandError("some accounts were refused by their exchange")

    async def sync_account(self, account, since):
        def progress(symbol, fetched, new):
            sys.stderr.write(f"\r{account.name} {symbol}: {fetched:,} fetched, {new:,} new   ")
            sys.stderr.flush()

        return await with_rest_client(account, lambda client, symbols: RestSync(account, client, progress=progress).run(symbols, since=since))
