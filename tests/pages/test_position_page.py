import re
from datetime import UTC, datetime, timedelta

from exchanges.models import Market
from positions.models import Position
from trades.ingest import ingest_trades

from ..api.marks import set_mark
from ..factories import binance_trade, funding_payment, make_account, make_market, store_funding, store_trades, stored_trade

T0 = 1_704_067_200_000
FUNDING_T0 = datetime(2024, 1, 1, tzinfo=UTC)


def test_the_position_page_needs_a_login(client, account):
    ingest_trades(account, [binance_trade(1)])
    position = Position.objects.get()

    assert client.get(f"/positions/{position.pk}/")["Location"] == f"/admin/login/?next=/positions/{position.pk}/"


def test_a_position_page_lists_its_trades_and_charts_size_and_pnl(operator_client, account):
    ingest_trades(
        account,
        [
            binance_trade(1, amount="1", price="100", timestamp=T0),
            binance_trade(2, amount="0.000000000000000001", price="120", cost="0.00000000000000012", timestamp=T0 + 1000),
            binance_trade(3, side="sell", amount="0.5", price="130", timestamp=T0 + 2000),
        ],
    )
    set_mark(account, "BTC/USDT", "125")
    position = Position.objects.get()

    response = operator_client.get(f"/positions/{position.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    trades_table = html.split('<table id="trades">', 1)[1]
    assert trades_table.count("<tr>") == 4  # a header and three trades
    assert "0.000000000000000001" in trades_table
    assert "E-18" not in html
    assert f'data-src="/positions/{position.pk}/chart/"' in html
    assert "lightweight-charts.standalone.production.js" in html
    # PnL at the mark: p2 = -100 - 0.00000000000000012 + 65, p1 = 0.500000000000000001
    assert "27.500000000000000005" in html


def test_an_unknown_position_is_404(operator_client, db):
    assert operator_client.get("/positions/424242/").status_code == 404


def facts(html: str) -> dict[str, str]:
    """The position's facts: each term and its value as shown."""
    block = html.split('<dl class="facts"', 1)[1].split("</dl>", 1)[0]
    return {term: re.sub(r"<[^>]+>|\s+", " ", value).strip() for term, value in re.findall(r"<dt>(.*?)</dt><dd[^>]*>(.*?)</dd>", block)}


def test_an_open_position_reads_in_a_traders_words(operator_client, account):
    Market.objects.filter(account=account, symbol="BTC/USDT").update(amount_step="0.001", price_step="0.01")
    ingest_trades(account, [binance_trade(1, amount="2", price="100", fee="0.2"), binance_trade(2, amount="1", price="130", fee="0.13", timestamp=T0 + 1000)])
    set_mark(account, "BTC/USDT", "120")
    position = Position.objects.get()

    html = operator_client.get(f"/positions/{position.pk}/").content.decode()

    shown = facts(html)
    assert shown["Size"] == "3.000 BTC"
    assert shown["Entry price"] == "110.00"  # (200 + 130) / 3, the fees in USDT excluded
    assert shown["Mark"].startswith("120.00 ")
    assert shown["Notional"] == "360.00 USDT"
    assert shown["Unrealised PnL"] == "29.67 USDT"  # 3 x 120 - 330 - 0.33
    assert shown["Realised PnL"] == "when it closes"
    assert shown["Fees paid"] == "0.33 USDT"
    # p1 and p2 appear only in the detail table, each with its meaning
    assert "p1" not in html.split('<table class="details"', 1)[0]
    details = html.split('<table class="details"', 1)[1].split("</table>", 1)[0]
    assert re.search(r"<code>p1</code></td><td>Base balance change \(BTC\).*?>3\.000 BTC</td>", details)
    assert re.search(r"<code>p2</code></td><td>Quote balance change \(USDT\).*?>-330\.33 USDT</td>", details)


def test_a_closed_position_shows_its_realised_pnl(operator_client, account):
    ingest_trades(account, [binance_trade(1, amount="1", price="100", fee="0.1"), binance_trade(2, side="sell", amount="1", price="110", timestamp=T0 + 1)])
    position = Position.objects.get()

    html = operator_client.get(f"/positions/{position.pk}/").content.decode()

    assert facts(html)["Realised PnL"] == "9.90 USDT"  # 110 - 100 - 0.1
    assert 'title="9.9"' in html.split('<dl class="facts"', 1)[1]


def perp_position_with_funding():
    """A long of 2 at 100 on a perpetual that has paid 0.5 and received 0.1 of funding."""
    perp = make_account("bybit_perp", venue="bybit_linear")
    make_market(perp, "BTC/USDT:USDT")
    store_trades([stored_trade(perp, "1", side="buy", amount="2", price="100", cost="200", timestamp=FUNDING_T0)])
    store_funding([
        funding_payment(perp, "F1", amount="-0.5", timestamp=FUNDING_T0 + timedelta(hours=8), position_size="2"),
        funding_payment(perp, "F2", amount="0.1", timestamp=FUNDING_T0 + timedelta(hours=16), position_size="2", rate="-0.00002"),
    ])
    return perp, Position.objects.get(exchange=perp)


def test_a_perpetual_position_shows_its_funding_and_pnl_with_and_without_it(operator_client, db):
    perp, position = perp_position_with_funding()
    set_mark(perp, "BTC/USDT:USDT", "110")

    html = operator_client.get(f"/positions/{position.pk}/").content.decode()

    shown = facts(html)
    assert " ".join(shown["Funding to date"].split()).replace(" ,", ",") == "-0.40 USDT paid 0.50 USDT, received 0.10 USDT, 2 payments"
    assert shown["Unrealised PnL"] == "19.60 USDT"  # -200 + 2 x 110 - 0.4
    assert shown["Unrealised PnL without funding"] == "20.00 USDT"
    funding_table = html.split('<table id="funding">', 1)[1].split("</table>", 1)[0]
    assert funding_table.count("<tr>") == 3 and "F1" in funding_table and "-0.00002" in funding_table


def test_a_closed_perpetual_position_shows_realised_pnl_with_and_without_funding(operator_client, db):
    perp, position = perp_position_with_funding()
    store_trades([stored_trade(perp, "2", side="sell", amount="2", price="105", cost="210", timestamp=FUNDING_T0 + timedelta(hours=20))])

    html = operator_client.get(f"/positions/{Position.objects.get(exchange=perp).pk}/").content.decode()

    shown = facts(html)
    assert (shown["Realised PnL"], shown["Realised PnL without funding"]) == ("9.60 USDT", "10.00 USDT")


def test_a_spot_position_shows_no_funding(operator_client, account):
    ingest_trades(account, [binance_trade(1)])

    html = operator_client.get(f"/positions/{Position.objects.get().pk}/").content.decode()

    assert "Funding" not in html
