"""Django's PostgreSQL backend with one addition: hooks that run inside a transaction, just before
it commits (`connection.before_commit(func, item)`).

Django has `on_commit` (after the commit) but nothing before it. The live stream's events need it:
they are written, and given their sequence numbers, by the last statement of the transaction that
made the change, so that the lock that orders them is held for one statement and the commit rather
than for the whole transaction (trades/stream_events.py). Hooks follow `on_commit`'s rules: those
registered inside a savepoint that is rolled back are dropped, and a rollback drops them all. The
items registered with one function are handed to it together, in order: one call per transaction.
"""

from django.db import DatabaseError
from django.db.backends.postgresql import base
from django.db.transaction import TransactionManagementError


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.run_before_commit: list[tuple[set, object, object]] = []

    def before_commit(self, func, item) -> None:
        """Call `func([item, ...])` in this transaction just before it commits."""
        if not self.in_atomic_block:
            raise TransactionManagementError("before_commit() needs a transaction: call it inside transaction.atomic()")
        self.run_before_commit.append((set(self.savepoint_ids), func, item))

    def commit(self):
        if self.run_before_commit:
            pending, self.run_before_commit = self.run_before_commit, []
            batches: dict = {}
            for _, func, item in pending:
                batches.setdefault(func, []).append(item)
            try:
                for func, items in batches.items():
                    func(items)
            except DatabaseError:
                raise  # transaction.atomic rolls back
            except BaseException:
                self.rollback()
                raise
        super().commit()

    def rollback(self):
        self.run_before_commit = []
        super().rollback()

    def close(self):
        self.run_before_commit = []
        super().close()

    def savepoint_rollback(self, sid):
        super().savepoint_rollback(sid)
        self.run_before_commit = [entry for entry in self.run_before_commit if sid not in entry[0]]
