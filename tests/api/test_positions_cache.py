"""The positions list is served from a per-process copy while the Redis change stamp stays the same,
and any committed change of positions or marks (bumping the stamp, in whatever process) shows in the
next answer."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from positions import change_stamp
from positions.marks import store_marks
from positions.models import Position
from trades.ingest import ingest_trades

from ..factories import binance_trade

pytestmark = pytest.mark.django_db

# A Redis database of these tests' own: another process's bumps would only make misses, but the
# test that counts queries would then see one.
REDIS_URL = "redis://127.0.0.1:6379/11"
T0 = 1_704_067_200_000


@pytest.fixture
def stamped(settings):
    settings.REDIS_URL = REDIS_URL
    settings.POSITIONS_LIST_CACHE_SECONDS = 60


@pytest.fixture
def position(account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ingest_trades(account, [binance_trade(1, amount="2", price="100", timestamp=T0)])
    return Position.objects.get()


def sizes(api) -> list[str]:
    response = api.get("/api/positions")
    assert response.status_code == 200, response.content
    return [item["size"] for item in response.json()["items"]]


def test_a_repeated_request_is_answered_from_the_copy(api, stamped, position, django_assert_num_queries):
    first = api.get("/api/positions").content

    with django_assert_num_queries(0):
        again = api.get("/api/positions").content

    assert again == first


def test_a_trade_folded_shows_in_the_next_answer(api, stamped, account, position, django_capture_on_commit_callbacks):
    assert sizes(api) == ["2"]

    with django_capture_on_commit_callbacks(execute=True):
        ingest_trades(account, [binance_trade(2, amount="0.5", price="101", timestamp=T0 + 1)])

    assert sizes(api) == ["2.5"]


def test_a_mark_stored_shows_in_the_next_answer(api, stamped, account, position, django_capture_on_commit_callbacks):
    api.get("/api/positions")

    with django_capture_on_commit_callbacks(execute=True):
        store_marks(account, {"BTC/USDT": Decimal("120.5")}, datetime(2024, 1, 2, tzinfo=UTC))

    (item,) = api.get("/api/positions").json()["items"]
    assert (item["mark_price"], item["pnl_at_mark"]) == ("120.5", "41")


def test_a_bump_from_another_process_is_seen(api, stamped, position):
    """Another process's change reaches this one only through the stamp: here the row changes with
    no hook of this process, then the stamp is bumped as that process would."""
    assert sizes(api) == ["2"]
    Position.objects.filter(pk=position.pk).update(p1=Decimal("3"), size=Decimal("3"))
    assert sizes(api) == ["2"]

    change_stamp.bump()

    assert sizes(api) == ["3"]


def test_the_copy_serves_for_at_most_its_age_limit(api, stamped, settings, position):
    settings.POSITIONS_LIST_CACHE_SECONDS = 0
    assert sizes(api) == ["2"]

    Position.objects.filter(pk=position.pk).update(p1=Decimal("3"), size=Decimal("3"))

    assert sizes(api) == ["3"]


def test_each_query_has_its_own_copy(api, stamped, account, position):
    assert api.get("/api/positions", {"status": "closed"}).json()["items"] == []
    assert sizes(api) == ["2"]
    assert [p["symbol"] for p in api.get("/api/positions", {"symbol": "BTC/USDT"}).json()["items"]] == ["BTC/USDT"]
    assert api.get("/api/positions", {"symbol": "ETH/USDT"}).json()["items"] == []


def test_without_redis_every_answer_is_read_afresh(api, settings, position):
    settings.REDIS_URL = ""
    assert sizes(api) == ["2"]

    Position.objects.filter(pk=position.pk).update(p1=Decimal("3"), size=Decimal("3"))

    assert sizes(api) == ["3"]


def test_with_redis_unreachable_answers_are_read_afresh(api, settings, position):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    assert sizes(api) == ["2"]

    Position.objects.filter(pk=position.pk).update(p1=Decimal("3"), size=Decimal("3"))

    assert sizes(api) == ["3"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("async_db")
async def test_a_trade_a_stream_stores_bumps_the_stamp_then_tells_the_pages(stamped, account):
    """A stream stores on a `DatabaseThread`, which hands the stamp and the broadcast to the loop."""
    import asyncio

    from channels.layers import get_channel_layer

    from positions.events import POSITIONS_GROUP
    from trades.db import DatabaseThread

    layer = get_channel_layer()
    page = await layer.new_channel()
    await layer.group_add(POSITIONS_GROUP, page)
    before = await change_stamp.current()
    storing = DatabaseThread("test-stream")
    try:
        await storing.run(ingest_trades, account, [binance_trade(1, amount="2", price="100", timestamp=T0)])
        message = await asyncio.wait_for(layer.receive(page), 5)
    finally:
        await storing.close()

    assert message["books"] == [{"exchange_id": account.pk, "bot_instance_id": None, "symbol": "BTC/USDT", "leg": ""}]
    assert await change_stamp.current() != before
