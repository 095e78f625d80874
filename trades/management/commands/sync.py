import asyncio
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from exchanges.connectors import one_line_error
from exchanges.models import ExchangeAccount, UnknownAccount
from trades.progress import ProgressDisplay
from trades.sync import RestSync, scrub
from trades.synchronizer import with_rest_client


def parse_date(text: str | datetime) -> datetime:
    """An ISO date or time, UTC unless it has an offset (or a datetime, from `call_command`). Parsed
    in `handle`, not as argparse's `type`: argparse shows a CommandError raised there as a traceback."""
    try:
        moment = text if isinstance(text, datetime) else datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--since {text!r} is not a date: write an ISO date such as 2024-01-31 or 2024-01-31T12:00 (UTC unless an offset is given)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def chosen_accounts(name: str | None) -> list[ExchangeAccount]:
    """The account named (enabled or not), or every enabled one."""
    if not name:
        return list(ExchangeAccount.objects.filter(enabled=True).order_by("name"))
    try:
        return [ExchangeAccount.objects.named(name)]
    except UnknownAccount as error:
        raise CommandError(str(error)) from None


def progress_display(command: BaseCommand) -> ProgressDisplay:
    """Bars on the command's stderr when it is a terminal; else a line per symbol on its stdout."""
    return ProgressDisplay(stream=command.stderr._out, write=command.stdout.write)


def failure(account: ExchangeAccount, error: BaseException) -> str:
    """One line for an account whose run raised, without its credentials."""
    return scrub(one_line_error(error), account)


def failed_accounts(failed: list[str], total: int, done: str) -> CommandError:
    return CommandError(f"{len(failed)} of {total} accounts failed: {', '.join(failed)} (see above); the others {done}")


class Command(BaseCommand):
    help = "Run one REST pass now, for one account or all enabled ones, showing progress."

    def add_arguments(self, parser):
        parser.add_argument("--account", help="account name (default: every enabled account)")
        parser.add_argument("--since", help="re-read from this date instead of the saved cursor (ISO: 2024-01-31, 2024-01-31T12:00)")

    def handle(self, *args, account=None, since=None, **options):
        since = parse_date(since) if since else None
        accounts = chosen_accounts(account)
        failed = []
        with progress_display(self) as display:
            for acct in accounts:  # an account that fails is reported and the others go on
                try:
                    result = asyncio.run(self.sync_account(acct, since, display.update))
                except Exception as error:
                    self.stderr.write(f"{acct.name} failed: {failure(acct, error)}")
                    failed.append(acct.name)
                    continue
                if not self.report(acct, result):
                    failed.append(acct.name)
        if failed:
            raise failed_accounts(failed, len(accounts), "synced")

    def report(self, acct, result) -> bool:
        """Whether the account synced without a failure."""
        self.stdout.write(f"{acct.name}: {result.fetched} fetched, {result.new} new")
        if result.stopped:
            self.stderr.write(f"{acct.name} stopped: {result.stopped}")
        for symbol, message in result.errors.items():
            self.stderr.write(f"{acct.name} {symbol} failed: {message}")
        return not result.failed

    async def sync_account(self, account, since, progress):
        return await with_rest_client(account, lambda client, symbols: RestSync(account, client, progress=progress).run(symbols, since=since))
