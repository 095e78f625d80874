"""What the soak does to the exchange: the trades it executes, and the faults it injects on a schedule."""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

NOTIONAL = Decimal(300)  # an order is worth up to about this much quote coin


def call(base_url: str, method: str, path: str, body=None, timeout: float = 60.0):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base_url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"{method} {path}: {error.code} {error.read().decode()[:500]}") from None


@dataclass
class Market:
    account: str
    protocol: str
    symbol: str
    amount_step: Decimal
    price_step: Decimal
    price: Decimal
    hedge: bool = False
    # a hedge-mode market's legs, in amount steps: a fill on the other side of a leg only reduces it
    legs: dict = field(default_factory=lambda: {"long": 0, "short": 0})


class TradeMaker:
    """Orders on every market of every account: random sides and sizes, so positions keep opening,
    growing, crossing zero and closing; some orders fill in several pieces (one order label), some
    pay their Binance fee in BNB. On a hedge-mode account an order either opens or adds to its side's
    leg, or reduces the other leg (never past zero, as the venue's reduce-only orders)."""

    def __init__(self, accounts: list[dict], seed: int):
        self.rng = random.Random(seed)
        start = {"BTC": Decimal(60000), "ETH": Decimal(3000), "SOL": Decimal(150)}
        self.markets = [
            Market(
                account=a["name"],
                protocol=a["protocol"],
                symbol=m["symbol"],
                amount_step=Decimal(m["amount_step"]),
                price_step=Decimal(m["price_step"]),
                price=start.get(m["base"], Decimal(100)),
                hedge=a.get("position_mode") == "hedge",
            )
            for a in accounts
            for m in a["markets"]
        ]
        self.orders = 0

    def _order(self) -> list[dict]:
        rng = self.rng
        market = rng.choice(self.markets)
        market.price *= Decimal(1 + rng.gauss(0, 0.0005)).quantize(Decimal("1e-8"))
        price = market.price.quantize(market.price_step, rounding=ROUND_DOWN)
        most = max(1, int(NOTIONAL / (price * market.amount_step)))
        fills = 1 if rng.random() < 0.6 else rng.randint(2, 4)
        maker = fills > 1 and rng.random() < 0.7
        side = rng.choice(("buy", "sell"))
        closing_leg = None
        if market.hedge:
            held = [leg for leg, steps in market.legs.items() if steps]
            if held and rng.random() < 0.5:
                closing_leg = rng.choice(held)
                side = "sell" if closing_leg == "long" else "buy"
        self.orders += 1
        label = f"soak-{self.orders}"
        trades = []
        for n in range(fills):
            tick = market.price_step * rng.randint(0, 5) * (1 if side == "buy" else -1)
            if closing_leg is None:
                steps = rng.randint(1, most)
                if market.hedge:
                    market.legs["long" if side == "buy" else "short"] += steps
            elif market.legs[closing_leg]:
                steps = rng.randint(1, min(most, market.legs[closing_leg]))
                market.legs[closing_leg] -= steps
            else:
                break
            trade = {
                "account": market.account,
                "symbol": market.symbol,
                "side": side,
                "amount": str(market.amount_step * steps),
                "price": str(price if maker else price + tick * n),
                "order": label,
                "maker": maker,
            }
            if closing_leg is not None:
                trade["leg"] = closing_leg
            if market.protocol == "binance" and rng.random() < 0.2:
                trade["fee_coin"] = "BNB"
            trades.append(trade)
        return trades

    def trades(self, count: int) -> list[dict]:
        """Whole orders, at least `count` fills (an order is never cut: its legs are counted)."""
        made: list[dict] = []
        while len(made) < count:
            made += self._order()
        return made


