from datetime import UTC, datetime
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from positions.repository import PositionRepository
from trades.ingest import ingest_trades
from trades.repository import TradeRepository

from ..factories import binance_trade, bybit_trade, make_account, make_market

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("async_db")]
ingest = sync_to_async(ingest_trades)


async def test_get_position_sees_a_new_trade_at_once(account):
    repository = PositionRepository()
    assert await repository.get_position(account.id, "BTC/USDT") is None
    await ingest(account, [binance_trade(1, amount="2")])
    position = await repository.get_position(account.id, "BTC/USDT")
    assert position.p1 == Decimal(2)
    await ingest(account, [binance_trade(2, side="sell", amount="2", timestamp=1_704_067_300_000)])
    assert await repository.get_position(account.id, "BTC/USDT") is None


async def test_net_position_nets_spot_and_perpetual(account):
    perp = await sync_to_async(make_account)("bybit_perp", venue="bybit_linear")
    await sync_to_async(make_market)(perp, "BTC/USDT:USDT")
    await ingest(account, [binance_trade(1, amount="3", price="100")])
    await ingest(perp, [bybit_trade("x", side="sell", amount="1", price="110")])

    net = await PositionRepository().calculate_net_position("BTC/USDT")

    assert net.net == Decimal(2)
    assert net.shares == {"binance_spot": Decimal(3), "bybit_perp": Decimal(-1)}
    assert net.avg_price == Decimal(95)  # (300 - 110) / 2
    assert len(await PositionRepository().get_open_positions()) == 2


async def test_trade_statistics(account):
    await ingest(
        account,
        [
            binance_trade(1, amount="1", price="100", fee="0.1", timestamp=1_704_067_200_000),
            binance_trade(2, side="sell", amount="3", price="110", fee="0.0003", fee_currency="BNB", timestamp=1_704_067_260_000),
            binance_trade(3, amount="1", price="90", timestamp=1_704_153_600_000),
        ],
    )
    stats = await TradeRepository().get_trade_statistics(
        "BTC/USDT", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC)
    )
    assert stats.count == 2
    assert (stats.buy_volume, stats.sell_volume) == (Decimal(1), Decimal(3))
    assert stats.notional == Decimal(430)
    assert stats.fees == {"USDT": Decimal("0.1"), "BNB": Decimal("0.0003")}
    assert stats.vwap == Decimal("107.5")

    newest = await TradeRepository().get_trades_by_symbol("BTC/USDT", exchange_id=account.id, limit=2)
    assert [t.exchange_trade_id for t in newest] == ["BTCUSDT:3", "BTCUSDT:2"]
