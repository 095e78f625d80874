from trades.ingest import ingest_trades

from ..factories import binance_trade

T0 = 1_704_067_200_000


def walk(api, **params) -> tuple[list[str], int]:
    seen, pages, cursor = [], 0, None
    while True:
        body = api.get("/api/trades", {**params, **({"cursor": cursor} if cursor else {})}).json()
        pages += 1
        seen += [t["exchange_trade_id"] for t in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen, pages


def test_pages_cover_every_trade_once_even_with_equal_timestamps(api, account):
    # Three trades share each millisecond: the cursor must order by (timestamp, id).
    ingest_trades(account, [binance_trade(i, timestamp=T0 + i // 3) for i in range(1, 11)])

    newest_first, pages = walk(api, limit=4)
    oldest_first, _ = walk(api, limit=3, order="asc")

    assert pages == 3
    assert sorted(newest_first) == sorted(f"BTCUSDT:{i}" for i in range(1, 11))
    assert len(set(newest_first)) == 10
    assert oldest_first == list(reversed(newest_first))


def test_the_last_page_has_no_cursor(api, account):
    ingest_trades(account, [binance_trade(1), binance_trade(2, timestamp=T0 + 1)])

    assert api.get("/api/trades", {"limit": 2}).json()["next_cursor"] is None
    assert api.get("/api/trades", {"limit": 1}).json()["next_cursor"] is not None


def test_a_cursor_keeps_the_filters_of_its_query(api, account):
    ingest_trades(account, [binance_trade(i, side="buy" if i % 2 else "sell", timestamp=T0 + i) for i in range(1, 9)])

    buys, _ = walk(api, side="buy", limit=2)

    assert buys == ["BTCUSDT:7", "BTCUSDT:5", "BTCUSDT:3", "BTCUSDT:1"]


def test_trades_arriving_meanwhile_do_not_shift_pages(api, account):
    ingest_trades(account, [binance_trade(i, timestamp=T0 + i) for i in range(1, 5)])
    first = api.get("/api/trades", {"limit": 2}).json()

    ingest_trades(account, [binance_trade(9, timestamp=T0 + 9)])
    second = api.get("/api/trades", {"limit": 2, "cursor": first["next_cursor"]}).json()

    assert [t["exchange_trade_id"] for t in first["items"] + second["items"]] == ["BTCUSDT:4", "BTCUSDT:3", "BTCUSDT:2", "BTCUSDT:1"]
