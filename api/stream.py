"""The live stream for programs: `/ws/stream/`, a WebSocket authenticated by an API token.

The client sends one subscription, `{"accounts": [...], "bots": [...], "symbols": [...], "kinds":
[...], "resume_after": N}` (each part optional), and receives `{"type": "subscribed", "sequence":
S}`, then every selected event after S in sequence order, from the database (trades/stream_events.py)
whether it is old or new: a wake-up on the channel layer, or a poll every `STREAM_POLL_SECONDS`,
only says when to look. So a resumed client gets the events it missed, then live ones, with no gap
or duplicate at the switch: it is one cursor over one table. A bad subscription gets
`{"type": "error", "code": ..., "detail": ...}` and the socket is closed.

A token reads the events of the accounts it may read (its accounts, or every account) and of the
kinds its user has the view permission for, as the JSON API's endpoints do.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from ninja.errors import HttpError

from exchanges.models import BotInstance, ExchangeAccount
from trades import stream_events
from trades.db import db_sync_to_async
from trades.stream_events import STREAM_GROUP, Selection

from . import filters
from .auth import grant_of_token
from .grants import Grant

logger = logging.getLogger(__name__)

KIND_PERMISSIONS = {
    "trade": ("trades.view_trade",),
    "position": ("positions.view_position",),
    "funding": ("trades.view_fundingpayment",),
    "mark": ("positions.view_markprice",),
    "alarm": ("trades.view_streamhealth",),
}
SUBSCRIPTION_KEYS = ("type", "accounts", "bots", "symbols", "kinds", "resume_after")
PAGE = 500

# Close codes: the subscription or the token is refused (the client should not retry as it is).
BAD_SUBSCRIPTION, UNAUTHORIZED, HISTORY_GONE = 4400, 4401, 4410


class Refused(Exception):
    def __init__(self, code: str, detail: str, close_code: int = BAD_SUBSCRIPTION):
        super().__init__(detail)
        self.code, self.detail, self.close_code = code, detail, close_code


@dataclass(frozen=True)
class Subscription:
    selection: Selection
    start: int  # the sequence the client goes on from
    account_names: dict[int, str]


def _names(value, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
        raise Refused("bad_subscription", f"{what}: a list of names or ids")
    return [str(v) for v in value]


def _refused_filter(what: str, error: HttpError) -> Refused:
    """The API filter's message ("account: no account named ..."), under the subscription's part."""
    message = str(error)
    singular = what.removesuffix("s") + ":"
    return Refused("bad_subscription", f"{what}:{message.removeprefix(singular)}" if message.startswith(singular) else f"{what}: {message}")


def _accounts(refs: list[str], grant: Grant) -> list[int] | None:
    """The account ids named (or None: every account the token may read), each one the token may read."""
    ids = []
    for ref in refs:
        try:
            ids.append(filters.account_id(ref))
        except HttpError as error:
            raise _refused_filter("accounts", error) from None
        if not grant.may_read_account(ids[-1]):
            raise Refused("forbidden", f"accounts: this token may not read account {ref!r}")
    if ids:
        return sorted(set(ids))
    return None if grant.account_ids is None else sorted(grant.account_ids)


def _bots(refs: list[str]) -> list[int] | None:
    if not refs:
        return None
    ids = []
    for ref in refs:
        found = BotInstance.objects.filter(pk=int(ref)) if ref.isdigit() else BotInstance.objects.filter(name=ref)
        pk = found.values_list("pk", flat=True).first()
        if pk is None:
            known = ", ".join(sorted(BotInstance.objects.values_list("name", flat=True))) or "none"
            raise Refused("bad_subscription", f"bots: no bot instance {'with id ' + ref if ref.isdigit() else 'named ' + repr(ref)}; known: {known}")
        ids.append(pk)
    return sorted(set(ids))


def _kinds(names: list[str], grant: Grant) -> list[str]:
    unknown = [n for n in names if n not in KIND_PERMISSIONS]
    if unknown:
        raise Refused("bad_subscription", f"kinds: no event kind {unknown[0]!r}; the kinds: {', '.join(KIND_PERMISSIONS)}")
    for name in names:
        if not grant.allows(KIND_PERMISSIONS[name]):
            raise Refused("forbidden", f"kinds: this token's user may not read {name} events: needs {', '.join(KIND_PERMISSIONS[name])}")
    kinds = names or [k for k, needs in KIND_PERMISSIONS.items() if grant.allows(needs)]
    if not kinds:
        raise Refused("forbidden", "this token's user may read no kind of event: it needs a view permission (trades.view_trade, ...)")
    return kinds


def _resume_after(value, history: stream_events.History) -> int:
    if value is None:
        return history.last
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise Refused("bad_subscription", "resume_after: the sequence of the last event received, a whole number")
    if value < history.pruned_through:
        raise Refused(
            "history_gone",
            f"resume_after: events after {value} are no longer kept (the oldest kept follows {history.pruned_through}; "
            f"STREAM_HISTORY_HOURS={settings.STREAM_HISTORY_HOURS:g}): read the state again from the API, then subscribe without resume_after",
            HISTORY_GONE,
        )
    if value > history.last:
        raise Refused(
            "history_gone",
            f"resume_after: {value} is ahead of the stream (its last event is {history.last}; was the database replaced?): "
            "read the state again from the API, then subscribe without resume_after",
            HISTORY_GONE,
        )
    return value


def read_subscription(content, grant: Grant) -> Subscription:
    """The subscription a client's message asks for, or `Refused` saying what is wrong."""
    if not isinstance(content, dict):
        raise Refused("bad_subscription", "the subscription is a JSON object: {\"accounts\": [...], \"symbols\": [...], \"kinds\": [...], \"resume_after\": N}")
    unknown = sorted(set(content) - set(SUBSCRIPTION_KEYS))
    if unknown:
        raise Refused("bad_subscription", f"{unknown[0]}: not a part of a subscription; the parts: {', '.join(SUBSCRIPTION_KEYS[1:])}")
    if content.get("type", "subscribe") != "subscribe":
        raise Refused("bad_subscription", "type: the one message a client sends is \"subscribe\"")
    accounts = _accounts(_names(content.get("accounts"), "accounts"), grant)
    pairs, markets = [], []
    one_account = accounts[0] if accounts is not None and len(accounts) == 1 else None
    for symbol in _names(content.get("symbols"), "symbols"):
        try:
            wanted = filters.symbol_filter(symbol, one_account)
        except HttpError as error:
            raise _refused_filter("symbols", error) from None
        (markets if wanted.is_market else pairs).append(wanted.symbol)
    selection = Selection(
        accounts=accounts,
        kinds=_kinds(_names(content.get("kinds"), "kinds"), grant),
        bots=_bots(_names(content.get("bots"), "bots")),
        pairs=pairs if pairs or markets else None,
        markets=markets if pairs or markets else None,
    )
    start = _resume_after(content.get("resume_after"), stream_events.history())
    names = dict(ExchangeAccount.objects.without_credentials().values_list("pk", "name"))
    return Subscription(selection, start, names)


