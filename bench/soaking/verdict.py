"""The soak's verdict: what the tracker stored against the simulator's ground truth.

Positions are checked against a fold of the simulator's own records (`GET /_sim/trades` and
`GET /_sim/funding`), per book (account, symbol, leg), made here with the pure functions of
`positions.fold` and the market steps the simulator publishes; nothing of what the tracker stored
goes into it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal


@dataclass
class Verdict:
    trades_made: int = 0
    trades_stored: int = 0
    missing: int = 0
    duplicated: int = 0
    unknown: int = 0  # stored, but the exchange never made them
    field_mismatches: int = 0  # stored with numbers (or a kind or leg) other than the exchange's
    unprocessed: int = 0  # stored but never folded
    positions_checked: int = 0
    positions_with_funding: int = 0  # of those checked, positions the truth folds funding into
    leg_positions_checked: int = 0  # of those checked, hedge-mode legs'
    position_mismatches: int = 0
    rejected: int = 0  # payloads kept aside as RejectedTrade
    audit_missing: int | None = None  # what the gap audit found missing after the settle
    funding_made: int = 0
    funding_stored: int = 0
    funding_missing: int = 0
    funding_unknown: int = 0  # stored, but the exchange never charged them
    funding_mismatches: int = 0  # stored with another amount, rate, size, leg or time
    faults: Counter = field(default_factory=Counter)
    refused: dict = field(default_factory=dict)  # calls the exchange's own rate limits refused, by kind
    unexpected_exits: dict = field(default_factory=dict)
    latency_max: float = 0.0  # seconds from execution to stored
    latency_p99: float = 0.0
    latency_p50: float = 0.0
    seconds: dict = field(default_factory=dict)  # phase -> seconds
    examples: list[str] = field(default_factory=list)  # the first few discrepancies, for the log

    @property
    def ok(self) -> bool:
        return not (
            self.missing or self.duplicated or self.unknown or self.field_mismatches or self.position_mismatches or self.unprocessed
            or self.funding_missing or self.funding_unknown or self.funding_mismatches
        )


def _when(ms: int) -> datetime:
    return datetime.fromtimestamp(ms // 1000, tz=UTC) + timedelta(milliseconds=ms % 1000)


def stored_id(record: dict, venues: dict) -> str:
    """The id the tracker stores a ground-truth trade under (qualified by market where the venue
    numbers ids per market: `BTCUSDT:123`)."""
    return venues[record["account"]].qualified_trade_id(record["market_id"], record["id"])


def venues_of(accounts: list[dict]) -> dict:
    """Account name -> its venue, from the simulator's description of each account."""
    from exchanges.venues import venue_for

    return {a["name"]: venue_for(a["ccxt_id"], a["market_type"]) for a in accounts}


def fold_truth(truth: list[dict], accounts: list[dict], funding: list[dict] = ()) -> dict[tuple[str, str, str], list]:
    """(account, canonical symbol, leg) -> the positions the ground truth folds into, oldest first:
    its trades (`GET /_sim/trades`) and its funding payments (`GET /_sim/funding`), by book."""
    from positions import fold

    markets = {(a["name"], m["symbol"]): m for a in accounts for m in a["markets"]}
    venues = venues_of(accounts)
    fills: dict[tuple[str, str, str], list] = defaultdict(list)
    payments: dict[tuple[str, str, str], list] = defaultdict(list)
    for record in truth:
        market = markets[(record["account"], record["symbol"])]
        deltas = fold.trade_deltas(
            side=record["side"],
            amount=Decimal(record["amount"]),
            cost=Decimal(record["cost"]),
            base=market["base"],
            quote=market["quote"],
            contract_size=Decimal(market["contract_size"]),
            fee_cost=Decimal(record["fee"]),
            fee_currency=record["fee_coin"],
        )
        book = (record["account"], record["symbol"].split(":")[0], record.get("leg", ""))
        fills[book].append(fold.Fill(stored_id(record, venues), _when(record["timestamp"]), deltas))
    for record in funding:
        book = (record["account"], record["symbol"].split(":")[0], record["leg"])
        payments[book].append(fold.Payment(record["id"], _when(record["timestamp"]), Decimal(record["amount"])))
    steps = {(a["name"], m["symbol"].split(":")[0]): Decimal(m["amount_step"]) for a in accounts for m in a["markets"]}
    return {
        book: fold.fold_book(
            sorted(fills.get(book, []), key=lambda f: f.order_key),
            sorted(payments.get(book, []), key=lambda p: (p.timestamp, p.payment_id)),
            steps[book[:2]],
        ).positions
        for book in set(fills) | set(payments)
    }


