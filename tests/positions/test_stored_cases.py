"""Every worked example of position_cases.json, end to end: ccxt-shaped trades through ingest_trades,
one call per trade in arrival order, and the stored positions compared with the expected ones."""

from decimal import Decimal

import pytest

from positions.models import Position
from trades.ingest import ingest_trades
from trades.models import FOLD_ORDER, Trade
from trades.normalize import exchange_trade_number, stored_trade_id

from ..factories import binance_trade, bybit_trade, make_account, make_market
from .cases import CASES, assert_position_as_expected, parse_time


def ccxt_trade(trade, market):
    ms = int(parse_time(trade["timestamp"]).timestamp() * 1000)
    common = dict(side=trade["side"], amount=trade["amount"], price=trade["price"], cost=trade["cost"], timestamp=ms)
    if ":" in market["symbol"]:
        return bybit_trade(trade["id"], fee=trade.get("fee_cost", "0"), symbol=market["symbol"], **common)
    return binance_trade(
        trade["id"], fee=trade.get("fee_cost"), fee_currency=trade.get("fee_currency", ""), symbol=market["symbol"], **common
    )


def stored_trade_ids(position):
    """The exchange's ids (the cases' `trade_ids`) of the trades folded into `position`, as stored
    (Binance's qualified by market: `BTCUSDT:1`)."""
    trades = Trade.objects.filter(exchange=position.exchange, symbol=position.symbol).order_by(*FOLD_ORDER)
    ids = [t.exchange_trade_id for t in trades]
    folded = ids[ids.index(position.first_trade_id) : ids.index(position.last_trade_id) + 1]
    return [exchange_trade_number(i) for i in folded]


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_case_through_ingest(case):
    market = case["market"]
    swap = ":" in market["symbol"]
    account = make_account("case", venue="bybit_linear" if swap else "binance_spot")
    make_market(account, market["symbol"], contract_size=market["contract_size"], amount_step=market["amount_step"])

    stored_ids = {}
    for trade in case["trades"]:
        payload = ccxt_trade(trade, market)
        stored_ids[trade["id"]] = stored_trade_id(account.venue_object, payload)
        assert len(ingest_trades(account, [payload])) == 1

    for trade, expected in zip(case["trades"], case["expected_trade_deltas"]):
        stored = Trade.objects.get(exchange=account, exchange_trade_id=stored_ids[trade["id"]])
        assert (stored.p1_delta, stored.p2_delta) == (Decimal(expected["p1_delta"]), Decimal(expected["p2_delta"]))
        assert stored.processed
    positions = list(Position.objects.filter(exchange=account).order_by("entry_time", "id"))
    assert len(positions) == len(case["expected_positions"])
    for position, expected in zip(positions, case["expected_positions"]):
        assert_position_as_expected(position, expected, stored_trade_ids(position))
