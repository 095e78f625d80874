import re
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from exchanges.models import Market
from trades.ingest import ingest_trades
from trades.models import StreamHealth, SyncCursor

from ..api.marks import set_mark
from ..factories import binance_trade, bybit_trade, funding_payment, make_account, make_market, store_funding, store_trades, stored_trade

T0 = 1_704_067_200_000
FUNDING_T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _tr(html: str, table: str, key: str) -> str:
    section = html.split(f'<table id="{table}">', 1)[1].split("</table>", 1)[0]
    return section.split(f'data-key="{key}"', 1)[1].split("</tr>", 1)[0]


def row(html: str, table: str, key: str) -> dict[str, str]:
    """The cells of one row of a board table, by field: their text as shown."""
    return {field: re.sub(r"<[^>]+>", "", text).strip() for field, text in re.findall(r'data-field="(\w+)"[^>]*>(.*?)</td>', _tr(html, table, key))}


def exact(html: str, table: str, key: str) -> dict[str, str]:
    """The exact value of each number of one row, by field, from its cell's data attribute."""
    return dict(re.findall(r'data-field="(\w+)"[^>]*data-exact="([^"]*)"', _tr(html, table, key)))


def cell_class(html: str, table: str, key: str, field: str) -> str:
    return re.search(rf'data-field="{field}" class="([^"]*)"', _tr(html, table, key)).group(1)


def set_steps(account, symbol: str, amount_step: str, price_step: str) -> None:
    Market.objects.filter(account=account, symbol=symbol).update(amount_step=amount_step, price_step=price_step)


