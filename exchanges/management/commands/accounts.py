import getpass
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from exchanges.models import ExchangeAccount


class Command(BaseCommand):
    help = "Add, list, enable or disable exchange accounts."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Add an account, or update the one with this name.")
        add.add_argument("name")
        add.add_argument("--exchange", required=True, help="ccxt exchange id, e.g. binance or bybit")
        add.add_argument("--type", dest="market_type", choices=ExchangeAccount.MarketType.values, default="spot")
        add.add_argument("--symbols", default="", help="comma-separated, e.g. BTC/USDT,ETH/USDT")
        add.add_argument("--api-key", default=None)
        add.add_argument("--secret", default=None, help="omit to be asked for it (keeps it out of the shell history)")
        add.add_argument("--base-url", default="", help="point ccxt at another host, e.g. the simulator")
        sub.add_parser("list", help="List accounts (never their secrets).")
        for action in ("disable", "enable"):
            sub.add_parser(action).add_argument("name")

    def handle(self, *args, action, **options):
        getattr(self, f"handle_{action}")(**options)

    def handle_add(self, name, exchange, market_type, symbols, api_key, secret, base_url, **_):
        if secret is None and sys.stdin.isatty():
            secret = getpass.getpass(f"API secret for {name}: ")
        account = ExchangeAccount.objects.filter(name=name).first() or ExchangeAccount(name=name)
        account.ccxt_id = exchange
        account.market_type = market_type
        account.symbols = [s.strip() for s in symbols.split(",") if s.strip()]
        account.base_url = base_url
        if api_key is not None:
            account.api_key = api_key
        if secret is not None:
            account.api_secret = secret
        try:
            account.full_clean()
        except ValidationError as error:
            raise CommandError("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())) from None
        created = account.pk is None
        account.save()
        self.stdout.write(f"{'added' if created else 'updated'} {account.name}")

    def handle_list(self, **_):
        for account in ExchangeAccount.objects.all():
            state = "enabled" if account.enabled else "disabled"
            where = account.base_url or "live"
            symbols = ",".join(account.symbols) or "-"
            self.stdout.write(f"{account.name}\t{account.ccxt_id}\t{account.market_type}\t{state}\t{symbols}\t{where}")

    def handle_disable(self, name, **_):
        self._set_enabled(name, False)

    def handle_enable(self, name, **_):
        self._set_enabled(name, True)

    def _set_enabled(self, name, enabled):
        if not ExchangeAccount.objects.filter(name=name).update(enabled=enabled):
            raise CommandError(f"no account named {name!r}")
        self.stdout.write(f"{name} {'enabled' if enabled else 'disabled'}")
