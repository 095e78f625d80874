from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from api.models import ApiToken
from exchanges.models import ExchangeAccount


class Command(BaseCommand):
    help = "Create, list or revoke JSON API tokens. A new token is printed once and never stored."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Issue a token acting as USERNAME.")
        create.add_argument("username")
        create.add_argument("--name", default="", help="what will use it")
        create.add_argument(
            "--account", action="append", default=[], dest="accounts", metavar="NAME", help="limit it to this account (repeat for more; none: every account)"
        )
        sub.add_parser("list", help="List tokens (their first characters only).")
        sub.add_parser("revoke", help="Revoke a token by its id.").add_argument("id", help="the id `api_token list` shows first")

    def handle(self, *args, action, **options):
        getattr(self, f"handle_{action}")(**options)

    def handle_create(self, username, name, accounts, **_):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}: name an existing login (`manage.py createsuperuser` makes one)")
        found = list(ExchangeAccount.objects.without_credentials().filter(name__in=accounts))
        unknown = sorted(set(accounts) - {a.name for a in found})
        if unknown:
            known = ", ".join(ExchangeAccount.objects.order_by("name").values_list("name", flat=True)) or "none"
            raise CommandError(f"no account named {unknown[0]!r}; known: {known}")
        with transaction.atomic():
            api_token, token = ApiToken.issue(user, name)
            api_token.accounts.set(found)
        limited = f" (accounts {', '.join(sorted(accounts))})" if accounts else ""
        self.stderr.write(f"token {api_token.pk} for {username}{limited}; shown once, keep it now:")
        self.stdout.write(token)

    def handle_list(self, **_):
        for t in ApiToken.objects.select_related("user").prefetch_related("accounts").order_by("pk"):
            state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.is_revoked else "active"
            used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used"
            accounts = ",".join(sorted(a.name for a in t.accounts.all())) or "every account"
            self.stdout.write(f"{t.pk}\t{t.hint}…\t{t.user.get_username()}\t{t.name or '-'}\t{accounts}\t{state}\t{used}")

    def handle_revoke(self, id, **_):
        if not id.isdigit():
            raise CommandError(f"{id!r} is not a token id: write the number `api_token list` shows first")
        api_token = ApiToken.objects.filter(pk=int(id)).first()
        if api_token is None:
            raise CommandError(f"no token with id {id}: `api_token list` shows the ids")
        api_token.revoke()
        self.stdout.write(f"token {id} revoked")
