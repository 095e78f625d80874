"""The ASGI handler lends each request a thread for its synchronous work, kept for later requests
and given back without a database connection however the request ended."""

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection, reset_queries

from api.models import ApiToken
from tracker_project.middleware import ASGIHandler, RequestThreads, start_requests_on_the_loop


async def get(handler: ASGIHandler, path: str, headers=(), fail_to_send: bool = False) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
    }
    body_sent = False
    statuses = []

    async def receive():
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client stays connected

    async def send(message):
        if fail_to_send:
            raise ConnectionResetError("the client went away")
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await handler(scope, receive, send)
    return statuses[0]


class Threads:
    """The threads Django's request signals are sent on."""

    def __init__(self, on_started=None):
        self.started, self.finished = [], []
        self.on_started = on_started

    def _started(self, **kwargs):
        self.started.append(threading.current_thread())
        if self.on_started:
            self.on_started()

    def _finished(self, **kwargs):
        self.finished.append(threading.current_thread())

    def __enter__(self):
        request_started.connect(self._started)
        request_finished.connect(self._finished)
        return self

    def __exit__(self, *exc):
        request_started.disconnect(self._started)
        request_finished.disconnect(self._finished)


async def test_a_request_runs_on_one_thread_and_the_next_request_on_the_same():
    handler = ASGIHandler()

    with Threads() as threads:
        assert await get(handler, "/api/openapi.json") == 200
        assert await get(handler, "/api/openapi.json") == 200

    assert threads.started == threads.finished
    assert threads.started[0] is threads.started[1]
    assert threads.started[0] is not threading.current_thread()


async def test_requests_at_the_same_time_run_on_threads_of_their_own():
    handler = ASGIHandler()
    # Each request's thread waits for the other's: on one shared thread the second would never start.
    both_started = threading.Barrier(2, timeout=10)

    with Threads(on_started=both_started.wait) as threads:
        statuses = await asyncio.gather(get(handler, "/api/openapi.json"), get(handler, "/api/openapi.json"))

    assert statuses == [200, 200]
    assert len(set(threads.started)) == 2


@pytest.fixture
def requests_started_on_the_loop():
    start_requests_on_the_loop()
    yield
    request_finished.disconnect(reset_queries)
    request_started.connect(reset_queries)
    request_started.connect(close_old_connections)


def connection_of(thread) -> object | None:
    return thread.submit(lambda: connection.connection).result()


@pytest.mark.django_db(transaction=True)
async def test_a_thread_comes_back_without_a_connection_when_its_request_ends_or_fails(requests_started_on_the_loop, async_db):
    user = await sync_to_async(get_user_model().objects.create_user)("reader", is_superuser=True)
    token = (await sync_to_async(ApiToken.issue)(user, "tests"))[1]
    handler = ASGIHandler()
    authorization = [(b"authorization", f"Bearer {token}".encode())]

    assert await get(handler, "/api/trades", authorization) == 200
    (thread,) = handler.threads._idle
    assert connection_of(thread) is None

    with pytest.raises(ConnectionResetError):
        await get(handler, "/api/trades", authorization, fail_to_send=True)
    assert handler.threads._idle == [thread]
    assert connection_of(thread) is None

    assert await get(handler, "/api/trades", authorization) == 200


class CountingThreads(RequestThreads):
    """Counts the calls made on the threads it lends."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def lend(self):
        thread = super().lend()
        submit = thread.submit

        def counted(*args, **kwargs):
            self.calls += 1
            return submit(*args, **kwargs)

        thread.submit = counted
        return thread


async def test_the_middleware_runs_on_the_loop_and_request_started_costs_no_trip(requests_started_on_the_loop):
    handler = ASGIHandler()
    handler.threads = CountingThreads()

    assert await get(handler, "/api/positions") == 401

    # The response's close (request_finished) only: each of Django's own middleware would be two more.
    assert handler.threads.calls == 1
