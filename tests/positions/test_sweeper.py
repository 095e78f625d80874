from decimal import Decimal

import pytest

from positions import services
from positions.models import Position
from trades.ingest import ingest_trades
from trades.models import Trade

from ..factories import binance_trade

pytestmark = pytest.mark.django_db


def test_trades_stay_stored_when_folding_fails_and_the_sweeper_folds_them(account, monkeypatch):
    def broken_fold(trades):
        raise RuntimeError("simulated crash while folding")

    with monkeypatch.context() as patch:
        patch.setattr("positions.receivers.fold_trades", broken_fold)
        new = ingest_trades(account, [binance_trade(1, amount="2"), binance_trade(2, side="sell", amount="0.5")])

    assert len(new) == 2
    assert Trade.objects.filter(processed=False).count() == 2
    assert not Position.objects.exists()

    assert services.sweep_unprocessed() == 2
    assert not Trade.objects.filter(processed=False).exists()
    assert Position.objects.get().p1 == Decimal("1.5")


def test_a_swept_trade_older_than_the_folded_ones_replays_the_book(account, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr("positions.receivers.fold_trades", lambda trades: 1 / 0)
        ingest_trades(account, [binance_trade(1, amount="1", timestamp=1_000_000)])
    ingest_trades(account, [binance_trade(2, side="sell", amount="1", price="110", timestamp=2_000_000)])
    assert Position.objects.get().side == "short"

    services.sweep_unprocessed()

    closed = Position.objects.get()
    assert (closed.is_open, closed.realized_pnl) == (False, Decimal(10))
