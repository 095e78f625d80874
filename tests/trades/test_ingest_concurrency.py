"""Ten thousand trades, ingested twice and from two processes at once: stored once, folded once."""

from decimal import Decimal

import pytest

from positions.fold import fold_fills
from positions.models import Position
from positions.services import fill_of
from trades.ingest import ingest_trades
from trades.models import FOLD_ORDER, Trade

from ..processes import start_python
from .many_trades import many_trades

COUNT = 10_000


def expected_positions(account, symbol, amount_step):
    trades = list(Trade.objects.filter(exchange=account, symbol=symbol).order_by(*FOLD_ORDER))
    base, quote = symbol.split("/")
    return fold_fills([fill_of(t, base, quote) for t in trades], Decimal(amount_step))


def assert_positions_equal_the_fold(account):
    for symbol, step in (("BTC/USDT", "0"), ("ETH/USDT", "0.0001")):
        expected = expected_positions(account, symbol, step)
        stored = list(Position.objects.filter(exchange=account, symbol=symbol).order_by("entry_time", "first_trade_id"))
        assert len(stored) == len(expected)
        for position, state in zip(stored, expected):
            assert (position.p1, position.p2, position.p2_fee, position.is_open) == (state.p1, state.p2, state.p2_fee, state.is_open)
            assert (position.first_trade_id, position.last_trade_id) == (state.first_trade_id, state.last_trade_id)


@pytest.mark.django_db
def test_ten_thousand_trades_ingested_twice_are_stored_once(account):
    trades = many_trades(COUNT)
    for _ in range(2):
        for start in range(0, COUNT, 1000):
            ingest_trades(account, trades[start : start + 1000])
    assert Trade.objects.filter(exchange=account).count() == COUNT
    assert not Trade.objects.filter(processed=False).exists()
    assert_positions_equal_the_fold(account)


@pytest.mark.django_db(transaction=True)
def test_two_processes_ingesting_the_same_trades_store_each_once(account):
    workers = [start_python("-m", "tests.trades.ingest_worker", account.name, str(COUNT), str(batch)) for batch in (500, 700)]
    results = [worker.communicate(timeout=300) for worker in workers]
    for worker, (out, err) in zip(workers, results):
        assert worker.returncode == 0, err
    assert sum(int(out.strip()) for out, _ in results) == COUNT
    assert Trade.objects.filter(exchange=account).count() == COUNT
    assert not Trade.objects.filter(processed=False).exists()
    assert_positions_equal_the_fold(account)
