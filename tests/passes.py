"""One REST pass of an account, as a test runs it: on a connector of its own, closed afterwards."""

from asgiref.sync import async_to_sync

from exchanges.connectors import ExchangeConnector
from trades.sync import RestSync


def rest_pass(account, **kwargs):
    """`RestSync(account, ..., **kwargs).run(account.symbols)` from synchronous test code; its result."""

    async def run():
        connector = ExchangeConnector(account)
        try:
            return await RestSync(account, connector.rest_client(), **kwargs).run(account.symbols)
        finally:
            await connector.close()

    return async_to_sync(run)()
