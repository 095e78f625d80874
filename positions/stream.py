"""The positions app's events on the live stream for programs (trades/stream_events.py): a position's
full state each time a fold writes it, its removal when a replay refolds it away, and new marks.
Emitted in the transaction that makes the change, so they are numbered when it commits."""

from __future__ import annotations

from trades.stream_events import Event, emit
from trades.models import StreamEvent

from .models import MarkPrice, Position

_POSITION_FIELDS = (
    "symbol", "leg", "side", "size", "p1", "p2", "p1_fee", "p2_fee", "other_fees", "avg_price", "is_open", "entry_time",
    "last_update_time", "closed_time", "realized_pnl", "funding", "funding_paid", "funding_received", "funding_count",
    "trade_count", "first_trade_id", "last_trade_id",
)  # fmt: skip


def position_state(position: Position) -> dict:
    """A position's full state, with the fields the API's positions have (decimals exact)."""
    return {
        "id": position.pk,
        "account_id": position.exchange_id,
        "bot_instance_id": position.bot_instance_id,
        "removed": False,
        **{field: getattr(position, field) for field in _POSITION_FIELDS},
    }


def _position_event(position: Position, data: dict) -> Event:
    return Event(StreamEvent.Kind.POSITION, position.exchange_id, position.bot_instance_id, position.symbol, "", data)


def emit_positions_written(positions: list[Position]) -> None:
    emit([_position_event(p, position_state(p)) for p in positions])


def emit_positions_removed(positions: list[Position]) -> None:
    """Positions a replay deletes (it writes their book's positions again, under new ids)."""
    emit([_position_event(p, {**position_state(p), "removed": True}) for p in positions])


def emit_marks(marks: list[MarkPrice]) -> None:
    emit(
        [
            Event(
                StreamEvent.Kind.MARK,
                m.account_id,
                None,
                m.symbol,
                m.market_symbol,
                {"account_id": m.account_id, "market_symbol": m.market_symbol, "symbol": m.symbol, "price": m.price, "fetched_at": m.fetched_at},
            )
            for m in marks
        ]
    )
