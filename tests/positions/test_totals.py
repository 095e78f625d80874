from decimal import Decimal as D

from positions.totals import ALL_ACCOUNTS, Booked, OpenPnl, account_totals, pnl_totals


def test_pnl_totals_sum_per_quote_coin_and_leave_out_the_unpriced():
    assert pnl_totals([("BTC/USDT", D("1.5")), ("ETH/USDT", D("-0.5")), ("BTC/USDC", D("2")), ("SOL/USDT", None)]) == {
        "USDT": D("1.0"),
        "USDC": D("2"),
    }


def test_account_totals_per_account_and_over_all_accounts():
    booked = [
        Booked("a", "BTC/USDT", D("9.79"), {"USDT": D("0.21"), "BNB": D("0.001")}),
        Booked("b", "BTC/USDT", D("0"), {"USDT": D("0.05")}),
        Booked("b", "ETH/BTC", D("0.001"), {}),
    ]
    open_pnls = [OpenPnl("a", "BTC/USDT", D("10")), OpenPnl("b", "BTC/USDT", D("3.95")), OpenPnl("b", "ETH/BTC", None)]

    totals = account_totals(booked, open_pnls)

    assert (totals["a", "USDT"].realised, totals["a", "USDT"].unrealised, totals["a", "USDT"].total) == (D("9.79"), D("10"), D("19.79"))
    everyone = totals[ALL_ACCOUNTS, "USDT"]
    assert (everyone.realised, everyone.unrealised, everyone.total) == (D("9.79"), D("13.95"), D("23.74"))
    assert everyone.fees == {"USDT": D("0.26"), "BNB": D("0.001")}
    assert (totals["b", "BTC"].realised, totals["b", "BTC"].unpriced) == (D("0.001"), 1)
