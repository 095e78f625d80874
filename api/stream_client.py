"""An async client of the tracker's live stream (`/ws/stream/`), for a bot's own process.

    from api.stream_client import stream

    async for event in stream("ws://127.0.0.1:8000/ws/stream/", token, accounts=["binance_spot"], kinds=["trade", "position"]):
        if event.kind == "position":
            print(event.sequence, event.symbol, event.size, event.avg_price)  # Decimals

It reconnects by itself (backoff from 0.5 s doubling to 30 s) and resumes after the last event it
handed out, so the loop sees every event once, in order, across disconnections. It raises
`StreamRefused` when the tracker refuses the token or the subscription, and `HistoryGone` when the
events to resume from are no longer kept: read the state again from the JSON API, then call
`stream` again without `resume_after`. Numbers are `Decimal`, times aware `datetime`s. It needs
only aiohttp: no Django.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import random
import typing
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import aiohttp

logger = logging.getLogger(__name__)

REFUSED_CLOSE_CODES = (4400, 4401)
HISTORY_GONE_CLOSE_CODE = 4410


class StreamRefused(Exception):
    """The tracker refused the token or the subscription; `code` and `detail` say why."""

    def __init__(self, code: str, detail: str):
        super().__init__(f"{code}: {detail}")
        self.code, self.detail = code, detail


class HistoryGone(StreamRefused):
    """The events after the sequence to resume from are no longer kept."""


@dataclass(frozen=True)
class Event:
    sequence: int
    kind: str
    account_id: int
    account: str
    bot_instance_id: int | None
    symbol: str
    market_symbol: str
    committed_at: datetime


@dataclass(frozen=True)
class TradeEvent(Event):
    id: int
    exchange_trade_id: str
    order_id: str
    side: str
    trade_kind: str  # fill, liquidation, ... (the trade's `kind`)
    leg: str
    taker_or_maker: str
    amount: Decimal
    contract_size: Decimal
    price: Decimal
    cost: Decimal
    fee_cost: Decimal
    fee_currency: str
    timestamp: datetime
    p1_delta: Decimal
    p2_delta: Decimal


@dataclass(frozen=True)
class PositionEvent(Event):
    """A position's full state after a change; `removed`: a replay refolded it away (its book's
    positions follow under new ids)."""

    id: int
    removed: bool
    leg: str
    side: str
    size: Decimal
    p1: Decimal
    p2: Decimal
    p1_fee: Decimal
    p2_fee: Decimal
    other_fees: dict[str, Decimal]
    avg_price: Decimal | None
    is_open: bool
    entry_time: datetime
    last_update_time: datetime
    closed_time: datetime | None
    realized_pnl: Decimal | None
    funding: Decimal
    funding_paid: Decimal
    funding_received: Decimal
    funding_count: int
    trade_count: int
    first_trade_id: str
    last_trade_id: str


@dataclass(frozen=True)
class FundingEvent(Event):
    id: int
    exchange_funding_id: str
    leg: str
    timestamp: datetime
    amount: Decimal
    currency: str
    rate: Decimal | None
    position_size: Decimal | None


@dataclass(frozen=True)
class MarkEvent(Event):
    price: Decimal
    fetched_at: datetime


@dataclass(frozen=True)
class AlarmEvent(Event):
    alarm: str  # account_down, account_stopped, trade_id_reused, audit_differs
    state: str  # raised or cleared
    reason: str
    details: dict


EVENT_CLASSES: dict[str, type[Event]] = {
    "trade": TradeEvent,
    "position": PositionEvent,
    "funding": FundingEvent,
    "mark": MarkEvent,
    "alarm": AlarmEvent,
}
_RENAMED = {"trade": {"kind": "trade_kind"}}
_ENVELOPE = {f.name for f in dataclasses.fields(Event)}


def _typed(value, hint):
    """A JSON value as the field's type: decimal strings to Decimal, ISO times to datetime."""
    if value is None:
        return None
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) is dict:
        return {k: _typed(v, args[1]) for k, v in value.items()}
    if args and typing.get_origin(hint) is not dict:
        hint = args[0]
    if hint is Decimal:
        return Decimal(value)
    if hint is datetime:
        return datetime.fromisoformat(value)
    return value