def envelope(event, account_names: dict[int, str]) -> dict:
    return {
        "type": "event",
        "sequence": event.sequence,
        "kind": event.kind,
        "account_id": event.account_id,
        "account": account_names.get(event.account_id, str(event.account_id)),
        "bot_instance_id": event.bot_instance_id,
        "symbol": event.symbol,
        "market_symbol": event.market_symbol,
        "committed_at": event.committed_at.isoformat(),
        "data": event.data,
    }


def _bearer_token(scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() or None if scheme.lower() == "bearer" else None
    return None


class ProgramStreamConsumer(AsyncJsonWebsocketConsumer):
    """One program's socket: authenticate, read its subscription, then send its events from the
    cursor on, whenever a wake-up or the poll says to look."""

    grant: Grant | None = None
    subscription: Subscription | None = None
    cursor = 0
    poll: asyncio.Task | None = None

    async def dispatch(self, message):
        """As the operator pages' sockets: keep the database connection between messages (Channels
        closes it before each one)."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        self.lock = asyncio.Lock()
        self.token = _bearer_token(self.scope)
        self.grant = await grant_of_token(self.token) if self.token else None
        await self.accept()
        if self.grant is None:
            await self.refuse(Refused("unauthorized", "send an active API token: Authorization: Bearer TOKEN", UNAUTHORIZED))

    async def refuse(self, refused: Refused) -> None:
        await self.send_json({"type": "error", "code": refused.code, "detail": refused.detail})
        await self.close(code=refused.close_code)

    async def receive_json(self, content, **kwargs):
        if self.grant is None:
            return
        if self.subscription is not None:
            await self.refuse(Refused("bad_subscription", "already subscribed: one subscription a socket; open another for another"))
            return
        try:
            subscription = await db_sync_to_async(read_subscription)(content, self.grant)
        except Refused as refused:
            await self.refuse(refused)
            return
        await self.channel_layer.group_add(STREAM_GROUP, self.channel_name)
        self.subscription, self.cursor = subscription, subscription.start
        await self.send_json({"type": "subscribed", "sequence": subscription.start})
        await self.deliver()
        self.poll = asyncio.create_task(self.poll_forever())

    async def decode_json(self, text_data):
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None  # read_subscription says what a subscription is

    async def stream_wake(self, message):
        if self.subscription is None or message.get("sequence", 0) <= self.cursor:
            return
        accounts = self.subscription.selection.accounts
        if accounts is None or set(accounts) & set(message.get("accounts", ())):
            await self.deliver()

    async def poll_forever(self) -> None:
        """The wake-ups' safety net; and a token revoked meanwhile ends the subscription."""
        while True:
            await asyncio.sleep(settings.STREAM_POLL_SECONDS)
            try:
                if await grant_of_token(self.token) is None:
                    await self.refuse(Refused("unauthorized", "the token was revoked or its user deactivated", UNAUTHORIZED))
                    return
                await self.deliver()
            except Exception:
                logger.warning("live stream: could not read events; retrying at the next poll", exc_info=True)

    async def deliver(self) -> None:
        """Every selected event after the cursor, in order; one reader at a time."""
        async with self.lock:
            while True:
                page = await db_sync_to_async(stream_events.events_after)(self.cursor, self.subscription.selection, limit=PAGE)
                for event in page.events:
                    await self.send_json(envelope(event, self.subscription.account_names))
                self.cursor = page.read_through
                if len(page.events) < PAGE:
                    return

    async def disconnect(self, code):
        if self.poll is not None:
            self.poll.cancel()
        if self.subscription is not None:
            await self.channel_layer.group_discard(STREAM_GROUP, self.channel_name)
