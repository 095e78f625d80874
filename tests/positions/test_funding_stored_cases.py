"""Every worked example of funding_cases.json and hedge_cases.json, end to end: trades and payments
stored one at a time in arrival order (a net trade through ingest_trades, a hedge-leg trade and a
payment as their ingest stores them, with its signal), and the stored positions compared with the
expected ones. A payment stored a second time changes nothing."""

from decimal import Decimal

import pytest

from positions.models import Position
from trades.ingest import ingest_trades
from trades.models import FOLD_ORDER, FundingPayment, Trade
from trades.normalize import exchange_trade_number

from ..factories import funding_payment, make_account, make_market, store_funding, store_trades, stored_trade
from .cases import PERPETUAL_CASES, arrival_of, assert_funding_as_expected, assert_position_as_expected, parse_time
from .test_stored_cases import ccxt_trade


def store(account, kind, item, market):
    if kind == "funding":
        payment = funding_payment(
            account, item["id"], amount=item["amount"], timestamp=parse_time(item["timestamp"]), market_symbol=market["symbol"],
            leg=item.get("leg", ""), rate=item["rate"], position_size=item["position_size"], currency=item["currency"],
        )
        return len(store_funding([payment]))
    if "leg" not in item:
        return len(ingest_trades(account, [ccxt_trade(item, market)]))
    trade = stored_trade(
        account, item["id"], side=item["side"], amount=item["amount"], price=item["price"], cost=item["cost"],
        timestamp=parse_time(item["timestamp"]), fee=item["fee_cost"], fee_currency=item["fee_currency"],
        market_symbol=market["symbol"], leg=item["leg"],
    )
    return len(store_trades([trade]))


def stored_trade_ids(position):
    trades = Trade.objects.filter(exchange=position.exchange, symbol=position.symbol, leg=position.leg).order_by(*FOLD_ORDER)
    ids = [t.exchange_trade_id for t in trades]
    return [exchange_trade_number(i) for i in ids[ids.index(position.first_trade_id) : ids.index(position.last_trade_id) + 1]]


def assert_stored_as_expected(account, case):
    positions = list(Position.objects.filter(exchange=account).order_by("leg", "entry_time", "id"))
    expected_positions = sorted(case["expected_positions"], key=lambda p: p.get("leg", ""))
    assert len(positions) == len(expected_positions)
    for position, expected in zip(positions, expected_positions):
        assert position.leg == expected.get("leg", "")
        assert_position_as_expected(position, expected, stored_trade_ids(position))
        assert_funding_as_expected(position, expected)


@pytest.mark.django_db
@pytest.mark.parametrize("case", PERPETUAL_CASES, ids=[case["name"] for case in PERPETUAL_CASES])
def test_case_through_storage(case):
    market = case["market"]
    account = make_account("case", venue="bybit_linear", position_mode="hedge" if "hedge" in case["name"] else "one_way")
    make_market(account, market["symbol"], contract_size=market["contract_size"], amount_step=market["amount_step"])

    for kind, item in arrival_of(case):
        assert store(account, kind, item, market) == 1

    assert_stored_as_expected(account, case)
    assert not FundingPayment.objects.filter(exchange=account, processed=False).exists()
    ledger = sum(FundingPayment.objects.filter(exchange=account).values_list("amount", flat=True), Decimal(0))
    unattached = sum((Decimal(f["amount"]) for f in case["funding"] if f["id"] in case["expected_unattached_funding"]), Decimal(0))
    assert sum(p.funding for p in Position.objects.filter(exchange=account)) + unattached == ledger


@pytest.mark.django_db
@pytest.mark.parametrize("case", PERPETUAL_CASES, ids=[case["name"] for case in PERPETUAL_CASES])
def test_payments_stored_again_change_nothing(case):
    market = case["market"]
    account = make_account("case", venue="bybit_linear")
    make_market(account, market["symbol"], contract_size=market["contract_size"], amount_step=market["amount_step"])
    for kind, item in arrival_of(case):
        store(account, kind, item, market)

    for kind, item in arrival_of(case):
        if kind == "funding":
            assert store(account, kind, item, market) == 0

    assert_stored_as_expected(account, case)
