"""The CSV export, through the ASGI handler (Django's async client), the way the server streams it."""

import csv
import io

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model

from api.models import ApiToken
from trades.ingest import ingest_trades

from ..factories import binance_trade, make_account, make_market

T0 = 1_704_067_200_000

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("async_db")]


@sync_to_async
def setup(trades: list[dict]):
    token = ApiToken.issue(get_user_model().objects.create_user("reader", is_superuser=True))[1]
    account = make_account()
    make_market(account, "BTC/USDT")
    make_market(account, "ETH/USDT")
    ingest_trades(account, trades)
    return account, token


async def export(async_client, token: str, **params) -> tuple[object, str]:
    response = await async_client.get("/api/trades.csv", params, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.streaming
    return response, b"".join([chunk async for chunk in response.streaming_content]).decode()


async def test_exports_the_query_oldest_first_with_exact_numbers(async_client):
    account, token = await setup(
        [
            binance_trade(1, amount="0.000000000000000001", price="100", cost="0.0000000000000001", timestamp=T0),
            binance_trade(2, side="sell", amount="2", price="101.50", fee="0.1", timestamp=T0 + 1000),
            binance_trade(3, symbol="ETH/USDT", timestamp=T0 + 2000),
        ]
    )

    response, text = await export(async_client, token, symbol="BTC/USDT")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    exported = list(csv.DictReader(io.StringIO(text)))
    assert [r["exchange_trade_id"] for r in exported] == ["BTCUSDT:1", "BTCUSDT:2"]
    assert exported[0]["amount"] == "0.000000000000000001"
    assert exported[0]["timestamp"] == "2024-01-01T00:00:00Z"
    assert exported[1] | {"id": ""} == {
        "id": "",
        "account_id": str(account.pk),
        "bot_instance_id": "",
        "exchange_trade_id": "BTCUSDT:2",
        "order_id": "1",
        "symbol": "BTC/USDT",
        "market_symbol": "BTC/USDT",
        "side": "sell",
        "taker_or_maker": "taker",
        "amount": "2",
        "contract_size": "1",
        "price": "101.5",
        "cost": "203",
        "fee_cost": "0.1",
        "fee_currency": "USDT",
        "timestamp": "2024-01-01T00:00:01Z",
        "p1_delta": "-2",
        "p2_delta": "202.9",
    }


async def test_the_export_has_every_row_not_a_page(async_client):
    _, token = await setup([binance_trade(i, timestamp=T0 + i) for i in range(1, 2502)])

    _, text = await export(async_client, token)

    exported = list(csv.DictReader(io.StringIO(text)))
    assert len(exported) == 2501
    assert exported[-1]["exchange_trade_id"] == "BTCUSDT:2501"


async def test_the_export_of_nothing_is_a_header(async_client):
    _, token = await setup([])

    _, text = await export(async_client, token, side="buy")

    assert text.splitlines() == [
        "id,account_id,bot_instance_id,exchange_trade_id,order_id,symbol,market_symbol,side,taker_or_maker,amount,"
        "contract_size,price,cost,fee_cost,fee_currency,timestamp,p1_delta,p2_delta"
    ]
