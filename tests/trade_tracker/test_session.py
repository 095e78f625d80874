"""The seed's names in-process: connectors from names or ids, a connector of another account refused,
and a session's end stopping what was started on its repositories."""

import pytest

from exchanges.connectors import ExchangeConnector
from exchanges.simulator.testing import BINANCE, BYBIT
from trade_tracker import PositionRepository, TradeRepository, TradeSynchronizer, get_session

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("async_db")]


async def test_accounts_named_without_connectors_get_their_own(simulator, simulated_accounts):
    ids = {name: account.id for name, account in simulated_accounts.items()}
    async for session in get_session():
        synchronizer = TradeSynchronizer(
            trade_repository=TradeRepository(session), position_repository=PositionRepository(session), exchange_id_map={BYBIT: ids[BYBIT]}, streams=False
        )
        await synchronizer.start({BINANCE: ["BTC/USDT"], BYBIT: ["BTC/USDT"]})
        assert {name: state.account.id for name, state in synchronizer.running.items()} == ids
        assert all(state.passes == 1 for state in synchronizer.running.values())  # start() waited for the first passes
    assert synchronizer.running == {}  # the session's end stopped it


async def test_a_connector_of_another_account_than_the_id_map_says_is_refused(simulator, simulated_accounts):
    synchronizer = TradeSynchronizer(
        exchange_connectors={BINANCE: ExchangeConnector(simulated_accounts[BYBIT])},
        exchange_id_map={BINANCE: simulated_accounts[BINANCE].id},
    )
    with pytest.raises(ValueError) as refused:
        await synchronizer.start({BINANCE: ["BTC/USDT"]})
    assert str(refused.value) == (
        f"exchange_id_map names account {simulated_accounts[BINANCE].id} for 'binance_spot', but its connector is account "
        f"{simulated_accounts[BYBIT].id} (bybit_perp)"
    )
    assert synchronizer.running == {}
