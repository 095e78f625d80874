"""The three statements every fold of new trades makes, written for a stream that folds trades one at
a time: take the book's lock, read its latest position, write that position back.

Through the ORM these cost more Python than the rest of storing a trade (compiling each query,
quoting every value into the SQL text, a save() that decides between UPDATE and INSERT). Here the
SQL is built once from the model, values travel as bound parameters, and the lock and the read go to
the server together (psycopg's pipeline): one round trip. The read still runs after the lock is
held, since the server takes the statements in order, so it sees every fold committed before.
"""

from __future__ import annotations

import zlib

from django.db import connection
import psycopg

from trades.fold_order import fold_order_sql

from .models import Position

_TABLE = Position._meta.db_table
_FIELDS = list(Position._meta.concrete_fields)
_COLUMNS = ", ".join(f'"{field.column}"' for field in _FIELDS)
_ATTNAMES = [field.attname for field in _FIELDS]
_CONVERTERS = [(n, field) for n, field in enumerate(_FIELDS) if hasattr(field, "from_db_value")]
_WRITTEN = [field for field in _FIELDS if not field.primary_key]
_UPDATE = f'UPDATE {_TABLE} SET {", ".join(f"{chr(34)}{f.column}{chr(34)} = %s" for f in _WRITTEN)} WHERE id = %s'
# Position's fold order, newest first: the same order as `services._book_positions`, reversed.
_LATEST = (
    f"SELECT {_COLUMNS} FROM {_TABLE} WHERE exchange_id = %s AND symbol = %s AND leg = %s AND bot_instance_id {{bot}} "
    f"ORDER BY {fold_order_sql('last_update_time', 'last_trade_id', descending=True)}, id DESC LIMIT 1"
)
_LATEST_WITHOUT_BOT = _LATEST.format(bot="IS NULL")
_LATEST_OF_BOT = _LATEST.format(bot="= %s")
_LOCK = "SELECT pg_advisory_xact_lock(%s, %s)"
_LOCK_SPACE = 0x7472


def book_lock_key(exchange_id: int, bot_instance_id: int | None, symbol: str, leg: str = "") -> tuple[int, int]:
    key = zlib.crc32(f"{exchange_id}|{bot_instance_id}|{symbol}|{leg}".encode())
    return _LOCK_SPACE, key - (1 << 31)


def lock_book_and_read_latest(exchange_id: int, bot_instance_id: int | None, symbol: str, leg: str = "") -> Position | None:
    """Take the book's advisory lock until the transaction ends, then read its latest position."""
    connection.ensure_connection()
    if bot_instance_id is None:
        query, params = _LATEST_WITHOUT_BOT, (exchange_id, symbol, leg)
    else:
        query, params = _LATEST_OF_BOT, (exchange_id, symbol, leg, bot_instance_id)
    raw = connection.connection
    with raw.pipeline(), psycopg.Cursor(raw) as lock, psycopg.Cursor(raw) as read:
        lock.execute(_LOCK, book_lock_key(exchange_id, bot_instance_id, symbol, leg))
        read.execute(query, params)
        row = read.fetchone()
    if row is None:
        return None
    values = list(row)
    for n, field in _CONVERTERS:
        values[n] = field.from_db_value(values[n], None, connection)
    return Position.from_db(connection.alias, _ATTNAMES, values)


def update_position(position: Position) -> None:
    """Write every field of a stored position (what `save()` would, without deciding whether to)."""
    values = [field.get_db_prep_save(getattr(position, field.attname), connection) for field in _WRITTEN]
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(_UPDATE, [*values, position.pk])
