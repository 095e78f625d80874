"""The tracker inside a bot's own process: `from trade_tracker import ...` sets Django up (the bot is
no Django project) and gives the seed's names.

    await init_db()
    async for session in get_session():
        trade_repo = TradeRepository(session)
        position_repo = PositionRepository(session)
        trade_sync = TradeSynchronizer(exchange_connectors=..., trade_repository=trade_repo,
                                       position_repository=position_repo, exchange_id_map=...)
        await trade_sync.start({'binance_spot': ['BTC/USDT']})
        position = await position_repo.get_position(exchange_id=1, symbol='BTC/USDT')

Settings are the tracker's own (`tracker_project.settings`, or `DJANGO_SETTINGS_MODULE` when the
process sets it), so the database is `DATABASE_URL`'s, else the embedded one under `var/`: the same
one `manage.py track` and the web server use.
"""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker_project.settings")
django.setup()

from asgiref.sync import sync_to_async  # noqa: E402  (the models need Django set up first)
from django.db import DatabaseError, connections  # noqa: E402
from django.db.migrations.executor import MigrationExecutor  # noqa: E402

from exchanges.connectors import ExchangeConnector  # noqa: E402
from exchanges.models import ExchangeAccount  # noqa: E402
from positions.repository import NetPosition, PositionRepository  # noqa: E402
from trades.repository import TradeRepository, TradeStatistics  # noqa: E402
from trades.synchronizer import TradeSynchronizer as _TradeSynchronizer  # noqa: E402

__all__ = [
    "DatabaseNotReady",
    "ExchangeConnector",
    "NetPosition",
    "PositionRepository",
    "Session",
    "TradeRepository",
    "TradeStatistics",
    "TradeSynchronizer",
    "account_ids",
    "connect_accounts",
    "get_session",
    "init_db",
]


class DatabaseNotReady(RuntimeError):
    """The tracker's database cannot be reached, or its schema is behind the code."""


def _where() -> str:
    db = connections["default"].settings_dict
    return f"{db.get('NAME')} on {db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"


def _unapplied_migrations() -> list[str]:
    connection = connections["default"]
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as error:
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise DatabaseNotReady(f"cannot reach the tracker's database {_where()}: {first_line}") from None
    finally:
        connection.close()
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


async def init_db() -> None:
    """Check that the database answers and its schema is migrated; raise `DatabaseNotReady`, naming
    the command to run, otherwise.

    It does not migrate: the schema belongs to the tracker (`manage.py migrate`, run by whoever
    deploys it), which may be running beside the bot on the same database; several bots starting at
    once would otherwise race each other's migrations, and a bot with older code would not know the
    newer schema it met."""
    unapplied = await sync_to_async(_unapplied_migrations)()
    if unapplied:
        shown = ", ".join(unapplied[:5]) + (f" and {len(unapplied) - 5} more" if len(unapplied) > 5 else "")
        raise DatabaseNotReady(
            f"the tracker's database {_where()} is not migrated ({len(unapplied)} to apply: {shown}): "
            "run `python manage.py migrate` in the tracker's directory with the same DATABASE_URL"
        )


class Session:
    """A bot's span of work with the tracker, the unit the repositories are given.

    Reads go through Django's async ORM, each query its own autocommitted transaction, so every read
    sees every trade committed before it (by this process's synchronizer, `track` or a Celery
    worker); writes happen only in the synchronizer's ingest, one transaction per page or batch. The
    session owns what was started under it: at its end the synchronizers built on its repositories
    are stopped (their streams and clients closed) and the database connections of the process's
    ORM thread are closed."""

    def __init__(self):
        self._synchronizers: list[_TradeSynchronizer] = []
        self.closed = False

    def adopt(self, synchronizer: _TradeSynchronizer) -> None:
        self._synchronizers.append(synchronizer)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            for synchronizer in reversed(self._synchronizers):
                await synchronizer.stop()
        finally:
            await sync_to_async(connections.close_all)()


async def get_session():
    """`async for session in get_session():` one `Session`, closed when the loop's body ends."""
    session = Session()
    try:
        yield session
    finally:
        await session.close()


class TradeSynchronizer(_TradeSynchronizer):
    """`trades.synchronizer.TradeSynchronizer`, stopped with the session its repositories belong to."""

    def __init__(self, exchange_connectors: dict | None = None, trade_repository=None, position_repository=None, exchange_id_map=None, **options):
        super().__init__(exchange_connectors if exchange_connectors is not None else {}, trade_repository, position_repository, exchange_id_map, **options)
        sessions = {id(s): s for s in (getattr(trade_repository, "session", None), getattr(position_repository, "session", None)) if s}
        for session in sessions.values():
            session.adopt(self)


def _named(names) -> list[ExchangeAccount]:
    return [ExchangeAccount.objects.named(name) for name in names]


async def connect_accounts(names) -> dict[str, ExchangeConnector]:
    """`exchange_connectors` for the named accounts (as `manage.py accounts add` stored them)."""
    return {account.name: ExchangeConnector(account) for account in await sync_to_async(_named)(names)}


async def account_ids(names) -> dict[str, int]:
    """`exchange_id_map` for the named accounts: name -> the `exchange_id` the repositories take."""
    return {account.name: account.id for account in await sync_to_async(_named)(names)}
