import getpass
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from exchanges.connectors import VenueUnreachable, venue_symbols
from exchanges.models import ExchangeAccount, PositionMode, UnknownAccount
from exchanges.validation import one_line, symbols_on_venue_errors
from exchanges.venues import known_list

# The option that sets each field, for messages that say what to write instead.
OPTIONS = {
    "name": "name",
    "venue": "--venue",
    "symbols": "--symbols",
    "api_key": "--api-key",
    "api_secret": "--secret",
    "base_url": "--base-url",
    "position_mode": "--position-mode",
}


class Command(BaseCommand):
    help = "Add, list, enable or disable exchange accounts."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Add an account, or update the one with this name.")
        add.add_argument("name")
        add.add_argument("--venue", required=True, help=f"the exchange and market type: one of {known_list()}")
        add.add_argument(
            "--symbols",
            default=None,
            help="comma-separated markets, e.g. BTC/USDT,ETH/USDT (on a perpetuals venue, BTC/USDT means BTC/USDT:USDT); omitted on an update, kept",
        )
        add.add_argument("--api-key", default=None)
        add.add_argument("--secret", default=None, help="omit to be asked for it (keeps it out of the shell history)")
        add.add_argument("--base-url", default="", help="point ccxt at another host, e.g. the simulator")
        add.add_argument(
            "--position-mode",
            choices=[mode.value for mode in PositionMode],
            default=None,
            help="perpetuals: one_way (one net position per symbol) or hedge (a long and a short leg); "
            "where the venue reports it (Bybit), sync reads it from there. Omitted: one_way, or kept on an update",
        )
        add.add_argument(
            "--no-check", dest="check", action="store_false", help="store without loading the venue's markets to check the symbols"
        )
        sub.add_parser("list", help="List accounts (never their secrets).")
        for action in ("disable", "enable"):
            sub.add_parser(action).add_argument("name")

    def handle(self, *args, action, **options):
        getattr(self, f"handle_{action}")(**options)

    def handle_add(self, name, venue, symbols, api_key, secret, base_url, check, position_mode=None, **_):
        """Nothing is stored unless every rule holds and (without --no-check) every symbol is a
        market the venue lists."""
        if secret is None and sys.stdin.isatty():
            secret = getpass.getpass(f"API secret for {name}: ")
        account = ExchangeAccount.objects.filter(name=name).first() or ExchangeAccount(name=name)
        account.venue = venue.strip().lower()
        if symbols is not None or account.pk is None:
            account.symbols = [s.strip() for s in symbols.split(",")] if (symbols or "").strip() else []
        account.base_url = base_url
        if api_key is not None:
            account.api_key = api_key
        if secret is not None:
            account.api_secret = secret
        if position_mode is not None:
            account.position_mode = position_mode
        try:
            account.full_clean()
        except ValidationError as error:
            raise CommandError(one_line(error.message_dict, OPTIONS)) from None
        modes = account.venue_object.position_modes
        if account.position_mode not in modes:
            raise CommandError(f"--position-mode {account.position_mode}: {account.venue} accounts are {' or '.join(modes)} only")
        if check:
            self.check_symbols_on_venue(account)
        created = account.pk is None
        account.save()
        self.stdout.write(f"{'added' if created else 'updated'} {account.name}")

    def check_symbols_on_venue(self, account):
        try:
            listed = venue_symbols(account)
        except VenueUnreachable as error:
            raise CommandError(f"{error}; nothing stored. Check --base-url, or add --no-check to store without checking the symbols") from None
        errors = symbols_on_venue_errors(account.symbols, venue=account.venue_object, venue_symbols=listed)
        if errors:
            raise CommandError(one_line(errors, OPTIONS))

    def handle_list(self, **_):
        for account in ExchangeAccount.objects.without_credentials():
            state = "enabled" if account.enabled else "disabled"
            where = account.base_url or "live"
            symbols = ",".join(account.symbols) or "-"
            self.stdout.write(f"{account.name}\t{account.venue}\t{state}\t{symbols}\t{where}\t{account.position_mode}")

    def handle_disable(self, name, **_):
        self._set_enabled(name, False)

    def handle_enable(self, name, **_):
        self._set_enabled(name, True)

    def _set_enabled(self, name, enabled):
        try:
            ExchangeAccount.objects.named(name)
        except UnknownAccount as error:
            raise CommandError(str(error)) from None
        ExchangeAccount.objects.filter(name=name).update(enabled=enabled)
        self.stdout.write(f"{name} {'enabled' if enabled else 'disabled'}")

