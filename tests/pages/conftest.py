import pytest
from django.contrib.auth import get_user_model


@pytest.fixture
def operator(db):
    return get_user_model().objects.create_user("operator", is_staff=True)


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client