def test_the_board_needs_a_login(client, db):
    response = client.get("/positions/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/positions/"


def test_the_site_root_leads_to_the_board(client, db):
    assert client.get("/")["Location"] == "/positions/"


def test_an_open_position_with_its_mark_and_pnl(operator_client, account):
    set_steps(account, "BTC/USDT", amount_step="0.001", price_step="0.01")
    ingest_trades(account, [binance_trade(1, amount="2", price="100"), binance_trade(2, amount="1", price="130", timestamp=T0 + 5000)])
    set_mark(account, "BTC/USDT", "120")

    html = operator_client.get("/positions/").content.decode()

    # the amount to the amount step with its coin, prices to the tick, money to the quote coin's 2 places
    key = f"{account.pk}::BTC/USDT"
    assert row(html, "positions", key) == {
        "account": "binance_spot",
        "bot": "",
        "symbol": "BTC/USDT",
        "type": "spot",
        "side": "long",
        "size": "3.000 BTC",
        "avg_price": "110.00",
        "mark": "120.00",
        "notional": "360.00 USDT",  # 3 x 120
        "pnl": "30.00 USDT",
        "last_trade": "2024-01-01 00:00:05",
    }
    assert exact(html, "positions", key) == {"size": "3", "avg_price": "110", "mark": "120", "notional": "360", "pnl": "30"}
    assert 'title="30"' in _tr(html, "positions", key)


def test_numbers_too_long_to_read_are_rounded_with_the_exact_value_kept(operator_client, account):
    ingest_trades(account, [binance_trade(1, amount="3", price="100", cost="300"), binance_trade(2, amount="0.000000000000000003", price="100", cost="0.0000000000000003", timestamp=T0 + 1)])
    set_mark(account, "BTC/USDT", "88.896296349661327994")

    html = operator_client.get("/positions/").content.decode()

    # no steps known: BTC to 8 places, the price to USDT's 2. p2 = -300.0000000000000003,
    # p1 = 3.000000000000000003: pnl = -300.0000000000000003 + 3.000000000000000003 x the mark = -33.3111109510...
    key = f"{account.pk}::BTC/USDT"
    shown, exact_values = row(html, "positions", key), exact(html, "positions", key)
    assert (shown["size"], shown["mark"], shown["pnl"]) == ("3.00000000 BTC", "88.90", "-33.31 USDT")
    assert exact_values["size"] == "3.000000000000000003"
    assert exact_values["pnl"].startswith("-33.3111109510")


def test_a_spot_and_a_perpetual_position_of_one_symbol_are_labelled_by_type(operator_client, account):
    perp = make_account("bybit_perp", venue="bybit_linear")
    make_market(perp, "BTC/USDT:USDT")
    ingest_trades(account, [binance_trade(1, amount="3", price="100")])
    ingest_trades(perp, [bybit_trade("x", side="sell", amount="1", price="110")])

    html = operator_client.get("/positions/").content.decode()

    spot, perpetual = row(html, "positions", f"{account.pk}::BTC/USDT"), row(html, "positions", f"{perp.pk}::BTC/USDT")
    assert (spot["symbol"], spot["type"]) == ("BTC/USDT", "spot")
    assert (perpetual["symbol"], perpetual["type"]) == ("BTC/USDT", "perp")
    assert row(html, "nets", "BTC/USDT")["type"] == "perp + spot"


def test_closed_positions_are_not_on_the_board(operator_client, account):
    ingest_trades(account, [binance_trade(1), binance_trade(2, side="sell", timestamp=T0 + 1)])

    html = operator_client.get("/positions/").content.decode()

    assert "BTC/USDT" not in html
    assert "No open positions." in html


def test_the_net_per_symbol_across_accounts(operator_client, account):
    perp = make_account("bybit_perp", venue="bybit_linear")
    make_market(perp, "BTC/USDT:USDT")
    ingest_trades(account, [binance_trade(1, amount="3", price="100")])
    ingest_trades(perp, [bybit_trade("x", side="sell", amount="1", price="110")])
    set_mark(account, "BTC/USDT", "105")
    set_mark(perp, "BTC/USDT:USDT", "106", at=datetime(2024, 1, 3, tzinfo=UTC))

    html = operator_client.get("/positions/").content.decode()

    # the net's mark is the newest of its markets'; its PnL sums each position's at its own mark.
    # Neither market has an amount step or tick: BTC to 8 places, prices and USDT to 2.
    net = row(html, "nets", "BTC/USDT")
    assert (net["side"], net["net"], net["avg_price"], net["mark"], net["pnl"]) == ("long", "2.00000000 BTC", "95.00", "106.00", "19.00 USDT")
    assert exact(html, "nets", "BTC/USDT") == {"net": "2", "avg_price": "95", "mark": "106", "funding": "0", "pnl": "19"}


def test_realised_and_unrealised_pnl_fees_and_totals_per_account_and_overall(operator_client, account):
    perp = make_account("bybit_perp", venue="bybit_linear")
    make_market(perp, "BTC/USDT:USDT")
    ingest_trades(
        account,
        [
            binance_trade(1, amount="1", price="100", fee="0.1"),
            binance_trade(2, side="sell", amount="1", price="110", fee="0.11", timestamp=T0 + 1),
            binance_trade(3, amount="2", price="100", fee="0.001", fee_currency="BNB", timestamp=T0 + 2),
        ],
    )
    ingest_trades(perp, [bybit_trade("x", side="sell", amount="1", price="110", fee="0.05")])
    set_mark(account, "BTC/USDT", "105")
    set_mark(perp, "BTC/USDT:USDT", "106")

    html = operator_client.get("/positions/").content.decode()

    # spot: closed 110 - 100 - 0.1 - 0.11 = 9.79; open 2 x 105 - 200 = 10 (the BNB fee is not in it)
    assert row(html, "totals", "binance_spot:USDT") == {
        "account": "binance_spot", "type": "spot", "coin": "USDT",
        "realised": "9.79 USDT", "unrealised": "10.00 USDT", "funding": "0.00 USDT", "total": "19.79 USDT",
        "total_without_funding": "19.79 USDT", "fees": "0.001000 BNB · 0.21 USDT",
    }
    # perp: short 1 from 110 less a 0.05 fee, at 106: 109.95 - 106 = 3.95
    assert row(html, "totals", "bybit_perp:USDT") == {
        "account": "bybit_perp", "type": "perp", "coin": "USDT",
        "realised": "0.00 USDT", "unrealised": "3.95 USDT", "funding": "0.00 USDT", "total": "3.95 USDT",
        "total_without_funding": "3.95 USDT", "fees": "0.05 USDT",
    }
    overall = row(html, "totals", "*:USDT")
    assert (overall["account"], overall["realised"], overall["unrealised"], overall["total"], overall["fees"]) == (
        "All accounts", "9.79 USDT", "13.95 USDT", "23.74 USDT", "0.001000 BNB · 0.26 USDT",
    )
    assert exact(html, "totals", "*:USDT")["fees"] == "0.001 BNB · 0.26 USDT"


def test_a_position_without_a_mark_is_counted_apart_in_the_totals(operator_client, account):
    ingest_trades(account, [binance_trade(1, amount="1", price="100")])

    html = operator_client.get("/positions/").content.decode()

    assert row(html, "totals", "binance_spot:USDT")["unrealised"] == "0.00 USDT + 1 without a mark"


def test_sync_health_per_account(operator_client, account):
    StreamHealth.objects.create(account=account, ws_connected_since=timezone.now() - timedelta(hours=1))
    SyncCursor.objects.create(account=account, symbol="BTC/USDT", last_sync_at=timezone.now() - timedelta(seconds=90))
    make_account("bybit_perp", venue="bybit_linear")
    StreamHealth.objects.create(account=make_account("stopped_one"), stopped_reason="API key rejected")

    html = operator_client.get("/positions/").content.decode()

    spot = row(html, "health", "binance_spot")
    assert spot["ws"] == "up"
    assert spot["lag"].startswith("1m ")
    assert row(html, "health", "bybit_perp")["ws"] == "down"
    # a stopped account is down: a badge and its reason, styled as a loss
    assert row(html, "health", "stopped_one") | {"ws_since": ""} == {
        "account": "stopped_one", "ws": "stopped", "ws_since": "", "last_rest_sync": "", "lag": "", "rejected": "0", "audit": "",
        "error": "down API key rejected",
    }
    assert '<span class="badge">down</span> API key rejected' in _tr(html, "health", "stopped_one")
    assert cell_class(html, "health", "stopped_one", "error") == "reason"
    assert "badge" not in _tr(html, "health", "binance_spot")


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
    assert (net["side"], net["net"], net["avg_price"]) == ("long", "2.50000000 BTC", "94.00")


def test_a_spot_only_board_shows_no_funding_or_leg_columns(operator_client, account):
    ingest_trades(account, [binance_trade(1)])

    html = operator_client.get("/positions/").content.decode()

    assert "Funding" not in html.split('<script', 1)[0] and ">Leg<" not in html
    assert '"funding"' not in html.split('id="board-tables"', 1)[1].split("</script>", 1)[0]


def test_funding_and_hedge_legs_on_the_board(operator_client, db):
    hedge = make_account("hedge", venue="bybit_linear", position_mode="hedge")
    make_market(hedge, "BTC/USDT:USDT")
    store_trades([
        stored_trade(hedge, "1", side="buy", amount="2", price="100", cost="200", timestamp=FUNDING_T0, leg="long"),
        stored_trade(hedge, "2", side="sell", amount="1", price="100", cost="100", timestamp=FUNDING_T0, leg="short"),
    ])
    store_funding([
        funding_payment(hedge, "F0", amount="-0.07", timestamp=FUNDING_T0 - timedelta(hours=8), leg="long"),
        funding_payment(hedge, "F1", amount="-0.5", timestamp=FUNDING_T0 + timedelta(hours=8), leg="long"),
        funding_payment(hedge, "F2", amount="0.25", timestamp=FUNDING_T0 + timedelta(hours=8), leg="short"),
    ])
    set_mark(hedge, "BTC/USDT:USDT", "110")

    html = operator_client.get("/positions/").content.decode()

    long, short = row(html, "positions", f"{hedge.pk}::BTC/USDT:long"), row(html, "positions", f"{hedge.pk}::BTC/USDT:short")
    # long: -200 + 2 x 110 = 20, less 0.5 of funding; short: 100 - 110 = -10, plus 0.25
    assert (long["leg"], long["side"], long["funding"], long["pnl"], long["pnl_without_funding"]) == ("long", "long", "-0.50 USDT", "19.50 USDT", "20.00 USDT")
    assert (short["leg"], short["side"], short["funding"], short["pnl"], short["pnl_without_funding"]) == ("short", "short", "0.25 USDT", "-9.75 USDT", "-10.00 USDT")
    assert row(html, "nets", "BTC/USDT")["funding"] == "-0.25 USDT"
    # F0 came before the long's first trade: in no position, but in the account's funding and total
    totals = row(html, "totals", "hedge:USDT")
    assert (totals["unrealised"], totals["funding"], totals["total"], totals["total_without_funding"]) == (
        "9.75 USDT", "-0.32 USDT", "9.68 USDT", "10.00 USDT",
    )
