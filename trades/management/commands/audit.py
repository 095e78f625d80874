import asyncio
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from trades.audit import audit_account, describe
from trades.management.commands.sync import chosen_accounts, failed_accounts, failure, parse_date
from trades.synchronizer import with_rest_client


class Command(BaseCommand):
    help = (
        "Read trades back from the exchange and report any that are not stored (--repair stores them) "
        "or are stored with other content (never overwritten: an alarm)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", help="account name (default: every enabled account)")
        parser.add_argument("--since", help="start of the range, an ISO date or time (default: 24 hours ago)")
        parser.add_argument("--repair", action="store_true", help="store the missing trades")

    def handle(self, *args, account=None, since=None, repair=False, **options):
        since = parse_date(since) if since else timezone.now() - timedelta(hours=24)
        accounts = chosen_accounts(account)
        missing_total = differing_total = missing_funding_total = 0
        failed = []
        for acct in accounts:  # an account that fails is reported and the others are audited
            try:
                result = asyncio.run(self.audit(acct, since, repair))
            except Exception as error:
                self.stderr.write(f"{acct.name} failed: {failure(acct, error)}")
                failed.append(acct.name)
                continue
            missing_total += result.missing_count
            differing_total += result.differing_count
            missing_funding_total += result.missing_funding_count
            self.stdout.write(
                f"{acct.name}: {result.checked} trades read back since {since:%Y-%m-%d %H:%M}, {result.missing_count} missing"
                + (f", {result.repaired} repaired" if repair else "")
                + f", {result.differing_count} differ from the exchange's"
            )
            for symbol, ids in result.missing.items():
                self.stdout.write(f"  {symbol}: {', '.join(ids[:20])}{' ...' if len(ids) > 20 else ''}")
            if result.funding_checked:
                self.stdout.write(
                    f"{acct.name}: {result.funding_checked} funding payments read back, {result.missing_funding_count} missing"
                    + (f", {result.funding_repaired} repaired" if repair else "")
                )
            for symbol, ids in result.missing_funding.items():
                self.stdout.write(f"  {symbol} funding: {', '.join(ids[:20])}{' ...' if len(ids) > 20 else ''}")
            for symbol, differing in result.differing.items():
                for trade_id, changes in differing:
                    self.stdout.write(f"  {symbol} {trade_id} differs: {describe(changes)}")
        problems = []
        if missing_total and not repair:
            problems.append(f"{missing_total} trades missing; run with --repair to store them")
        if missing_funding_total and not repair:
            problems.append(f"{missing_funding_total} funding payments missing; run with --repair to store them")
        if differing_total:
            problems.append(f"{differing_total} stored trades differ from the exchange's; --repair never overwrites one: look into them")
        if failed:
            problems.append(str(failed_accounts(failed, len(accounts), "were audited")))
        if problems:
            raise CommandError("; ".join(problems))

    async def audit(self, account, since, repair):
        return await with_rest_client(account, lambda client, symbols: audit_account(account, client, symbols, since, repair=repair))
