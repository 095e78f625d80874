"""Django's middleware, run on the event loop where it cannot block, and the ASGI handler that does.

Under an ASGI server Django runs each hook of a `MiddlewareMixin` middleware (`process_request`,
`process_response`) through `sync_to_async`, in a thread made for the request: 14 trips to a thread
and back for the 7 middleware here, most of what an async API request cost. These subclasses run
the hooks on the event loop instead, which is safe because these hooks only look at the request
and the response (no database, no files), and keep the trip to a thread for the one case that
writes: a session that was changed is saved from a thread, and so are messages that must be
stored (they may go into the session). `settings.MIDDLEWARE` keeps Django's names (`check --deploy`
looks for them); `ASGIHandler` puts these subclasses in their place. Other servers of the project
(the test client, management commands) run Django's own.

The handler also lends each request a thread from a few it keeps (`RequestThreads`), where Django's
makes a new thread for every request (asgiref's context per request) and joins it at the end; and
the web server's workers do Django's request-start work at the request's end instead
(`start_requests_on_the_loop`), which saves each request a trip to its thread.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.core import signals
from django.core.handlers import asgi, base
from django.db import close_old_connections, reset_queries
from django.middleware import clickjacking, common, csrf, security
from django.utils.module_loading import import_string


class OnTheLoop:
    """`MiddlewareMixin.__acall__` without the threads: for hooks that never block."""

    def response_needs_thread(self, request) -> bool:
        return False

    async def __acall__(self, request):
        response = None
        if hasattr(self, "process_request"):
            response = self.process_request(request)
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            if self.response_needs_thread(request):
                return await sync_to_async(self.process_response)(request, response)
            response = self.process_response(request, response)
        return response


class SecurityMiddleware(OnTheLoop, security.SecurityMiddleware):
    pass


class SessionMiddleware(OnTheLoop, sessions.SessionMiddleware):
    def response_needs_thread(self, request) -> bool:
        session = getattr(request, "session", None)
        return session is not None and (session.modified or settings.SESSION_SAVE_EVERY_REQUEST)


class CommonMiddleware(OnTheLoop, common.CommonMiddleware):
    pass


class CsrfViewMiddleware(OnTheLoop, csrf.CsrfViewMiddleware):
    """With CSRF_USE_SESSIONS the token is in the session, which may mean a query: threads then."""

    async def __acall__(self, request):
        if settings.CSRF_USE_SESSIONS:
            return await csrf.CsrfViewMiddleware.__acall__(self, request)
        return await super().__acall__(request)

    async def process_view(self, request, callback, callback_args, callback_kwargs):
        """Reads the form of an unsafe request, which the ASGI handler has already received whole."""
        if settings.CSRF_USE_SESSIONS:
            return await sync_to_async(super().process_view)(request, callback, callback_args, callback_kwargs)
        return super().process_view(request, callback, callback_args, callback_kwargs)


class AuthenticationMiddleware(OnTheLoop, auth.AuthenticationMiddleware):
    pass


class MessageMiddleware(OnTheLoop, messages.MessageMiddleware):
    def response_needs_thread(self, request) -> bool:
        storage = getattr(request, "_messages", None)
        return storage is not None and (storage.used or storage.added_new)


class XFrameOptionsMiddleware(OnTheLoop, clickjacking.XFrameOptionsMiddleware):
    pass


ON_THE_LOOP = {
    "django.middleware.security.SecurityMiddleware": SecurityMiddleware,
    "django.contrib.sessions.middleware.SessionMiddleware": SessionMiddleware,
    "django.middleware.common.CommonMiddleware": CommonMiddleware,
    "django.middleware.csrf.CsrfViewMiddleware": CsrfViewMiddleware,
    "django.contrib.auth.middleware.AuthenticationMiddleware": AuthenticationMiddleware,
    "django.contrib.messages.middleware.MessageMiddleware": MessageMiddleware,
    "django.middleware.clickjacking.XFrameOptionsMiddleware": XFrameOptionsMiddleware,
}


def _import_middleware(path: str):
    return ON_THE_LOOP.get(path) or import_string(path)


class RequestThreads:
    """The threads a worker's requests run their synchronous work in (the view, the database, the
    signals), each lent to one request at a time, for the whole request: what Django needs of the
    thread a request is given, that every call of the request is made in the same one (its database
    connection and transaction live there). Between requests a thread holds no database connection
    (Django closes it, or gives it back to the pool, as the request finishes). A request that finds
    none idle gets a new one; at most `KEEP` wait idle for the next requests."""

    KEEP = 32

    def __init__(self):
        self._idle: list[ThreadPoolExecutor] = []

    def lend(self) -> ThreadPoolExecutor:
        if self._idle:
            return self._idle.pop()
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")

    def give_back(self, thread: ThreadPoolExecutor) -> None:
        if len(self._idle) < self.KEEP:
            self._idle.append(thread)
        else:
            thread.shutdown(wait=False)


class ASGIHandler(asgi.ASGIHandler):
    """Django's, with each middleware in `settings.MIDDLEWARE` that has an on-the-loop version
    above replaced by it (Django's `load_middleware` imports them by name, through `import_string`
    of its module, for the moment of loading), and each request run on a thread it is lent."""

    def __init__(self):
        super().__init__()
        self.threads = RequestThreads()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        thread = self.threads.lend()
        try:
            async with ThreadSensitiveContext(executor=thread):
                try:
                    await self.handle(scope, receive, send)
                except BaseException:
                    # Django sends request_finished only for a request that ends or is cancelled:
                    # the connection of one that failed otherwise stays out of the pool, in the thread.
                    await sync_to_async(close_old_connections)()
                    raise
        finally:
            self.threads.give_back(thread)

    def load_middleware(self, is_async=False):
        base.import_string = _import_middleware
        try:
            super().load_middleware(is_async)
        finally:
            base.import_string = import_string


def start_requests_on_the_loop() -> None:
    """Move Django's own receivers of request_started (which close the thread's old connections and
    reset its query log) to request_finished, for a process whose requests all run on `ASGIHandler`
    (a web server's worker). A thread it lends holds no connection at a request's start, since
    every request leaves its thread with its connections closed (Django's request_finished, or the
    handler after a failure); and request_started with a synchronous receiver is a trip to the
    thread, where request_finished is sent on one the request makes anyway."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_started.disconnect(reset_queries)
    signals.request_finished.connect(reset_queries)
