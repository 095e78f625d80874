"""The admin's funding ledger (read-only, filtered) and the funding and leg of a position."""

from datetime import UTC, datetime, timedelta

import pytest

from positions.models import Position
from trades.models import FundingPayment

from ..factories import funding_payment, make_account, make_market, store_funding, store_trades, stored_trade

pytestmark = pytest.mark.django_db
T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def hedge_account():
    account = make_account("hedge", venue="bybit_linear", position_mode="hedge")
    make_market(account, "BTC/USDT:USDT")
    store_trades([stored_trade(account, "1", side="buy", amount="1", price="100", cost="100", timestamp=T0, leg="long")])
    store_funding([
        funding_payment(account, "PAID-1", amount="-0.0123", timestamp=T0 + timedelta(hours=8), leg="long"),
        funding_payment(account, "RECEIVED-1", amount="0.0456", timestamp=T0 + timedelta(hours=8), leg="short"),
    ])
    return account


def test_the_funding_ledger_is_listed_and_filtered(admin_client, hedge_account):
    every = admin_client.get("/admin/trades/fundingpayment/")
    paid = admin_client.get("/admin/trades/fundingpayment/", {"direction": "paid"})
    short = admin_client.get("/admin/trades/fundingpayment/", {"leg": "short"})

    assert every.status_code == paid.status_code == short.status_code == 200
    assert b"PAID-1" in every.content and b"RECEIVED-1" in every.content
    assert b"PAID-1" in paid.content and b"RECEIVED-1" not in paid.content
    assert b"RECEIVED-1" in short.content and b"PAID-1" not in short.content


def test_the_funding_ledger_is_read_only(admin_client, hedge_account):
    payment = FundingPayment.objects.get(exchange_funding_id="PAID-1")

    assert admin_client.get("/admin/trades/fundingpayment/add/").status_code == 403
    assert admin_client.post(f"/admin/trades/fundingpayment/{payment.pk}/delete/", {"post": "yes"}).status_code == 403
    assert FundingPayment.objects.filter(pk=payment.pk).exists()


def test_a_position_shows_its_leg_funding_and_payments(admin_client, hedge_account):
    position = Position.objects.get(leg="long")

    listing = admin_client.get("/admin/positions/position/", {"leg": "long"})
    detail = admin_client.get(f"/admin/positions/position/{position.pk}/change/")

    assert listing.status_code == detail.status_code == 200
    assert b"-0.0123" in listing.content
    assert b"PAID-1" in detail.content and b"RECEIVED-1" not in detail.content
