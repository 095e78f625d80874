"""Faults injected on request (`POST /_sim/faults`): bad REST answers, lost or mangled WebSocket messages.

REST faults answer matching calls instead of the real handler:
  "429"       the protocol's own rate-limit answer (Binance: HTTP 429 + Retry-After, code -1003;
              Bybit: retCode 10006 "Too many visits!", as Bybit sends it, on HTTP 200); "retry_after"
              sets Binance's Retry-After (default: until the weight window ends, as Binance says)
  "5xx"       an HTTP 5xx (503 unless "status" says otherwise) with a load balancer's HTML page
  "malformed" HTTP 200 whose JSON body is cut in half
  "hang"      the real answer, but only after "seconds" (default 30): past any client timeout
  "corrupt"   the real answer to a trade-list call (Binance myTrades, Bybit execution/list) with its
              first trade's amount spoiled ("how": "negative" (default), "text", "missing", or
              "altered": doubled, a valid number but not the one traded)
WebSocket faults act on pushed events (never on replies to requests): "drop", "duplicate",
"reorder" and "corrupt" with "on": "ws" (as above, in the event's first trade) the next N events;
"pause" and "resume" the feed; "disconnect" every connection now.
"ban" bans the IP on Binance for "seconds" (default 60), as its rate limiter does: every Binance
call, REST or WebSocket API, is answered 418 with Retry-After until then.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import asdict, dataclass
from decimal import Decimal

REST_KINDS = ("429", "5xx", "malformed", "hang", "corrupt")
WS_KINDS = ("drop", "duplicate", "reorder", "corrupt")
ACTIONS = tuple(dict.fromkeys((*REST_KINDS, *WS_KINDS, "pause", "resume", "disconnect", "ban", "clear")))
CORRUPTIONS = ("negative", "text", "missing", "altered")


class FaultError(ValueError):
    pass


def spoil(item: dict, key: str, how: str) -> None:
    """Spoil one field of a trade payload the way a "corrupt" fault says."""
    if how == "missing":
        item.pop(key, None)
    elif how == "text":
        item[key] = "n/a"
    elif how == "altered":  # a valid amount, just not the one traded: the same id with other content
        item[key] = str(Decimal(item[key]) * 2)
    else:
        item[key] = "-" + str(item.get(key, "1")).lstrip("-")


@dataclass
class RestFault:
    kind: str
    remaining: int | None  # faulted answers still to give; None: until cleared
    fraction: float = 1.0  # each matching call is faulted with this probability
    status: int | None = None
    seconds: float = 30.0
    protocol: str = ""  # the exchange (binance, bybit); empty: every one
    path: str = ""  # only calls whose path starts with this
    how: str = "negative"  # corrupt: what to spoil
    retry_after: int | None = None  # 429 on Binance: the Retry-After to send (default: until the weight window ends)


class Faults:
    def __init__(self, seed: int, trade_list_paths: tuple[str, ...] = ()):
        """`trade_list_paths`: the calls that answer with trades, the only ones a "corrupt" fault spoils."""
        self.trade_list_paths = tuple(trade_list_paths)
        self.rng = random.Random(f"{seed}:faults")
        self.rest: list[RestFault] = []
        self.ws = Counter({kind: 0 for kind in WS_KINDS})
        self.ws_corruption = "negative"
        self.running = asyncio.Event()
        self.running.set()
        self.injected: Counter[str] = Counter()

    @property
    def paused(self) -> bool:
        return not self.running.is_set()

    def add(self, spec: dict) -> str:
        """Apply one fault spec; returns its action. Disconnecting is the server's job (see `Feed`)."""
        if not isinstance(spec, dict):
            raise FaultError("a fault is a JSON object with an action")
        action = str(spec.get("action", ""))
        if action not in ACTIONS:
            raise FaultError(f"action must be one of {', '.join(ACTIONS)}")
        count = spec.get("count")
        if count is not None and (not isinstance(count, int) or count < 1):
            raise FaultError("count must be a positive integer")
        how = str(spec.get("how", "negative"))
        if action == "corrupt" and how not in CORRUPTIONS:
            raise FaultError(f"how must be one of {', '.join(CORRUPTIONS)}")
        if action == "corrupt" and spec.get("on", "rest") not in ("rest", "ws"):
            raise FaultError("on must be rest or ws")
        if action == "ban":
            seconds = spec.get("seconds", 60)
            if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds <= 0:
                raise FaultError("seconds must be a positive number")
        elif action == "corrupt" and spec.get("on") == "ws":
            self.ws[action] += count or 1
            self.ws_corruption = how
        elif action in REST_KINDS:
            fraction = float(spec.get("fraction", 1.0))
            if not 0 < fraction <= 1:
                raise FaultError("fraction must be in (0, 1]")
            status = spec.get("status")
            if status is not None and not (isinstance(status, int) and 400 <= status <= 599):
                raise FaultError("status must be an HTTP error status")
            if "fraction" not in spec and count is None:
                count = 1
            retry_after = spec.get("retry_after")
            if retry_after is not None and (not isinstance(retry_after, int) or isinstance(retry_after, bool) or retry_after < 0):
                raise FaultError("retry_after must be a whole number of seconds")
            self.rest.append(
                RestFault(
                    kind=action,
                    remaining=count,
                    fraction=fraction,
                    status=status,
                    seconds=float(spec.get("seconds", 30.0)),
                    protocol=str(spec.get("protocol", "")),
                    path=str(spec.get("path", "")),
                    how=how,
                    retry_after=retry_after,
                )
            )
        elif action in WS_KINDS:
            self.ws[action] += count or 1
        elif action == "pause":
            self.running.clear()
        elif action == "resume":
            self.running.set()
        elif action == "clear":
            self.rest.clear()
            self.ws = Counter({kind: 0 for kind in WS_KINDS})
            self.running.set()
        return action

    def take_rest(self, protocol: str, path: str) -> RestFault | None:
        """The fault to answer this call with, if any; counts it as injected."""
        for fault in self.rest:
            if fault.protocol and fault.protocol != protocol:
                continue
            if fault.path and not path.startswith(fault.path):
                continue
            if fault.kind == "corrupt" and path not in self.trade_list_paths:
                continue
            if fault.fraction < 1 and self.rng.random() >= fault.fraction:
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.rest.remove(fault)
            self.injected[f"rest.{fault.kind}"] += 1
            return fault
        return None

    def give_back(self, fault: RestFault) -> None:
        """A corrupt fault that found no trade to spoil stays pending for the next call."""
        self.injected[f"rest.{fault.kind}"] -= 1
        if fault.remaining is not None:
            fault.remaining += 1
            if fault not in self.rest:
                self.rest.insert(0, fault)

    def take_ws(self) -> str | None:
        """What to do with the next pushed event: drop, duplicate, reorder, corrupt, or nothing."""
        for kind in WS_KINDS:
            if self.ws[kind] > 0:
                self.ws[kind] -= 1
                self.injected[f"ws.{kind}"] += 1
                return kind
        return None

    def reordering(self) -> bool:
        return self.ws["reorder"] > 0

    def state(self) -> dict:
        return {
            "rest": [asdict(fault) for fault in self.rest],
            "ws": dict(self.ws),
            "paused": self.paused,
            "injected": dict(self.injected),
        }
