"""A position's history: the position after each of its trades, the way the fold made it."""

from decimal import Decimal

from positions.models import Position
from positions.selectors import position_history
from trades.ingest import ingest_trades

from ..factories import binance_trade

T0 = 1_704_067_200_000


def flipping_trades():
    return [
        binance_trade(1, amount="1", price="100", timestamp=T0),
        binance_trade(2, side="sell", amount="3", price="110", fee="0.3", timestamp=T0 + 1),  # closes long 1, opens short 2
        binance_trade(3, amount="4", price="90", timestamp=T0 + 2),  # closes short 2, opens long 2
        binance_trade(4, amount="1", price="95", timestamp=T0 + 3),
    ]


def test_each_point_is_the_position_after_a_trade_at_that_trades_price(account):
    ingest_trades(account, flipping_trades())
    first, second, third = Position.objects.order_by("entry_time", "id")

    assert [(p.trade_id, p.p1, p.pnl) for p in position_history(first)] == [("BTCUSDT:1", 1, 0), ("BTCUSDT:2", 0, Decimal("9.9"))]
    # the short took 2/3 of trade 2: p2 = 2/3 * (330 - 0.3) = 219.8
    assert [(p.trade_id, p.p1, p.pnl) for p in position_history(second)] == [("BTCUSDT:2", -2, Decimal("-0.2")), ("BTCUSDT:3", 0, Decimal("39.8"))]
    assert [(p.trade_id, p.size, p.pnl) for p in position_history(third)] == [("BTCUSDT:3", 2, 0), ("BTCUSDT:4", 3, 10)]


def test_the_last_point_is_the_stored_position(account):
    ingest_trades(account, flipping_trades())

    for position in Position.objects.all():
        last = position_history(position)[-1]
        assert last.p1 == position.p1
        assert last.pnl == position.p2 + position.p1 * last.price


def test_a_position_in_another_book_is_not_mixed_in(account):
    ingest_trades(account, [binance_trade(1, amount="1", price="100"), binance_trade(2, symbol="ETH/USDT", amount="5", price="10", timestamp=T0 + 1)])
    btc = Position.objects.get(symbol="BTC/USDT")

    assert [p.trade_id for p in position_history(btc)] == ["BTCUSDT:1"]