# the simulator's name of what made an execution -> the tracker's `Trade.kind`
TRUTH_KINDS = {"trade": "fill", "liquidation": "liquidation", "adl": "adl", "settlement": "settlement", "delivery": "delivery"}

POSITION_FIELDS = (
    "p1", "p2", "p1_fee", "p2_fee", "is_open", "first_trade_id", "last_trade_id", "trade_count", "entry_time", "last_update_time",
    "closed_time", "realized_pnl",
)


def _position_key(p) -> tuple:
    return (p.entry_time, len(p.first_trade_id), p.first_trade_id)


def _figures(position) -> list:
    """What is compared of a position, stored or folded: its fields, then its funding."""
    fields = [getattr(position, f) for f in POSITION_FIELDS]
    if hasattr(position, "funding_paid"):  # a stored Position
        return [*fields, position.funding, position.funding_paid, position.funding_received, position.funding_count]
    funding = position.funding
    return [*fields, funding.total, funding.paid, funding.received, funding.count]


def check(truth: list[dict], accounts: list[dict], verdict: Verdict, funding: list[dict] = ()) -> Verdict:
    """Fill in the trade and position figures from the database the tracker wrote; positions against
    the fold of the truth's trades and `funding` payments."""
    from django.db import connection

    from exchanges.models import ExchangeAccount
    from positions.models import Position
    from trades.models import RejectedTrade, Trade

    names = {a.pk: a.name for a in ExchangeAccount.objects.all()}
    verdict.trades_made = len(truth)
    venues = venues_of(accounts)
    expected = {(r["account"], stored_id(r, venues)): r for r in truth}
    seen: Counter = Counter()
    fields = ("market_symbol", "side", "amount", "price", "cost", "fee_cost", "fee_currency", "kind", "leg")
    for exchange_id, trade_id, *numbers in Trade.objects.values_list("exchange_id", "exchange_trade_id", *fields).iterator(chunk_size=10000):
        key = (names[exchange_id], trade_id)
        seen[key] += 1
        record = expected.get(key)
        if record is None:
            verdict.unknown += 1
            continue
        exact = [
            record["symbol"], record["side"], Decimal(record["amount"]), Decimal(record["price"]), Decimal(record["cost"]),
            Decimal(record["fee"]), record["fee_coin"], TRUTH_KINDS[record["kind"]], record["leg"],
        ]
        if numbers != exact:
            verdict.field_mismatches += 1
            if len(verdict.examples) < 10:
                verdict.examples.append(f"trade {key} stored {numbers} != {exact}")
    verdict.trades_stored = sum(seen.values())
    verdict.duplicated = sum(n - 1 for n in seen.values() if n > 1)
    missing = [key for key in expected if key not in seen]
    verdict.missing = len(missing)
    verdict.examples += [f"missing {key}" for key in missing[:10]]
    verdict.unprocessed = Trade.objects.filter(processed=False).count()
    verdict.rejected = RejectedTrade.objects.count()

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT max(s), percentile_cont(0.99) WITHIN GROUP (ORDER BY s), percentile_cont(0.5) WITHIN GROUP (ORDER BY s) "
            f"FROM (SELECT extract(epoch FROM received_at - timestamp) AS s FROM {Trade._meta.db_table}) AS latency"
        )
        worst, p99, p50 = cursor.fetchone()
    verdict.latency_max, verdict.latency_p99, verdict.latency_p50 = float(worst or 0), float(p99 or 0), float(p50 or 0)

    ids = {name: pk for pk, name in names.items()}
    expected_books = fold_truth(truth, accounts, funding)
    for (account, symbol, leg), states in expected_books.items():
        stored = sorted(Position.objects.filter(exchange_id=ids[account], bot_instance=None, symbol=symbol, leg=leg), key=_position_key)
        verdict.positions_checked += len(states)
        verdict.positions_with_funding += sum(1 for state in states if state.funding.count)
        verdict.leg_positions_checked += len(states) if leg else 0
        for position, state in zip(stored, states):
            other_fees = {coin: Decimal(cost) for coin, cost in position.other_fees.items()}
            if other_fees != state.other_fees or _figures(position) != _figures(state):
                verdict.position_mismatches += 1
                if len(verdict.examples) < 20:
                    verdict.examples.append(f"position {account} {symbol} {leg or 'net'} from {state.first_trade_id}: stored {_figures(position)} != {_figures(state)}")
        verdict.position_mismatches += abs(len(stored) - len(states))
    # positions in a book the truth has nothing for (a trade booked on the wrong leg, say)
    verdict.position_mismatches += Position.objects.count() - sum(
        Position.objects.filter(exchange_id=ids[account], bot_instance=None, symbol=symbol, leg=leg).count() for account, symbol, leg in expected_books
    )
    return verdict