class PerpetualEvents:
    """What a perpetual venue books besides the accounts' fills: funding settled on every open
    position (each leg of a hedge-mode account's) at a random rate, and liquidations and ADL fills of
    part of a position or a leg (sized from the simulator's own positions, so that each only reduces
    one, as the venue's do)."""

    def __init__(self, base_url: str, accounts: list[dict], seed: int, maker: TradeMaker):
        self.base_url, self.maker = base_url, maker
        self.rng = random.Random(f"{seed}:perpetuals")
        self.steps = {(a["name"], m["symbol"]): Decimal(m["amount_step"]) for a in accounts for m in a["markets"] if m.get("settle")}
        self.made: Counter[str] = Counter()

    def settle_funding(self) -> None:
        rate = Decimal(self.rng.randint(-30, 30)) / Decimal(100_000)
        self.made["funding"] += len(call(self.base_url, "POST", "/_sim/funding", {"rate": str(rate)})["funding"])

    def close_some(self) -> None:
        positions = [
            p for p in call(self.base_url, "GET", "/_sim/positions")["positions"]
            if Decimal(p["size"]) != 0 and (p["account"], p["symbol"]) in self.steps
        ]
        if not positions:
            return
        position = self.rng.choice(positions)
        size, step = Decimal(position["size"]), self.steps[(position["account"], position["symbol"])]
        steps = self.rng.randint(1, int(abs(size) / step))
        kind = self.rng.choice(("liquidation", "adl"))
        market = self._market(position)
        trade = {
            "account": position["account"], "symbol": position["symbol"], "side": "sell" if size > 0 else "buy",
            "amount": str(step * steps), "price": str(market.price.quantize(market.price_step, rounding=ROUND_DOWN)), "kind": kind,
        }
        if position["leg"]:
            trade["leg"] = position["leg"]
        call(self.base_url, "POST", "/_sim/trades", {"trades": [trade]})
        if market.hedge:
            market.legs[position["leg"]] -= steps
        self.made[kind] += 1
        if position["leg"]:
            self.made[f"{kind} of a hedge leg"] += 1

    def _market(self, position: dict) -> Market:
        """The trade maker's market of the position: its prices now (asked of the soak's own state: the
        exchange's endpoints are being faulted) and its legs."""
        return next(m for m in self.maker.markets if (m.account, m.symbol) == (position["account"], position["symbol"]))


class Poster(threading.Thread):
    """Executes `total` trades on the simulator, evenly over `seconds`; with `perpetuals`, funding
    settlements and liquidation or ADL fills between them."""

    def __init__(self, base_url: str, maker: TradeMaker, total: int, seconds: float, tick: float = 0.25, perpetuals: PerpetualEvents | None = None):
        super().__init__(name="soak-poster", daemon=True)
        self.base_url, self.maker, self.total, self.seconds, self.tick = base_url, maker, total, seconds, tick
        self.perpetuals = perpetuals
        self.posted = 0
        self.error: BaseException | None = None
        self.stop_event = threading.Event()

    def run(self) -> None:
        try:
            start = time.monotonic()
            while self.posted < self.total and not self.stop_event.is_set():
                due = min(self.total, int(self.total * (time.monotonic() - start) / self.seconds) + 1)
                if due > self.posted:
                    count = min(due - self.posted, 500)
                    made = self.maker.trades(count)
                    call(self.base_url, "POST", "/_sim/trades", {"trades": made})
                    self.posted += len(made)
                    if self.perpetuals is not None:
                        self._perpetual_events()
                else:
                    time.sleep(self.tick)
        except BaseException as error:  # reported by the run, which stops on it
            self.error = error

    def _perpetual_events(self) -> None:
        rng = self.perpetuals.rng
        if rng.random() < 0.05:
            self.perpetuals.settle_funding()
        if rng.random() < 0.1:
            self.perpetuals.close_some()


@dataclass(frozen=True)
class Event:
    at: float  # seconds into the fault phase
    kind: str  # "sim" (a POST /_sim/faults), "kill", "redis", "postgres"
    spec: tuple = ()  # for "sim": the fault specs


