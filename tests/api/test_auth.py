import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from api.models import ApiToken, hash_token

from .conftest import ApiClient

pytestmark = pytest.mark.django_db


def user_with(*codenames: str):
    user = get_user_model().objects.create_user("reader")
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def test_no_token_is_401(anonymous_api):
    response = anonymous_api.get("/api/trades")

    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


@pytest.mark.parametrize("header", ["Bearer", "Bearer nope", "Token tt_whatever", "Basic b3BlcmF0b3I6c2VjcmV0LXB3", "Bearer  "])
def test_a_wrong_or_unknown_token_is_401(client, token, header):
    response = client.get("/api/trades", headers={"Authorization": header})

    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


def test_a_revoked_token_is_401(client, operator):
    api_token, token = ApiToken.issue(operator)
    assert ApiClient(client, token).get("/api/trades").status_code == 200

    api_token.revoke()

    assert ApiClient(client, token).get("/api/trades").status_code == 401


def test_the_token_of_a_deactivated_user_is_401(client, operator, token):
    operator.is_active = False
    operator.save()

    assert ApiClient(client, token).get("/api/trades").status_code == 401


def test_a_token_whose_user_lacks_the_view_permission_is_403(client):
    token = ApiToken.issue(user_with("view_position"))[1]

    response = ApiClient(client, token).get("/api/trades")

    assert response.status_code == 403
    assert "trades.view_trade" in response.json()["detail"]


def test_a_token_acts_with_its_users_view_permissions(client):
    token = ApiToken.issue(user_with("view_trade"))[1]

    assert ApiClient(client, token).get("/api/trades").status_code == 200
    assert ApiClient(client, token).get("/api/positions").status_code == 403


def test_only_the_tokens_hash_is_stored(operator):
    api_token, token = ApiToken.issue(operator)

    stored = ApiToken.objects.values().get(pk=api_token.pk)
    assert token not in [str(value) for value in stored.values()]
    assert stored["token_hash"] == hash_token(token)
    assert token.startswith(stored["hint"])


def test_use_is_recorded(api, operator):
    assert ApiToken.objects.get(user=operator).last_used_at is None

    api.get("/api/accounts")

    assert ApiToken.objects.get(user=operator).last_used_at is not None


def test_every_endpoint_needs_a_token(anonymous_api):
    from api.urls import api

    paths = [p.replace("{account_id}", "1").replace("{position_id}", "1") for p in api.get_openapi_schema()["paths"]]
    assert len(paths) >= 10
    for path in paths:
        assert anonymous_api.get(path).status_code == 401, path


def test_a_token_limited_to_accounts_is_refused_by_the_json_api(client, operator):
    """Such a token serves the live stream; the endpoints do not filter by account, so it gets none."""
    from ..factories import make_account

    api_token, token = ApiToken.issue(operator, "stream only")
    api_token.accounts.set([make_account(name="alpha")])

    response = ApiClient(client, token).get("/api/trades")

    assert response.status_code == 403
    assert "live stream" in response.json()["detail"]