def check_funding(truth: list[dict], verdict: Verdict) -> Verdict:
    """The funding ledger against the simulator's payments (`GET /_sim/funding`); duplicates cannot
    be stored (the ledger's unique key), so a payment is missing, unknown or stored with other numbers."""
    from exchanges.models import ExchangeAccount
    from trades.models import FundingPayment

    names = {a.pk: a.name for a in ExchangeAccount.objects.all()}
    expected = {(r["account"], r["id"]): r for r in truth}
    verdict.funding_made = len(expected)
    fields = ("exchange_id", "exchange_funding_id", "market_symbol", "leg", "amount", "rate", "position_size", "currency", "timestamp")
    seen = set()
    for exchange_id, payment_id, market_symbol, leg, amount, rate, size, currency, when in FundingPayment.objects.values_list(*fields).iterator(chunk_size=10000):
        key = (names[exchange_id], payment_id)
        seen.add(key)
        record = expected.get(key)
        if record is None:
            verdict.funding_unknown += 1
            continue
        exact = (record["symbol"], record["leg"], Decimal(record["amount"]), Decimal(record["rate"]), Decimal(record["position_size"]), record["currency"], _when(record["timestamp"]))
        if (market_symbol, leg, amount, rate, size, currency, when) != exact:
            verdict.funding_mismatches += 1
            if len(verdict.examples) < 20:
                verdict.examples.append(f"funding {key} stored {(market_symbol, leg, amount, rate, size, currency, when)} != {exact}")
    verdict.funding_stored = len(seen)
    verdict.funding_missing = sum(1 for key in expected if key not in seen)
    return verdict


def table(verdict: Verdict) -> tuple[list[str], list[list]]:
    rows = [
        ["trades made (simulator)", f"{verdict.trades_made:,}"],
        ["trades stored", f"{verdict.trades_stored:,}"],
        ["missing", verdict.missing],
        ["duplicated", verdict.duplicated],
        ["stored but never made", verdict.unknown],
        ["stored with other numbers, kind or leg", verdict.field_mismatches],
        ["stored but not folded", verdict.unprocessed],
        ["positions checked (independent fold, funding included)", f"{verdict.positions_checked:,}"],
        ["  of them with funding / on a hedge-mode leg", f"{verdict.positions_with_funding:,} / {verdict.leg_positions_checked:,}"],
        ["position mismatches", verdict.position_mismatches],
        ["funding payments made (simulator)", f"{verdict.funding_made:,}"],
        ["funding payments stored", f"{verdict.funding_stored:,}"],
        ["funding: missing / never made / other numbers", f"{verdict.funding_missing} / {verdict.funding_unknown} / {verdict.funding_mismatches}"],
        ["gap audit after settling: missing (trades and funding)", "-" if verdict.audit_missing is None else verdict.audit_missing],
        ["payloads kept aside (RejectedTrade)", verdict.rejected],
        ["execution to stored: median", f"{verdict.latency_p50:.3f} s"],
        ["execution to stored: 99th percentile", f"{verdict.latency_p99:.2f} s"],
        ["execution to stored: longest", f"{verdict.latency_max:.1f} s"],
    ]
    for kind, count in sorted(verdict.faults.items()):
        rows.append([f"fault: {kind}", f"{count:,}"])
    for kind, count in sorted(verdict.refused.items()):
        rows.append([f"refused by the exchange's rate limit: {kind}", f"{count:,}"])
    for name, count in sorted(verdict.unexpected_exits.items()):
        rows.append([f"{name} exited by itself (restarted)", count])
    for phase, seconds in verdict.seconds.items():
        rows.append([f"time: {phase}", f"{seconds:.0f} s"])
    return ["figure", "value"], rows
