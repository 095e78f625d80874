"""The simulator's faults for the soak and the quarantine: spoiled trade payloads, a Binance IP ban,
a 429 with a chosen Retry-After; seen through the real ccxt client."""

import asyncio

import ccxt
import pytest

from exchanges.connectors import build_client
from exchanges.simulator.testing import BINANCE, BYBIT, ControlError


def fetch(simulator, name: str, symbol: str):
    async def run():
        client = build_client(simulator.exchange_account(name))
        try:
            return await client.fetch_my_trades(symbol, params={"fromId": 0} if name == BINANCE else {})
        finally:
            await client.close()

    return asyncio.run(run())


def fetch_error(simulator, name: str, symbol: str):
    async def run():
        client = build_client(simulator.exchange_account(name))
        try:
            await client.fetch_my_trades(symbol)
        except ccxt.BaseError as error:
            return error, client.last_response_headers
        finally:
            await client.close()

    return asyncio.run(run())


@pytest.mark.parametrize(
    "name, symbol, field, how, spoiled",
    [
        (BINANCE, "BTC/USDT", "qty", "negative", lambda value: value.startswith("-")),
        (BINANCE, "BTC/USDT", "qty", "text", lambda value: value == "n/a"),
        (BYBIT, "BTC/USDT:USDT", "execQty", "missing", lambda value: value is None),
        (BYBIT, "BTC/USDT:USDT", "execQty", "altered", lambda value: value == "0.020"),
    ],
)
def test_a_corrupt_fault_spoils_one_trade_of_the_next_trade_list(simulator, name, symbol, field, how, spoiled):
    amount = "0.001" if name == BINANCE else "0.01"
    simulator.post_trades(*({"account": name, "symbol": symbol, "side": "buy", "amount": amount, "price": "60000"} for _ in range(2)))
    simulator.faults({"action": "corrupt", "how": how})

    trades = fetch(simulator, name, symbol)
    again = fetch(simulator, name, symbol)

    # The exchange's first trade is spoiled; where ccxt's sort puts it depends on the timestamps.
    spoilt = [t for t in trades if spoiled(t["info"].get(field))]
    [clean] = [t for t in trades if t not in spoilt]
    assert len(spoilt) == 1
    assert clean["info"][field].rstrip("0").rstrip(".") == amount.rstrip("0").rstrip(".")
    assert all(t["info"][field] == clean["info"][field] for t in again)  # one answer spoiled, then clean
    assert simulator.stats()["faults"]["injected"] == {"rest.corrupt": 1}


def test_a_corrupt_fault_waits_for_an_answer_with_trades(simulator):
    simulator.faults({"action": "corrupt", "protocol": "binance"})

    assert fetch(simulator, BINANCE, "ETH/USDT") == []
    assert [f["kind"] for f in simulator.stats()["faults"]["rest"]] == ["corrupt"]
    assert simulator.stats()["faults"]["injected"].get("rest.corrupt", 0) == 0


def test_a_ban_answers_every_binance_call_418_until_it_ends(simulator):
    simulator.faults({"action": "ban", "seconds": 30})

    error, headers = fetch_error(simulator, BINANCE, "BTC/USDT")

    assert isinstance(error, ccxt.DDoSProtection) and "418" in str(error)
    assert 29 <= int(headers["Retry-After"]) <= 30
    assert fetch(simulator, BYBIT, "BTC/USDT:USDT") == []  # Bybit is another exchange


def test_a_429_can_say_when_to_come_back(simulator):
    simulator.faults({"action": "429", "protocol": "binance", "retry_after": 2})

    error, headers = fetch_error(simulator, BINANCE, "BTC/USDT")

    assert isinstance(error, ccxt.DDoSProtection) and "429" in str(error)
    assert headers["Retry-After"] == "2"


@pytest.mark.parametrize(
    "spec",
    [{"action": "corrupt", "how": "shuffled"}, {"action": "corrupt", "on": "fix"}, {"action": "ban", "seconds": -1}, {"action": "429", "retry_after": "soon"}],
)
def test_bad_fault_specs_are_refused(simulator, spec):
    with pytest.raises(ControlError, match="400"):
        simulator.faults(spec)
