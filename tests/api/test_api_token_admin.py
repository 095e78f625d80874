from django.contrib.messages import get_messages

from api.models import ApiToken, hash_token

from .conftest import ApiClient


def test_a_token_added_in_the_admin_is_shown_once_and_works(admin_client, admin_user):
    response = admin_client.post("/admin/api/apitoken/add/", {"user": admin_user.pk, "name": "exporter"})

    assert response.status_code == 302
    message = next(str(m) for m in get_messages(response.wsgi_request) if "shown only this once" in str(m))
    token = message.rsplit(" ", 1)[1]
    api_token = ApiToken.objects.get()
    assert (api_token.name, api_token.token_hash) == ("exporter", hash_token(token))
    assert ApiClient(admin_client, token).get("/api/accounts").status_code == 200

    change_page = f"/admin/api/apitoken/{api_token.pk}/change/"
    assert token in admin_client.get(change_page).content.decode()
    assert token not in admin_client.get(change_page).content.decode()


def test_tokens_are_revoked_from_the_admin_list(admin_client, admin_user):
    api_token, token = ApiToken.issue(admin_user)

    admin_client.post("/admin/api/apitoken/", {"action": "revoke", "_selected_action": [api_token.pk]})

    api_token.refresh_from_db()
    assert api_token.is_revoked
    assert ApiClient(admin_client, token).get("/api/accounts").status_code == 401
