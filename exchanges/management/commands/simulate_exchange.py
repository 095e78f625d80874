"""Run the exchange simulator (Binance spot and Bybit v5 linear, with the /_sim/ control API) on 127.0.0.1."""

import asyncio
import logging
import signal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from exchanges.simulator.config import ConfigError, default_config, load_config
from exchanges.simulator.register import register_accounts
from exchanges.simulator.server import serve_forever
from exchanges.simulator.state import StateError

DEFAULT_PORT = 8900


class Command(BaseCommand):
    help = "Run the exchange simulator on 127.0.0.1 (see exchanges/simulator/README.md)."

    def add_arguments(self, parser):
        parser.add_argument("--config", help="JSON config file; without it, the built-in default accounts")
        parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)")
        parser.add_argument("--register", action="store_true", help="create or update the matching ExchangeAccount rows")
        parser.add_argument("--state", help="a file keeping the ledger across restarts (created if missing); without it, each start is a new venue")

    def handle(self, *args, config=None, port=DEFAULT_PORT, register=False, state=None, **options):
        try:
            sim_config = load_config(config) if config else default_config()
        except (ConfigError, OSError) as error:
            raise CommandError(str(error)) from error
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

        def register_now(base_url, history_windows):
            try:
                return register_accounts(sim_config.accounts, base_url, history_windows)
            finally:
                connection.close()  # this runs on a worker thread, which keeps no connection

        async def ready(simulator):
            if register:
                rows = await asyncio.to_thread(register_now, simulator.base_url, simulator.history_windows)
                self.stdout.write(f"registered {', '.join(row.name for row in rows)}")
            for account in sim_config.accounts:
                markets = ", ".join(m.symbol for m in account.markets)
                self.stdout.write(f"{account.name}: {account.protocol} {markets} key={account.api_key}")
            self.stdout.write(f"exchange simulator listening on {simulator.base_url} (control API: {simulator.base_url}/_sim/)")
            self.stdout.flush()

        async def serve_until_signalled():
            # SIGINT too, even where it was inherited as ignored (a job a script put in the
            # background): `make run` and its users stop the simulator with either.
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            await serve_forever(sim_config, "127.0.0.1", port, ready, stop, state=state)

        try:
            asyncio.run(serve_until_signalled())
        except StateError as error:
            raise CommandError(str(error)) from error
        except OSError as error:
            raise CommandError(f"cannot listen on 127.0.0.1:{port}: {error}") from error
        self.stdout.write("stopped")
