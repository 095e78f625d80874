"""The funding arithmetic of positions.fold on its own: PnL with a mark, realised PnL, avg_price."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from positions.fold import Fill, Funding, Payment, PositionState, assign_funding, fold_book, trade_deltas, with_funding

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def buy(trade_id, hours, amount="1", cost="100"):
    deltas = trade_deltas(side="buy", amount=Decimal(amount), cost=Decimal(cost), base="BTC", quote="USDT")
    return Fill(trade_id, T0 + timedelta(hours=hours), deltas)


def paid(payment_id, hours, amount):
    return Payment(payment_id, T0 + timedelta(hours=hours), Decimal(amount))


def test_pnl_at_a_mark_includes_funding_and_avg_price_does_not():
    position = fold_book([buy("1", 0)], [paid("F1", 8, "-0.5")]).positions[0]

    assert position.pnl_at(Decimal("110")) == Decimal("9.5")
    assert position.pnl_without_funding_at(Decimal("110")) == Decimal("10")
    assert position.avg_price == Decimal("100")


def test_funding_splits_into_paid_and_received():
    funding = Funding.of([paid("F1", 1, "-0.5"), paid("F2", 2, "0.2"), paid("F3", 3, "-0.1")])

    assert (funding.total, funding.paid, funding.received, funding.count) == (Decimal("-0.4"), Decimal("0.6"), Decimal("0.2"), 3)


def test_realised_pnl_of_a_closed_position_includes_funding():
    closed = PositionState(p1=Decimal(0), p2=Decimal("10"), is_open=False)

    assert with_funding(closed, [paid("F1", 1, "-0.25")]).realized_pnl == Decimal("9.75")


def test_a_payment_at_a_positions_entry_time_belongs_to_the_one_before():
    entries = [T0, T0 + timedelta(hours=8)]
    per_position, unattached = assign_funding(entries, [paid("F0", 0, "1"), paid("F1", 8, "2"), paid("F2", 9, "3")])

    assert [[p.payment_id for p in mine] for mine in per_position] == [["F1"], ["F2"]]
    assert [p.payment_id for p in unattached] == ["F0"]


def test_no_position_keeps_every_payment_unattached():
    book = fold_book([], [paid("F1", 1, "-1")])

    assert book.positions == []
    assert [p.payment_id for p in book.unattached] == ["F1"]
