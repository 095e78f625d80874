"""Funding and hedge legs in stored positions: the sweeper, the legs as separate books, the reads."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from positions import services
from positions.models import Position
from positions.repository import PositionRepository
from trades.models import FundingPayment

from ..factories import funding_payment, make_account, make_market, store_funding, store_trades, stored_trade

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def at(hours):
    return T0 + timedelta(hours=hours)


@pytest.fixture
def hedge_account(db):
    account = make_account("hedge", venue="bybit_linear", position_mode="hedge")
    make_market(account, "BTC/USDT:USDT")
    return account


def buy(account, trade_id, hours, leg="", amount="1", price="100"):
    return stored_trade(account, trade_id, side="buy", amount=amount, price=price, cost=str(Decimal(amount) * Decimal(price)), timestamp=at(hours), leg=leg)


def sell(account, trade_id, hours, leg="", amount="1", price="100"):
    return stored_trade(account, trade_id, side="sell", amount=amount, price=price, cost=str(Decimal(amount) * Decimal(price)), timestamp=at(hours), leg=leg)


@pytest.mark.django_db
def test_the_sweeper_folds_a_payment_stored_unfolded(hedge_account):
    store_trades([buy(hedge_account, "1", 0, leg="long")])
    # What the funding ingest leaves when its receiver fails: the payment stored, unprocessed.
    FundingPayment.objects.bulk_create([funding_payment(hedge_account, "F1", amount="-0.5", timestamp=at(8), leg="long")])
    assert Position.objects.get().funding == 0

    assert services.sweep_unprocessed() == 1

    position = Position.objects.get()
    assert (position.funding, position.funding_paid, position.funding_count) == (Decimal("-0.5"), Decimal("0.5"), 1)
    assert not FundingPayment.objects.filter(processed=False).exists()
    assert services.sweep_unprocessed() == 0
    assert Position.objects.get().funding == Decimal("-0.5")


@pytest.mark.django_db
def test_hedge_legs_are_separate_positions_and_a_payment_lands_on_its_own_leg(hedge_account):
    store_trades([buy(hedge_account, "1", 0, leg="long", amount="2"), sell(hedge_account, "2", 1, leg="short", amount="3")])
    store_funding([
        funding_payment(hedge_account, "F1", amount="-0.2", timestamp=at(8), leg="long"),
        funding_payment(hedge_account, "F2", amount="0.3", timestamp=at(8), leg="short"),
    ])

    long, short = Position.objects.filter(exchange=hedge_account, is_open=True).order_by("leg")
    assert (long.leg, long.side, long.p1, long.funding) == ("long", "long", Decimal(2), Decimal("-0.2"))
    assert (short.leg, short.side, short.p1, short.funding) == ("short", "short", Decimal(-3), Decimal("0.3"))


@pytest.mark.django_db
def test_a_payment_before_any_position_is_kept_unattached(hedge_account):
    store_funding([funding_payment(hedge_account, "F0", amount="-1", timestamp=at(0))])
    store_trades([buy(hedge_account, "1", 1)])

    assert FundingPayment.objects.get().processed
    assert Position.objects.get().funding == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("async_db")
async def test_get_position_asks_for_a_leg_and_the_net_sums_legs():
    account = await sync_to_async(make_account)("hedge", venue="bybit_linear", position_mode="hedge")
    await sync_to_async(make_market)(account, "BTC/USDT:USDT")
    await sync_to_async(store_trades)([buy(account, "1", 0, leg="long", amount="2"), sell(account, "2", 1, leg="short", amount="3", price="110")])
    await sync_to_async(store_funding)([funding_payment(account, "F1", amount="-0.2", timestamp=at(8), leg="long")])
    repository = PositionRepository()

    assert (await repository.get_position(account.id, "BTC/USDT", leg="long")).p1 == Decimal(2)
    assert (await repository.get_position(account.id, "BTC/USDT", leg="short")).p1 == Decimal(-3)
    assert await repository.get_position(account.id, "BTC/USDT") is None
    net = await repository.calculate_net_position("BTC/USDT")
    assert (net.net, net.shares, net.funding) == (Decimal(-1), {"hedge": Decimal(-1)}, Decimal("-0.2"))
