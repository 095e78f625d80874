"""A database from before Binance ids were stored as `MARKET:id`: the migration rewrites its trades,
positions and kept-aside payloads, and the same trades read again afterwards are found stored."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from exchanges.models import ExchangeAccount
from exchanges.venues import VENUES
from positions import fold
from positions.models import Position
from positions.services import fill_of, store_state
from trades.ingest import ingest_trades, normalise_batch
from trades.models import RejectedTrade, Trade

from ..factories import binance_trade, bybit_trade, make_account, make_market

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = [("trades", "0003_trade_time_index")]
T0 = 1_704_067_200_000


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def old_account(name: str, ccxt_id: str, market_type: str) -> ExchangeAccount:
    """An account stored as the old schema had it (a ccxt id and a market type), as today's code
    sees it once migrated."""
    old_model = MigrationExecutor(connection).loader.project_state(BEFORE).apps.get_model("exchanges", "ExchangeAccount")
    row = old_model.objects.create(name=name, ccxt_id=ccxt_id, market_type=market_type, api_key="key", api_secret="secret")
    venue = {("binance", "spot"): "binance_spot", ("bybit", "swap"): "bybit_linear"}[(ccxt_id, market_type)]
    return ExchangeAccount(pk=row.pk, name=name, venue=venue, api_key="key", api_secret="secret")


def old_model(app: str, name: str):
    state = MigrationExecutor(connection).loader.project_state([*BEFORE, ("positions", "0002_mark_price")])
    return state.apps.get_model(app, name)


def as_old_row(model, today):
    """Today's unsaved row as the old schema's model: the fields the old schema has."""
    return model(**{f.attname: getattr(today, f.attname) for f in model._meta.concrete_fields if f.attname != "id"})


def store_as_the_old_code_did(account: ExchangeAccount, payloads: list[dict]) -> None:
    """Trades, their positions and kept-aside payloads written into the old schema (today's ingest
    writes columns it does not have yet): normalised and folded by today's rules, stored through the
    old schema's models."""
    trades, rejected = normalise_batch(account, payloads)
    old_model("trades", "Trade").objects.bulk_create([as_old_row(old_model("trades", "Trade"), t) for t in trades])
    old_model("trades", "RejectedTrade").objects.bulk_create([as_old_row(old_model("trades", "RejectedTrade"), r) for r in rejected])
    for symbol in sorted({t.symbol for t in trades}):
        base, quote = symbol.split("/")
        book = sorted((t for t in trades if t.symbol == symbol), key=lambda t: fold.fold_order_key(t.timestamp, t.exchange_trade_id))
        for state in fold.fold_fills([fill_of(t, base, quote) for t in book]):
            today = store_state(Position(exchange_id=account.pk, symbol=symbol), state)
            as_old_row(old_model("positions", "Position"), today).save()


@pytest.fixture
def before_the_migration(monkeypatch):
    """The schema and the ids as they were: bare Binance numbers. The latest schema comes back after."""
    migrate(BEFORE)
    with monkeypatch.context() as old_code:
        old_code.setattr(VENUES["binance_spot"], "market_id_keys", ())
        yield
    migrate(latest())


def old_history():
    return [
        binance_trade(1, amount="2", price="100", timestamp=T0),
        binance_trade(2, side="sell", amount="1", price="110", timestamp=T0 + 1),
        binance_trade(3, symbol="ETH/USDT", amount="5", price="10", timestamp=T0 + 2),
    ]


def test_stored_binance_ids_are_qualified_and_keep_deduplicating(before_the_migration):
    account = old_account("binance_spot", "binance", "spot")
    perp = old_account("bybit_perp", "bybit", "swap")
    make_market(perp, "BTC/USDT:USDT")
    spoiled = binance_trade(4)
    spoiled["info"]["qty"] = "lots"
    store_as_the_old_code_did(account, [*old_history(), spoiled])
    store_as_the_old_code_did(perp, [bybit_trade("e-1")])
    assert sorted(Trade.objects.filter(exchange=account).values_list("exchange_trade_id", flat=True)) == ["1", "2", "3"]

    del VENUES["binance_spot"].market_id_keys  # the new code, on the old database
    migrate(latest())

    assert sorted(Trade.objects.filter(exchange=account).values_list("exchange_trade_id", flat=True)) == ["BTCUSDT:1", "BTCUSDT:2", "ETHUSDT:3"]
    assert Trade.objects.get(exchange=perp).exchange_trade_id == "e-1"  # Bybit's ids are unique as they are
    btc = Position.objects.get(exchange=account, symbol="BTC/USDT")
    assert (btc.first_trade_id, btc.last_trade_id) == ("BTCUSDT:1", "BTCUSDT:2")
    assert Position.objects.get(exchange=account, symbol="ETH/USDT").first_trade_id == "ETHUSDT:3"
    assert RejectedTrade.objects.get().exchange_trade_id == "BTCUSDT:4"

    # Read again after the upgrade: found stored, no alarm; BTCUSDT's trade 3 is a new trade, folded after 2.
    assert ingest_trades(account, old_history()) == []
    assert RejectedTrade.objects.count() == 1
    [new] = ingest_trades(account, [binance_trade(3, amount="1", price="120", timestamp=T0 + 3)])
    assert new.exchange_trade_id == "BTCUSDT:3"
    btc.refresh_from_db()
    assert (btc.p1, btc.last_trade_id) == (Decimal(2), "BTCUSDT:3")


def test_going_back_refuses_numbers_shared_by_two_symbols():
    account = make_account()
    ingest_trades(account, [binance_trade(7), binance_trade(7, symbol="ETH/USDT", timestamp=T0 + 1)])
    try:
        with pytest.raises(RuntimeError, match="more than one symbol"):
            migrate(BEFORE)
    finally:
        migrate(latest())
    assert Trade.objects.filter(exchange=account).count() == 2
