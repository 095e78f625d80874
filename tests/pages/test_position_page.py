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
    assert html.count("<polyline") == 2
    assert "Size" in html and "PnL" in html
    # PnL at the mark: p2 = -100 - 0.00000000000000012 + 65, p1 = 0.500000000000000001
    assert "27.500000000000000005" in html


def test_an_unknown_position_is_404(operator_client, db):
    assert operator_client.get("/positions/424242/").status_code == 404
