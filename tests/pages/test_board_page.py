import re
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from trades.ingest import ingest_trades
from trades.models import StreamHealth, SyncCursor

from ..api.marks import set_mark
from ..factories import binance_trade, bybit_trade, make_account, make_market

T0 = 1_704_067_200_000


def row(html: str, table: str, key: str) -> dict[str, str]:
    """The cells of one row of a board table, by field."""
    section = html.split(f'<table id="{table}">', 1)[1].split("</table>", 1)[0]
    tr = section.split(f'data-key="{key}"', 1)[1].split("</tr>", 1)[0]
    return {field: re.sub(r"<[^>]+>", "", text).strip() for field, text in re.findall(r'data-field="(\w+)"[^>]*>(.*?)</td>', tr)}


def test_the_board_needs_a_login(client, db):
    response = client.get("/positions/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/positions/"


def test_the_site_root_leads_to_the_board(client, db):
    assert client.get("/")["Location"] == "/positions/"


def test_an_open_position_with_its_mark_and_pnl(operator_client, account):
    ingest_trades(account, [binance_trade(1, amount="2", price="100"), binance_trade(2, amount="1", price="130", timestamp=T0 + 5000)])
    set_mark(account, "BTC/USDT", "120")

    html = operator_client.get("/positions/").content.decode()

    assert row(html, "positions", f"{account.pk}::BTC/USDT") == {
        "account": "binance_spot",
        "bot": "",
        "symbol": "BTC/USDT",
        "side": "long",
        "size": "3",
        "avg_price": "110",
        "mark": "120",
        "pnl": "30",
        "last_trade": "2024-01-01 00:00:05",
    }


def test_closed_positions_are_not_on_the_board(operator_client, account):
    ingest_trades(account, [binance_trade(1), binance_trade(2, side="sell", timestamp=T0 + 1)])

    html = operator_client.get("/positions/").content.decode()

    assert "BTC/USDT" not in html
    assert "No open positions." in html


def test_the_net_per_symbol_across_accounts(operator_client, account):
    perp = make_account("bybit_perp", ccxt_id="bybit", market_type="swap")
    make_market(perp, "BTC/USDT:USDT")
    ingest_trades(account, [binance_trade(1, amount="3", price="100")])
    ingest_trades(perp, [bybit_trade("x", side="sell", amount="1", price="110")])
    set_mark(account, "BTC/USDT", "105")
    set_mark(perp, "BTC/USDT:USDT", "106", at=datetime(2024, 1, 3, tzinfo=UTC))

    html = operator_client.get("/positions/").content.decode()

    # the net's mark is the newest of its markets'; its PnL sums each position's at its own mark
    net = row(html, "nets", "BTC/USDT")
    assert (net["side"], net["net"], net["avg_price"], net["mark"], net["pnl"]) == ("long", "2", "95", "106", "19")


def test_sync_health_per_account(operator_client, account):
    StreamHealth.objects.create(account=account, ws_connected_since=timezone.now() - timedelta(hours=1))
    SyncCursor.objects.create(account=account, symbol="BTC/USDT", last_sync_at=timezone.now() - timedelta(seconds=90))
    make_account("bybit_perp", ccxt_id="bybit", market_type="swap")
    StreamHealth.objects.create(account=make_account("stopped_one"), stopped_reason="API key rejected")

    html = operator_client.get("/positions/").content.decode()

    spot = row(html, "health", "binance_spot")
    assert spot["ws"] == "up"
    assert spot["lag"].startswith("1m ")
    assert row(html, "health", "bybit_perp")["ws"] == "down"
    assert row(html, "health", "stopped_one") | {"ws_since": ""} == {
        "account": "stopped_one", "ws": "stopped", "ws_since": "", "last_rest_sync": "", "lag": "", "rejected": "0", "audit": "",
        "error": "API key rejected",
    }


def test_the_page_opens_its_live_socket(operator_client, db):
    html = operator_client.get("/positions/").content.decode()

    assert "/ws/positions/" in html


def test_each_bot_has_its_own_row_and_they_net_together(operator_client, account):
    from exchanges.models import BotInstance

    zeta, alpha = BotInstance.objects.create(name="zeta"), BotInstance.objects.create(name="alpha")
    ingest_trades(account, [binance_trade(1, amount="2", price="100")], bot_instance_id=zeta.pk)
    ingest_trades(account, [binance_trade(2, side="sell", amount="0.5", price="110", timestamp=T0 + 1)], bot_instance_id=alpha.pk)
    ingest_trades(account, [binance_trade(3, amount="1", price="90", timestamp=T0 + 2)])

    html = operator_client.get("/positions/").content.decode()

    keys = re.findall(r'data-key="(\d+:\d*:BTC/USDT)"', html.split('<table id="positions">', 1)[1].split("</table>", 1)[0])
    assert keys == [f"{account.pk}:{alpha.pk}:BTC/USDT", f"{account.pk}:{zeta.pk}:BTC/USDT", f"{account.pk}::BTC/USDT"]
    assert (row(html, "positions", keys[0])["bot"], row(html, "positions", keys[0])["side"]) == ("alpha", "short")
    net = row(html, "nets", "BTC/USDT")
    assert (net["side"], net["net"], net["avg_price"]) == ("long", "2.5", "94")