def parse_event(message: dict) -> Event:
    """A typed event from the stream's JSON message."""
    cls = EVENT_CLASSES.get(message["kind"], Event)
    hints = typing.get_type_hints(cls)
    renamed = _RENAMED.get(message["kind"], {})
    data = {renamed.get(k, k): v for k, v in message["data"].items()}
    values = {name: message.get(name) for name in _ENVELOPE}
    values["committed_at"] = datetime.fromisoformat(message["committed_at"])
    names = {f.name for f in dataclasses.fields(cls)}
    if "details" in names:
        values["details"] = {k: v for k, v in data.items() if k not in names and k != "account_id"}
    for name in names - _ENVELOPE - {"details"}:
        values[name] = _typed(data.get(name), hints[name])
    return cls(**values)


class Stream:
    """`async for event in Stream(...)`: see the module's docstring. `last_sequence` is the sequence
    of the last event handed out (or where the subscription began): keep it to resume later."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        accounts: list[str | int] | None = None,
        bots: list[str | int] | None = None,
        symbols: list[str] | None = None,
        kinds: list[str] | None = None,
        resume_after: int | None = None,
        max_backoff: float = 30.0,
    ):
        self.url, self.token = url, token
        self.subscription = {k: v for k, v in {"accounts": accounts, "bots": bots, "symbols": symbols, "kinds": kinds}.items() if v is not None}
        self.last_sequence = resume_after
        self.max_backoff = max_backoff
        self.connected = asyncio.Event()  # set while subscribed
        self._socket: aiohttp.ClientWebSocketResponse | None = None

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        delay = 0.5
        async with aiohttp.ClientSession() as session:
            while True:
                try:
                    async for event in self._connected(session):
                        delay = 0.5
                        yield event
                except (aiohttp.ClientError, ConnectionError, asyncio.TimeoutError) as error:
                    logger.warning("live stream: %s; reconnecting in %.1f s", error or type(error).__name__, delay)
                finally:
                    self.connected.clear()
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self.max_backoff)

    async def _connected(self, session: aiohttp.ClientSession) -> AsyncIterator[Event]:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with session.ws_connect(self.url, headers=headers, heartbeat=20) as socket:
            self._socket = socket
            subscription = dict(self.subscription)
            if self.last_sequence is not None:
                subscription["resume_after"] = self.last_sequence
            await socket.send_str(json.dumps(subscription))
            async for frame in socket:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    break
                message = json.loads(frame.data)
                if message["type"] == "error":
                    refused = HistoryGone if message["code"] == "history_gone" else StreamRefused
                    raise refused(message["code"], message["detail"])
                if message["type"] == "subscribed":
                    if self.last_sequence is None:
                        self.last_sequence = message["sequence"]
                    self.connected.set()
                    continue
                event = parse_event(message)
                if self.last_sequence is not None and event.sequence <= self.last_sequence:
                    continue  # (never sent twice by the tracker; a guard all the same)
                self.last_sequence = event.sequence
                yield event
            if socket.close_code in REFUSED_CLOSE_CODES or socket.close_code == HISTORY_GONE_CLOSE_CODE:
                raise StreamRefused("closed", f"the tracker closed the stream with code {socket.close_code}")
            raise ConnectionError(f"the stream closed (code {socket.close_code})")

    async def disconnect(self) -> None:
        """Drop the current connection (the stream reconnects and resumes): for tests and for a
        program that wants a fresh connection."""
        if self._socket is not None:
            await self._socket.close()


def stream(url: str, token: str, **subscription) -> Stream:
    """The stream of events `subscription` selects (accounts, bots, symbols, kinds, resume_after)."""
    return Stream(url, token, **subscription)
