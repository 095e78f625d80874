"""Channels' `runworker`, with a worker that starts the exchange-streams consumer at boot instead of
waiting for a first message on its channel."""

from channels.management.commands.runworker import Command as ChannelsRunworker
from channels.worker import Worker

from trades.consumers import STREAMS_CHANNEL


class BootingWorker(Worker):
    async def handle(self):
        if STREAMS_CHANNEL in self.channels:
            scope = {"type": "channel", "channel": STREAMS_CHANNEL}
            queue = self.get_or_create_application_instance(STREAMS_CHANNEL, scope)
            await queue.put({"type": "streams.start"})
        await super().handle()


class Command(ChannelsRunworker):
    worker_class = BootingWorker
