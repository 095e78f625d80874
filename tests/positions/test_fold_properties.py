"""Properties of the fold, for trades hypothesis makes up."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from positions.fold import Deltas, Fill, fold_fills, split_deltas, trade_deltas

T0 = datetime(2024, 1, 1, tzinfo=UTC)
amounts = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("50"), places=3)
prices = st.decimals(min_value=Decimal("1"), max_value=Decimal("1000"), places=2)
fees = st.decimals(min_value=Decimal("-1"), max_value=Decimal("1"), places=8)


@st.composite
def trade_runs(draw):
    count = draw(st.integers(min_value=1, max_value=25))
    fills = []
    for i in range(count):
        amount, price = draw(amounts), draw(prices)
        deltas = trade_deltas(
            side=draw(st.sampled_from(["buy", "sell"])),
            amount=amount,
            cost=amount * price,
            base="BTC",
            quote="USDT",
            fee_cost=draw(fees),
            fee_currency=draw(st.sampled_from(["USDT", "BTC", "BNB"])),
        )
        # Few distinct timestamps, so the trade id often breaks ties.
        fills.append(Fill(str(draw(st.integers(1, 10**6)) * 1000 + i), T0 + timedelta(minutes=draw(st.integers(0, 5))), deltas))
    return fills


def in_fold_order(fills):
    return sorted(fills, key=lambda fill: fill.order_key)


@given(trade_runs(), st.randoms())
def test_any_arrival_order_folds_to_the_same_positions(fills, random):
    shuffled = list(fills)
    random.shuffle(shuffled)
    assert fold_fills(in_fold_order(shuffled)) == fold_fills(in_fold_order(fills))


@given(trade_runs())
def test_positions_sum_to_the_trades(fills):
    positions = fold_fills(in_fold_order(fills))
    assert sum((p.p1 for p in positions), Decimal(0)) == sum((f.deltas.p1_delta for f in fills), Decimal(0))
    assert sum((p.p2 for p in positions), Decimal(0)) == sum((f.deltas.p2_delta for f in fills), Decimal(0))
    assert sum((p.p2_fee for p in positions), Decimal(0)) == sum((f.deltas.p2_fee for f in fills), Decimal(0))
    assert all(not p.is_open for p in positions[:-1])


@settings(max_examples=300)
@given(
    held=st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("1000"), places=6),
    beyond=st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("1000"), places=6),
    quote=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e9"), places=8),
    p1_fee=fees,
    p2_fee=fees,
    other=fees,
)
def test_the_parts_of_a_split_trade_sum_exactly_to_the_trade(held, beyond, quote, p1_fee, p2_fee, other):
    trade = Deltas(p1_delta=-(held + beyond), p2_delta=quote, p1_fee=p1_fee, p2_fee=p2_fee, other_fees={"BNB": other})
    closing, opening = split_deltas(trade, -held)
    assert closing.p1_delta == -held
    assert closing.p1_delta + opening.p1_delta == trade.p1_delta
    assert closing.p2_delta + opening.p2_delta == trade.p2_delta
    assert closing.p1_fee + opening.p1_fee == trade.p1_fee
    assert closing.p2_fee + opening.p2_fee == trade.p2_fee
    assert closing.other_fees["BNB"] + opening.other_fees["BNB"] == other
    assert closing.p2_delta.as_tuple().exponent >= -18
