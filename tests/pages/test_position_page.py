import re

from exchanges.models import Market
from positions.models import Position
from trades.ingest import ingest_trades

from ..api.marks import set_mark
from ..factories import binance_trade

T0 = 1_704_067_200_000


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
