"""The live stream's events: numbered in commit order, written with the change or not at all."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction
from django.test import override_settings
from django.utils import timezone

from trades import stream_events
from trades.ingest import ingest_trades
from trades.models import StreamEvent
from trades.stream_events import Event, Selection, emit, events_after

from ..factories import binance_trade

pytestmark = pytest.mark.django_db(transaction=True)

EVERYTHING = Selection(accounts=None, kinds=list(stream_events.KINDS))


def _alarm(account_id: int, name: str) -> Event:
    return stream_events.alarm_event(account_id, name, stream_events.RAISED, "test")


def test_ingest_emits_each_new_trade_then_the_position_it_made(account):
    ingest_trades(account, [binance_trade(1, amount="0.5", price="100.10")])

    events = events_after(0, EVERYTHING).events
    assert [e.kind for e in events] == ["trade", "position"]
    trade, position = events
    assert trade.sequence < position.sequence
    assert trade.data["exchange_trade_id"] == "BTCUSDT:1"
    assert trade.data["price"] == "100.1" and trade.data["amount"] == "0.5"  # as the API writes decimals
    assert position.data["size"] == "0.5" and position.data["side"] == "long" and position.data["is_open"] is True


def test_a_duplicate_trade_emits_nothing(account):
    ingest_trades(account, [binance_trade(1)])
    before = stream_events.history().last

    ingest_trades(account, [binance_trade(1)])

    assert stream_events.history().last == before


def test_a_transaction_rolled_back_emits_nothing(account):
    with pytest.raises(RuntimeError), transaction.atomic():
        emit([_alarm(account.pk, "a")])
        raise RuntimeError

    assert StreamEvent.objects.count() == 0


def test_a_savepoint_rolled_back_takes_only_its_own_events(account):
    with transaction.atomic():
        emit([_alarm(account.pk, "kept before")])
        with pytest.raises(RuntimeError), transaction.atomic():
            emit([_alarm(account.pk, "undone")])
            raise RuntimeError
        emit([_alarm(account.pk, "kept after")])

    assert [e.data["alarm"] for e in events_after(0, EVERYTHING).events] == ["kept before", "kept after"]


def test_events_are_numbered_when_their_transaction_commits(account):
    """The transaction that began first but commits last gets the later numbers."""
    first_emitted = threading.Event()
    second_committed = threading.Event()

    def first():
        try:
            with transaction.atomic():
                emit([_alarm(account.pk, "began first")])
                first_emitted.set()
                second_committed.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=first)
    thread.start()
    first_emitted.wait(10)
    with transaction.atomic():
        emit([_alarm(account.pk, "committed first")])
    second_committed.set()
    thread.join(10)

    assert [e.data["alarm"] for e in events_after(0, EVERYTHING).events] == ["committed first", "began first"]


def test_a_reader_following_concurrent_writers_misses_none(account):
    """Writers in four threads commit in any order; a reader that goes on from where it read, as
    the live stream does, ends with every event exactly once, in the order of their numbers."""
    writers_done = threading.Event()

    def write(worker: int):
        try:
            for n in range(40):
                with transaction.atomic():
                    emit([_alarm(account.pk, f"{worker}-{n}-a"), _alarm(account.pk, f"{worker}-{n}-b")])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    seen, cursor = [], 0
    watching = threading.Thread(target=lambda: ([t.join() for t in threads], writers_done.set()))
    watching.start()
    while True:
        done = writers_done.is_set()
        page = events_after(cursor, EVERYTHING, limit=7)
        seen += [e.sequence for e in page.events]
        cursor = page.read_through
        if done and len(page.events) < 7:
            break
    watching.join()

    stored = list(StreamEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    assert len(stored) == 4 * 40 * 2
    assert seen == stored


def test_a_selection_reads_only_its_accounts_kinds_and_symbols(account):
    other = type(account).objects.create(name="other", venue="binance_spot", api_key="k", api_secret="s")
    emit(
        [
            Event("mark", account.pk, None, "BTC/USDT", "BTC/USDT", {"n": 1}),
            Event("mark", account.pk, None, "ETH/USDT", "ETH/USDT", {"n": 2}),
            Event("trade", account.pk, None, "BTC/USDT", "BTC/USDT", {"n": 3}),
            Event("mark", other.pk, None, "BTC/USDT", "BTC/USDT", {"n": 4}),
            Event("alarm", account.pk, None, "", "", {"n": 5}),
        ]
    )

    selection = Selection(accounts=[account.pk], kinds=["mark", "alarm"], pairs=["BTC/USDT"], markets=[])
    assert [e.data["n"] for e in events_after(0, selection).events] == [1, 5]


def test_a_page_with_nothing_selected_still_moves_the_reader_on(account):
    emit([Event("mark", account.pk, None, "BTC/USDT", "BTC/USDT", {})])

    page = events_after(0, Selection(accounts=[account.pk], kinds=["trade"]))

    assert page.events == [] and page.read_through == stream_events.history().last


@override_settings(STREAM_HISTORY_HOURS=1)
def test_pruning_drops_old_events_and_says_how_far(account):
    emit([_alarm(account.pk, "old"), _alarm(account.pk, "old too")])
    StreamEvent.objects.update(committed_at=timezone.now() - timedelta(hours=2))
    emit([_alarm(account.pk, "new")])

    assert stream_events.prune_history() == 2

    assert stream_events.history().pruned_through == 2
    assert [e.data["alarm"] for e in events_after(2, EVERYTHING).events] == ["new"]


def test_decimals_travel_as_their_exact_strings(account):
    emit([Event("mark", account.pk, None, "BTC/USDT", "BTC/USDT", {"price": Decimal("0.100000000000000001")})])

    assert events_after(0, EVERYTHING).events[0].data["price"] == "0.100000000000000001"


def test_emitting_needs_the_projects_database_backend():
    assert connection.vendor == "postgresql" and hasattr(connection, "before_commit")


def _kinds_and_alarms() -> list[tuple[str, str | None, str | None]]:
    return [(e.kind, (e.data or {}).get("alarm"), (e.data or {}).get("state")) for e in events_after(0, EVERYTHING).events]


def test_an_account_going_down_raises_its_alarm_once_and_coming_back_clears_it(account):
    from trades.health import mark_down, mark_up

    mark_down(account, "the venue cannot be reached")
    mark_down(account, "the venue cannot be reached")
    mark_up(account)
    mark_up(account)

    assert _kinds_and_alarms() == [("alarm", "account_down", "raised"), ("alarm", "account_down", "cleared")]
    assert events_after(0, EVERYTHING).events[0].data["reason"] == "the venue cannot be reached"


def test_a_reused_trade_id_raises_an_alarm(account):
    ingest_trades(account, [binance_trade(1, amount="1")])
    ingest_trades(account, [binance_trade(1, amount="2")])

    assert _kinds_and_alarms()[-1] == ("alarm", "trade_id_reused", "raised")


def test_a_new_mark_is_an_event(account):
    from positions.marks import store_marks

    store_marks(account, {"BTC/USDT": Decimal("104.50")}, timezone.now())

    (event,) = events_after(0, EVERYTHING).events
    assert (event.kind, event.market_symbol, event.data["price"]) == ("mark", "BTC/USDT", "104.5")


def test_funding_payments_announced_by_their_signal_are_events(account):
    from trades.models import FundingPayment
    from trades.signals import funding_inserted

    with transaction.atomic():
        payment = FundingPayment.objects.create(
            exchange=account, exchange_funding_id="f1", symbol="BTC/USDT", market_symbol="BTC/USDT:USDT",
            timestamp=timezone.now(), amount=Decimal("-0.125"), currency="USDT", raw={},
        )  # fmt: skip
        funding_inserted.send(sender=FundingPayment, payments=[payment])

    (event,) = [e for e in events_after(0, EVERYTHING).events if e.kind == "funding"]
    assert (event.data["exchange_funding_id"], event.data["amount"], event.market_symbol) == ("f1", "-0.125", "BTC/USDT:USDT")


def test_a_bots_selection_keeps_its_accounts_marks_and_alarms(account):
    emit(
        [
            Event("trade", account.pk, 7, "BTC/USDT", "BTC/USDT", {"n": 1}),
            Event("trade", account.pk, None, "BTC/USDT", "BTC/USDT", {"n": 2}),
            Event("mark", account.pk, None, "BTC/USDT", "BTC/USDT", {"n": 3}),
            Event("alarm", account.pk, None, "", "", {"n": 4}),
        ]
    )

    selection = Selection(accounts=[account.pk], kinds=list(stream_events.KINDS), bots=[7])
    assert [e.data["n"] for e in events_after(0, selection).events] == [1, 3, 4]