def fault_schedule(seconds: float, seed: int) -> list[Event]:
    """The faults of a phase of `seconds`, in time order: WebSockets cut every few seconds, events
    duplicated, reordered, dropped and spoiled, the feed paused, bursts of 429 and 5xx, hung and cut-off
    answers, a Binance 418 ban, the tracker's processes killed twice, Redis restarted once, PostgreSQL
    connections terminated from the server side."""
    rng = random.Random(f"{seed}:faults")
    events: list[Event] = []

    def every(low: float, high: float, make, start: float | None = None):
        t = start if start is not None else rng.uniform(low, high)
        while t < seconds:
            events.append(make(t))
            t += rng.uniform(low, high)

    def sim(*specs):
        return lambda t: Event(t, "sim", tuple(specs))

    every(3, 6, lambda t: Event(t, "sim", ({"action": "disconnect"},)))
    every(4, 9, lambda t: Event(t, "sim", ({"action": rng.choice(["duplicate", "reorder", "drop"]), "count": rng.randint(1, 6)},)))
    # Bursts of 429 that pass: Binance's Retry-After would otherwise send every client to the end of
    # the minute each time, which is what the ban below is for.
    every(15, 25, lambda t: Event(t, "sim", ({"action": "429", "count": rng.randint(2, 6), "protocol": rng.choice(["binance", "bybit"]), "retry_after": rng.randint(1, 5)},)))
    every(15, 25, lambda t: Event(t, "sim", ({"action": "5xx", "count": rng.randint(2, 8), "status": rng.choice([500, 502, 503, 504])},)))
    every(25, 45, lambda t: Event(t, "sim", ({"action": "hang", "seconds": rng.uniform(11, 16)},)))
    every(25, 45, lambda t: Event(t, "sim", ({"action": "malformed"},)))
    # Bad payloads on the stream: kept aside, and the REST path stores the exchange's good copy.
    every(30, 60, lambda t: Event(t, "sim", ({"action": "corrupt", "on": "ws", "how": rng.choice(["negative", "text", "missing"]), "count": rng.randint(1, 2)},)))
    pause = min(15.0, max(3.0, seconds / 20))
    for at in (0.12, 0.72):
        events.append(Event(seconds * at, "sim", ({"action": "pause"},)))
        events.append(Event(seconds * at + pause, "sim", ({"action": "resume"},)))
    events.append(Event(seconds * 0.5, "sim", ({"action": "ban", "seconds": min(20.0, max(5.0, seconds / 30))},)))
    events.append(Event(seconds * 0.3, "kill"))
    events.append(Event(seconds * 0.62, "kill"))
    events.append(Event(seconds * 0.45, "redis"))
    for n in range(1, 6):
        events.append(Event(seconds * (n / 6 + 0.03), "postgres"))
    return sorted(events, key=lambda e: e.at)


class Faulter(threading.Thread):
    """Carries out a fault schedule against the simulator and the deployment."""

    def __init__(self, base_url: str, deployment, schedule: list[Event]):
        super().__init__(name="soak-faulter", daemon=True)
        self.base_url, self.deployment, self.schedule = base_url, deployment, schedule
        self.done: Counter[str] = Counter()
        self.error: BaseException | None = None
        self.stop_event = threading.Event()

    def run(self) -> None:
        start = time.monotonic()
        try:
            for event in self.schedule:
                wait = event.at - (time.monotonic() - start)
                if wait > 0 and self.stop_event.wait(wait):
                    return
                if event.kind == "sim":
                    call(self.base_url, "POST", "/_sim/faults", list(event.spec))
                elif event.kind == "kill":
                    self.deployment.kill_tracker()
                elif event.kind == "redis":
                    self.deployment.restart_redis()
                elif event.kind == "postgres":
                    self.deployment.terminate_backends()
                self.done[event.kind] += 1
        except BaseException as error:
            self.error = error
