import pytest
from django.contrib.auth import get_user_model

from api.models import ApiToken


class ApiClient:
    """Django's test client, sending a bearer token."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.token = token

    def get(self, path: str, params: dict | None = None, **headers):
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.client.get(path, params or {}, headers=headers)


@pytest.fixture
def operator(db):
    return get_user_model().objects.create_user("operator", is_staff=True, is_superuser=True)


@pytest.fixture
def token(operator):
    return ApiToken.issue(operator, "tests")[1]


@pytest.fixture
def api(client, token):
    return ApiClient(client, token)


@pytest.fixture
def anonymous_api(client):
    return ApiClient(client, None)
