"""`python -m tests.exchanges.budget_worker GO_AT_MS ACCOUNT...`: at GO_AT_MS (epoch ms), backfill the
accounts at once, each with its own REST client, as `track` or a Celery worker would; prints what
each stored, and when the backfill began and ended, as JSON."""

import asyncio
import json
import sys
import time

import django

django.setup()

from exchanges.connectors import ExchangeConnector  # noqa: E402
from exchanges.models import ExchangeAccount  # noqa: E402
from trades.db import db_sync_to_async  # noqa: E402
from trades.sync import RestSync  # noqa: E402


async def backfill(account: ExchangeAccount) -> int:
    connector = ExchangeConnector(account)
    try:
        result = await RestSync(account, connector.rest_client()).run([account.market_symbol(s) for s in account.symbols])
        return result.new
    finally:
        await connector.close()


async def main(go_at_ms: int, names: list[str]) -> None:
    accounts = await db_sync_to_async(lambda: list(ExchangeAccount.objects.filter(name__in=names)))()
    await asyncio.sleep(max(0.0, go_at_ms / 1000 - time.time()))
    began = time.time()
    stored = await asyncio.gather(*(backfill(account) for account in accounts))
    print(json.dumps({"began": began, "ended": time.time(), "stored": {a.name: n for a, n in zip(accounts, stored)}}))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2:]))
