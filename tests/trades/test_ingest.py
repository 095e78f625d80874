from decimal import Decimal

import pytest

from positions.models import Position
from trades.ingest import ingest_trades
from trades.models import RejectedTrade, Trade

from ..factories import binance_trade, bybit_trade, make_account, make_market

pytestmark = pytest.mark.django_db


def test_numbers_come_from_the_exchange_strings_not_ccxt_floats(account):
    trade = binance_trade(1, amount="0.123456789012345678", price="43210.12345678", cost="5334.5867411823012", fee="0.000123456789012345", fee_currency="BNB")
    [stored] = ingest_trades(account, [trade])
    stored.refresh_from_db()
    assert stored.amount == Decimal("0.123456789012345678")
    assert stored.price == Decimal("43210.12345678")
    assert stored.cost == Decimal("5334.5867411823012")
    assert stored.fee_cost == Decimal("0.000123456789012345")
    assert stored.fee_currency == "BNB"
    assert stored.p1_delta == Decimal("0.123456789012345678")


def test_a_trade_ingested_twice_is_stored_once(account):
    trades = [binance_trade(i, price=str(100 + i)) for i in range(1, 6)]
    assert len(ingest_trades(account, trades)) == 5
    assert ingest_trades(account, trades) == []
    assert ingest_trades(account, trades[2:] + [binance_trade(6)]) == [Trade.objects.get(exchange_trade_id="BTCUSDT:6")]
    assert Trade.objects.count() == 6
    assert Position.objects.get().p1 == Decimal(6)


def test_the_same_trade_twice_in_one_batch_is_stored_once(account):
    new = ingest_trades(account, [binance_trade(7), binance_trade(7)])
    assert [t.exchange_trade_id for t in new] == ["BTCUSDT:7"]
    assert Trade.objects.count() == 1


def test_the_same_id_on_two_accounts_is_two_trades(account):
    other = make_account("binance_other")
    ingest_trades(account, [binance_trade(1)])
    ingest_trades(other, [binance_trade(1)])
    assert Trade.objects.count() == 2


def test_new_trades_are_returned_processed_and_folded(account):
    [trade] = ingest_trades(account, [binance_trade(1, amount="2", price="50", fee="0.1")])
    assert Trade.objects.get(pk=trade.pk).processed
    position = Position.objects.get()
    assert (position.p1, position.p2, position.side) == (Decimal(2), Decimal("-100.1"), "long")


@pytest.mark.parametrize(
    "broken, reason",
    [
        (lambda t: t["info"].pop("qty"), "amount"),
        (lambda t: t["info"].update(qty="lots"), "not a number"),
        (lambda t: t["info"].update(qty="-1"), "not positive"),
        (lambda t: t["info"].update(price="0"), "not positive"),
        (lambda t: t["info"].update(price=101.5), "not the exchange's string"),
        (lambda t: t.update(symbol=None), "unknown symbol"),
        (lambda t: t.update(side="hold"), "side"),
        (lambda t: t.update(timestamp=None), "timestamp"),
        (lambda t: t["info"].update(qty="1.0000000000000000001"), "18 decimal places"),
    ],
)
def test_bad_payloads_are_kept_aside_and_the_rest_stored(account, broken, reason):
    bad = binance_trade(2)
    broken(bad)
    new = ingest_trades(account, [binance_trade(1), bad, binance_trade(3)])
    assert sorted(t.exchange_trade_id for t in new) == ["BTCUSDT:1", "BTCUSDT:3"]
    rejected = RejectedTrade.objects.get()
    assert reason in rejected.reason
    assert rejected.exchange == account


def test_bybit_executions_scale_contracts_and_keep_rebates():
    account = make_account("bybit_perp", venue="bybit_linear")
    make_market(account, "BTC/USDT:USDT", contract_size="0.001")
    [trade] = ingest_trades(account, [bybit_trade("a-1", amount="250", price="40000", cost="10000", fee="-0.5")])
    assert trade.symbol == "BTC/USDT"
    assert trade.market_symbol == "BTC/USDT:USDT"
    assert trade.p1_delta == Decimal("0.25")
    assert trade.p2_delta == Decimal("-9999.5")
    position = Position.objects.get()
    assert position.p2_fee == Decimal("-0.5")


def test_a_reused_id_with_different_content_is_kept_aside_and_the_stored_trade_unchanged(account, caplog):
    ingest_trades(account, [binance_trade(9, amount="1", price="100")])
    assert ingest_trades(account, [binance_trade(9, amount="1", price="101")]) == []

    assert Trade.objects.get(exchange_trade_id="BTCUSDT:9").price == Decimal(100)
    rejected = RejectedTrade.objects.get()
    assert "reused" in rejected.reason and "price 100" in rejected.reason
    assert "ALARM" in caplog.text


def test_an_identical_duplicate_raises_no_alarm(account):
    ingest_trades(account, [binance_trade(9)])
    ingest_trades(account, [binance_trade(9)])
    assert not RejectedTrade.objects.exists()
