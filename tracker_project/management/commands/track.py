"""`manage.py track`: the whole tracker in one process. It composes what the apps provide: each
account's trade sync (REST and stream) with its mark refresh, the sweeper of unfolded trades, and the
live stream's pruning of old events."""

import asyncio
import logging
import signal

from asgiref.sync import sync_to_async
from django.core.management.base import BaseCommand

from positions.marks import refresh_marks_forever
from positions.services import sweep_unprocessed
from trades.stream_events import prune_history
from trades.synchronizer import AccountFollower

logger = logging.getLogger("tracker_project.track")

SWEEP_SECONDS = 60


class Command(BaseCommand):
    help = "Sync every enabled account in this one process: periodic REST passes and WebSocket streams."

    def add_arguments(self, parser):
        parser.add_argument("--no-streams", action="store_true", help="REST passes only")

    def handle(self, *args, no_streams, **options):
        asyncio.run(self.track(streams=not no_streams))

    async def track(self, *, streams: bool) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        follower = AccountFollower(streams=streams, account_loops=(refresh_marks_forever,))
        tasks = [asyncio.create_task(follower.run()), asyncio.create_task(self.sweep_forever())]
        self.stdout.write("tracking enabled accounts; Ctrl-C stops")
        await stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.stdout.write("stopped")

    async def sweep_forever(self) -> None:
        while True:
            swept = await sync_to_async(sweep_unprocessed)()
            if swept:
                logger.warning("folded %d trades a failed fold had left unprocessed", swept)
            await sync_to_async(prune_history)()
            await asyncio.sleep(SWEEP_SECONDS)
