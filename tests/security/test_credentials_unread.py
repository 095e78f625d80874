"""What shows positions or accounts (the board, the position page, the API, the strategies'
repository) reads the accounts without their credentials: they are never decrypted for it."""

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.test import Client

from api.models import ApiToken
from positions.board import board_snapshot
from positions.models import Position
from positions.repository import PositionRepository
from trades.ingest import ingest_trades

from ..factories import binance_trade, make_account, make_market

pytestmark = pytest.mark.django_db


@pytest.fixture
def decryptions(monkeypatch):
    """Every decryption of a stored credential, by the caller that asked for it."""
    from exchanges import crypto

    seen = []
    decrypt = crypto.decrypt

    def counting(token):
        seen.append(token)
        return decrypt(token)

    monkeypatch.setattr(crypto, "decrypt", counting)
    return seen


@pytest.fixture
def position():
    account = make_account(symbols=["BTC/USDT"])
    make_market(account, "BTC/USDT")
    ingest_trades(account, [binance_trade(1, amount="1", price="100")])
    return Position.objects.get()


def test_the_board_and_the_position_page(position, decryptions):
    client = Client()
    client.force_login(get_user_model().objects.create_user("operator", is_staff=True))

    board = board_snapshot()
    page = client.get(f"/positions/{position.pk}/")

    assert [row["account"] for row in board["positions"]] == ["binance_spot"]
    assert page.status_code == 200
    assert decryptions == []


def test_the_api(position, decryptions):
    _, token = ApiToken.issue(get_user_model().objects.create_superuser("grafana"), "tests")
    headers = {"Authorization": f"Bearer {token}"}
    client = Client()

    listed = client.get("/api/positions", headers=headers)
    one = client.get(f"/api/positions/{position.pk}", headers=headers)
    accounts = client.get("/api/accounts", headers=headers)
    account = client.get(f"/api/accounts/{position.exchange_id}", headers=headers)

    assert [p["account"] for p in listed.json()["items"]] == ["binance_spot"]
    assert one.json()["account"] == "binance_spot"
    assert [a["name"] for a in accounts.json()] == [account.json()["name"]] == ["binance_spot"]
    assert decryptions == []


@pytest.mark.django_db(transaction=True)
def test_the_repository(position, decryptions):
    repository = PositionRepository()

    positions = async_to_sync(repository.get_open_positions)()
    net = async_to_sync(repository.calculate_net_position)("BTC/USDT")

    assert [p.exchange.name for p in positions] == ["binance_spot"]
    assert net.shares == {"binance_spot": 1}
    assert decryptions == []
