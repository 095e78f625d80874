"""Binance trade ids stored before this migration are the bare numbers Binance gives, which it counts
per symbol; from now on they are stored as `MARKET:id` (`BTCUSDT:123`, see trades/normalize.py).
This rewrites the stored ones to that form, so that a trade read again after the upgrade is found
already stored instead of being stored a second time: trades, the first and last trade of each
position (the fold's bounds), and the ids of payloads kept aside.

The market id is the one Binance sent with the trade (`info.symbol` from REST, `info.s` from the
stream), kept in the trade's raw payload; failing that, the canonical symbol without its slash.
Ids that already hold a `:` are left alone, so running it on a database already migrated changes
nothing. Run it before the new code ingests anything: a trade stored in both forms by then is left
in both (the unqualified copy is the one to delete).
"""

from django.db import migrations

BINANCE = "binance"


def _market_id(raw: str, symbol: str) -> str:
    """SQL for the Binance market id of a row with jsonb payload `raw` and canonical symbol `symbol`."""
    return f"coalesce({raw}->'info'->>'symbol', {raw}->'info'->>'s', replace({symbol}, '/', ''))"


def qualify(apps, schema_editor):
    account = apps.get_model("exchanges", "ExchangeAccount")._meta.db_table
    trade = apps.get_model("trades", "Trade")._meta.db_table
    rejected = apps.get_model("trades", "RejectedTrade")._meta.db_table
    position = apps.get_model("positions", "Position")._meta.db_table
    binance = f"SELECT id FROM {account} WHERE ccxt_id = %s"
    with schema_editor.connection.cursor() as cursor:
        # Positions first, while their trades still carry the old ids they name (unique per account then).
        for column in ("first_trade_id", "last_trade_id"):
            cursor.execute(
                f"""
                UPDATE {position} p SET {column} = coalesce(
                    (SELECT {_market_id("t.raw", "t.symbol")} FROM {trade} t
                     WHERE t.exchange_id = p.exchange_id AND t.exchange_trade_id = p.{column}),
                    replace(p.symbol, '/', '')
                ) || ':' || p.{column}
                WHERE p.exchange_id IN ({binance}) AND p.{column} <> '' AND strpos(p.{column}, ':') = 0
                """,
                [BINANCE],
            )
        cursor.execute(
            f"""
            UPDATE {trade} t SET exchange_trade_id = {_market_id("t.raw", "t.symbol")} || ':' || t.exchange_trade_id
            WHERE t.exchange_id IN ({binance}) AND strpos(t.exchange_trade_id, ':') = 0
              AND NOT EXISTS (
                  SELECT 1 FROM {trade} q WHERE q.exchange_id = t.exchange_id
                  AND q.exchange_trade_id = {_market_id("t.raw", "t.symbol")} || ':' || t.exchange_trade_id
              )
            """,
            [BINANCE],
        )
        cursor.execute(
            f"""
            UPDATE {rejected} r SET exchange_trade_id = coalesce(r.raw->'info'->>'symbol', r.raw->'info'->>'s') || ':' || r.exchange_trade_id
            WHERE r.exchange_id IN ({binance}) AND r.exchange_trade_id <> '' AND strpos(r.exchange_trade_id, ':') = 0
              AND coalesce(r.raw->'info'->>'symbol', r.raw->'info'->>'s') IS NOT NULL
            """,
            [BINANCE],
        )


def unqualify(apps, schema_editor):
    """Back to bare numbers: possible only while no two symbols of an account share a number."""
    account = apps.get_model("exchanges", "ExchangeAccount")._meta.db_table
    trade = apps.get_model("trades", "Trade")._meta.db_table
    rejected = apps.get_model("trades", "RejectedTrade")._meta.db_table
    position = apps.get_model("positions", "Position")._meta.db_table
    binance = f"SELECT id FROM {account} WHERE ccxt_id = %s"
    bare = "substr({0}, strpos({0}, ':') + 1)"
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*) FROM (
                SELECT exchange_id, {bare.format("exchange_trade_id")} FROM {trade}
                WHERE exchange_id IN ({binance}) GROUP BY 1, 2 HAVING count(*) > 1
            ) clashes
            """,
            [BINANCE],
        )
        (clashes,) = cursor.fetchone()
        if clashes:
            raise RuntimeError(f"{clashes} Binance trade numbers are stored for more than one symbol: they cannot go back to bare numbers")
        for table, column in ((trade, "exchange_trade_id"), (rejected, "exchange_trade_id"), (position, "first_trade_id"), (position, "last_trade_id")):
            cursor.execute(
                f"UPDATE {table} SET {column} = {bare.format(column)} WHERE exchange_id IN ({binance}) AND strpos({column}, ':') > 0",
                [BINANCE],
            )


class Migration(migrations.Migration):

    dependencies = [
        ("exchanges", "0001_initial"),
        ("positions", "0002_mark_price"),
        ("trades", "0003_trade_time_index"),
    ]

    operations = [migrations.RunPython(qualify, unqualify)]
