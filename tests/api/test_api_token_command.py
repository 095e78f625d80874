from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from api.models import ApiToken

from .conftest import ApiClient


def run(*args) -> str:
    out = StringIO()
    call_command("api_token", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def test_create_prints_a_token_that_works(client, operator):
    token = run("create", "operator", "--name", "grafana")

    assert ApiClient(client, token).get("/api/accounts").status_code == 200
    assert ApiToken.objects.get().name == "grafana"


def test_list_shows_tokens_by_their_hint_never_the_token(operator):
    token = run("create", "operator")

    listing = run("list")

    assert token not in listing
    assert token[:10] in listing and "operator" in listing and "active" in listing


def test_revoke_stops_a_token(client, operator):
    token = run("create", "operator")
    api_token = ApiToken.objects.get()

    assert run("revoke", str(api_token.pk)) == f"token {api_token.pk} revoked"

    assert ApiClient(client, token).get("/api/accounts").status_code == 401
    assert "revoked" in run("list")


def test_unknown_user_or_token_is_an_error(db):
    with pytest.raises(CommandError, match="no user named 'nobody'"):
        run("create", "nobody")
    with pytest.raises(CommandError, match="no token with id 99"):
        run("revoke", "99")


def test_a_token_id_that_is_not_a_number_says_what_to_write(operator):
    with pytest.raises(CommandError, match=r"^'abc' is not a token id: write the number `api_token list` shows first$"):
        run("revoke", "abc")


def test_create_may_limit_a_token_to_accounts(operator):
    from exchanges.models import ExchangeAccount

    from ..factories import make_account

    alpha = make_account(name="alpha")
    make_account(name="beta")

    token = run("create", "operator", "--account", "alpha").strip()

    (api_token,) = ApiToken.objects.all()
    assert token.startswith("tt_")
    assert list(api_token.accounts.all()) == [alpha]
    assert "alpha" in run("list")
    with pytest.raises(CommandError, match=r"^no account named 'gamma'; known: alpha, beta$"):
        run("create", "operator", "--account", "gamma")
    assert ExchangeAccount.objects.count() == 2
