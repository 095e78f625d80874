"""Channels' `runworker`, with a worker that starts the exchange-streams consumer at boot instead of
waiting for a first message on its channel, and that rides out the channel layer being unavailable
(Redis restarting): the streams it holds do not need Redis and must not stop because it did."""

import asyncio
import logging

from channels.management.commands.runworker import Command as ChannelsRunworker
from channels.worker import Worker
from redis.exceptions import RedisError

from trades.consumers import STREAMS_CHANNEL

logger = logging.getLogger(__name__)

CHANNEL_LAYER_RETRY_SECONDS = 1.0


class BootingWorker(Worker):
    async def handle(self):
        if STREAMS_CHANNEL in self.channels:
            scope = {"type": "channel", "channel": STREAMS_CHANNEL}
            queue = self.get_or_create_application_instance(STREAMS_CHANNEL, scope)
            await queue.put({"type": "streams.start"})
        await super().handle()

    async def listener(self, channel):
        while True:
            try:
                await super().listener(channel)
            except (RedisError, OSError) as error:
                logger.warning("channel layer unavailable (%s: %s); listening again in %.0fs", type(error).__name__, error, CHANNEL_LAYER_RETRY_SECONDS)
                await asyncio.sleep(CHANNEL_LAYER_RETRY_SECONDS)


class Command(ChannelsRunworker):
    worker_class = BootingWorker
