"""Funding in the API: the ledger list (cursor pages, filters, CSV) and funding on positions and PnL."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model

from api.models import ApiToken

from ..factories import funding_payment, make_account, make_market, store_funding, store_trades, stored_trade
from .marks import set_mark

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def at(hours):
    return T0 + timedelta(hours=hours)


def perp_account(name="bybit_perp", **fields):
    account = make_account(name, venue="bybit_linear", **fields)
    make_market(account, "BTC/USDT:USDT")
    return account


def long_paying_funding(account, leg=""):
    """A long of 2 at 100 (fee 0.2) that has paid 0.02 and 0.03 of funding."""
    store_trades([stored_trade(account, "1", side="buy", amount="2", price="100", cost="200", fee="0.2", timestamp=at(0), leg=leg)])
    store_funding([
        funding_payment(account, "F1", amount="-0.02", timestamp=at(8), leg=leg, position_size="2"),
        funding_payment(account, "F2", amount="-0.03", timestamp=at(16), leg=leg, position_size="2", rate="0.00015"),
    ])


def test_a_position_shows_its_funding_and_pnl_with_and_without_it(api, db):
    account = perp_account()
    long_paying_funding(account)
    set_mark(account, "BTC/USDT:USDT", "110")

    (position,) = api.get("/api/positions").json()["items"]

    assert (position["funding"], position["funding_paid"], position["funding_received"], position["funding_count"]) == ("-0.05", "0.05", "0", 2)
    # p2 = -200.2; at 110: -200.2 + 2 * 110 = 19.8 without funding, 19.75 with it
    assert (position["pnl_at_mark"], position["pnl_at_mark_without_funding"]) == ("19.75", "19.8")
    pnl = api.get("/api/pnl").json()
    assert (pnl["totals"], pnl["totals_without_funding"]) == ({"USDT": "19.75"}, {"USDT": "19.8"})
    assert pnl["positions"][0]["funding"] == "-0.05"


def test_a_closed_positions_realised_pnl_includes_its_funding(api, db):
    account = perp_account()
    long_paying_funding(account)
    store_trades([stored_trade(account, "2", side="sell", amount="2", price="110", cost="220", timestamp=at(20))])

    (closed,) = api.get("/api/positions", {"status": "closed"}).json()["items"]

    assert (closed["realized_pnl"], closed["realized_pnl_without_funding"]) == ("19.75", "19.8")


def test_a_positions_detail_lists_the_payments_folded_into_it(api, db):
    account = perp_account()
    long_paying_funding(account)
    position_id = api.get("/api/positions").json()["items"][0]["id"]

    detail = api.get(f"/api/positions/{position_id}").json()

    assert [(p["exchange_funding_id"], p["amount"]) for p in detail["funding_payments"]] == [("F1", "-0.02"), ("F2", "-0.03")]


def test_hedge_legs_are_listed_as_two_positions_and_filtered_by_leg(api, db):
    account = perp_account(position_mode="hedge")
    long_paying_funding(account, leg="long")
    store_trades([stored_trade(account, "9", side="sell", amount="1", price="100", cost="100", timestamp=at(1), leg="short")])

    legs = {p["leg"]: p for p in api.get("/api/positions").json()["items"]}
    shorts = api.get("/api/positions", {"leg": "short"}).json()["items"]

    assert (legs["long"]["side"], legs["long"]["p1"], legs["long"]["funding"]) == ("long", "2", "-0.05")
    assert (legs["short"]["side"], legs["short"]["p1"], legs["short"]["funding"]) == ("short", "-1", "0")
    assert [p["leg"] for p in shorts] == ["short"]
    assert api.get("/api/positions", {"leg": "sideways"}).status_code == 422


def test_the_funding_list_pages_newest_first_with_a_cursor(api, db):
    account = perp_account()
    store_funding([funding_payment(account, f"F{n}", amount="-0.01", timestamp=at(8 * n)) for n in range(1, 6)])

    first = api.get("/api/funding", {"limit": 2}).json()
    second = api.get("/api/funding", {"limit": 2, "cursor": first["next_cursor"]}).json()
    last = api.get("/api/funding", {"limit": 2, "cursor": second["next_cursor"]}).json()

    assert [p["exchange_funding_id"] for p in first["items"] + second["items"] + last["items"]] == ["F5", "F4", "F3", "F2", "F1"]
    assert last["next_cursor"] is None
    assert first["items"][0] | {"id": None} == {
        "id": None,
        "account_id": account.pk,
        "bot_instance_id": None,
        "exchange_funding_id": "F5",
        "symbol": "BTC/USDT",
        "market_symbol": "BTC/USDT:USDT",
        "leg": "",
        "timestamp": "2024-01-02T16:00:00Z",
        "amount": "-0.01",
        "currency": "USDT",
        "rate": "0.0001",
        "position_size": "1",
    }


def test_the_funding_list_filters(api, db):
    account = perp_account(position_mode="hedge")
    other = perp_account("other")
    store_funding([
        funding_payment(account, "L1", amount="-0.01", timestamp=at(8), leg="long"),
        funding_payment(account, "S1", amount="0.02", timestamp=at(8), leg="short"),
        funding_payment(account, "L2", amount="-0.01", timestamp=at(16), leg="long"),
        funding_payment(other, "N1", amount="0.03", timestamp=at(8)),
    ])

    def ids(**params):
        response = api.get("/api/funding", params)
        assert response.status_code == 200, response.content
        return sorted(p["exchange_funding_id"] for p in response.json()["items"])

    assert ids(account="other") == ["N1"]
    assert ids(leg="long") == ["L1", "L2"]
    assert ids(leg="net") == ["N1"]
    assert ids(direction="received") == ["N1", "S1"]
    assert ids(since="2024-01-01T12:00:00Z") == ["L2"]
    assert ids(symbol="BTC/USDT:USDT", until="2024-01-01T12:00:00Z") == ["L1", "N1", "S1"]
    assert api.get("/api/funding", {"account": "nobody"}).status_code == 422
    assert api.get("/api/funding", {"since": "2024-01-02", "until": "2024-01-01"}).status_code == 422
    assert api.get("/api/funding", {"cursor": "not-a-cursor"}).status_code == 422


def test_a_token_without_the_funding_permission_is_refused(client, db):
    token = ApiToken.issue(get_user_model().objects.create_user("reader"))[1]

    response = client.get("/api/funding", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("async_db")
async def test_the_funding_csv_exports_every_payment_oldest_first_with_exact_numbers(async_client):
    @sync_to_async
    def setup():
        token = ApiToken.issue(get_user_model().objects.create_user("reader", is_superuser=True))[1]
        account = perp_account()
        store_funding([
            funding_payment(account, "F2", amount="0.000000000000000001", timestamp=at(16)),
            funding_payment(account, "F1", amount="-1.50", timestamp=at(8), rate=None),
        ])
        return token

    token = await setup()
    response = await async_client.get("/api/funding.csv", {"account": "bybit_perp"}, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join([chunk async for chunk in response.streaming_content]).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["exchange_funding_id"], r["amount"], r["rate"], r["timestamp"]) for r in rows] == [
        ("F1", "-1.5", "", "2024-01-01T08:00:00Z"),
        ("F2", "0.000000000000000001", "0.0001", "2024-01-01T16:00:00Z"),
    ]
