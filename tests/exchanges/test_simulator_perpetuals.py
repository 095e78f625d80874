"""The simulator books perpetuals as Bybit does, seen through the real ccxt client: every execution
type in /v5/execution/list unless one is asked for, funding at the mark price and signed as Bybit
signs it, liquidation and ADL fills with the size they closed, hedge-mode legs in /v5/position/list,
the ground truth of each, and a state file that keeps them."""

import asyncio

from decimal import Decimal

import ccxt
import pytest

from exchanges.connectors import build_client
from exchanges.simulator.testing import ControlError, start_simulator

ONE_WAY, FRESH, HEDGE, SPOT = "perp", "fresh", "hedge", "spot"
BTC = "BTC/USDT:USDT"
CONFIG = {
    "seed": 3,
    "accounts": [
        {"name": ONE_WAY, "protocol": "bybit", "markets": [BTC, "ETH/USDT:USDT"], "history": {"trades": 30, "days": 1}},
        {"name": FRESH, "protocol": "bybit", "markets": [BTC]},
        {"name": HEDGE, "protocol": "bybit", "position_mode": "hedge", "markets": [BTC]},
        {"name": SPOT, "protocol": "bybit_spot", "markets": ["BTC/USDT"]},
    ],
}


@pytest.fixture
def simulator_config():
    return CONFIG


@pytest.fixture
async def client(simulator):
    exchange = build_client(simulator.exchange_account(ONE_WAY))
    await exchange.load_markets()
    yield exchange
    await exchange.close()


def fill(account, side, amount, price="60000", **more):
    return {"account": account, "symbol": BTC, "side": side, "amount": amount, "price": price, **more}


async def executions(client, **params) -> list[dict]:
    answer = await client.privateGetV5ExecutionList({"category": "linear", "symbol": "BTCUSDT", "limit": 100, **params})
    return answer["result"]["list"]


@pytest.fixture
async def fresh(simulator):
    exchange = build_client(simulator.exchange_account(FRESH))
    await exchange.load_markets()
    yield exchange
    await exchange.close()


async def test_the_execution_list_has_every_type_unless_asked_for_one(simulator, fresh):
    client = fresh
    simulator.post_trades(fill(FRESH, "buy", "1"))
    simulator.post_funding(account=FRESH, symbol=BTC, rate="0.0001")
    (liquidation,) = simulator.post_trades(fill(FRESH, "sell", "0.2", "50000", kind="liquidation"))
    (adl,) = simulator.post_trades(fill(FRESH, "sell", "0.1", "50000", kind="adl"))

    every = await executions(client)
    assert {row["execType"] for row in every} == {"Trade", "Funding", "BustTrade", "AdlTrade"}
    assert [row["execId"] for row in await executions(client, execType="BustTrade")] == [liquidation["id"]]
    assert [row["execId"] for row in await executions(client, execType="AdlTrade")] == [adl["id"]]
    assert {row["execType"] for row in await executions(client, execType="Trade")} == {"Trade"}
    with pytest.raises(ccxt.BadRequest):
        await executions(client, execType="Nonsense")
    # what ccxt's own calls see: fetch_my_trades asks for Trade only, fetch_funding_history for Funding
    assert {t["info"]["execType"] for t in await client.fetch_my_trades(BTC, limit=100)} == {"Trade"}
    assert [f["info"]["execType"] for f in await client.fetch_funding_history(BTC)] == ["Funding"]


async def test_funding_is_size_times_mark_times_rate_signed_as_bybit_signs_it(simulator, client):
    simulator.post_trades(fill(ONE_WAY, "sell", "0.4"))  # on top of the history's net position
    (net,) = simulator.positions(account=ONE_WAY, symbol=BTC)
    size = Decimal(net["size"])

    (truth,) = simulator.post_funding(account=ONE_WAY, symbol=BTC, rate="-0.0003", mark_price="62000.5")

    (row,) = await executions(client, execType="Funding")
    # a negative rate: shorts pay longs; Bybit's execFee is + paid, rounded to 8 places
    paid = (size * Decimal("62000.5") * Decimal("-0.0003")).quantize(Decimal("1e-8"))
    assert Decimal(row["execFee"]) == paid and Decimal(truth["amount"]) == -paid
    assert (Decimal(row["execQty"]), Decimal(row["execPrice"]), Decimal(row["markPrice"]), row["feeRate"]) == (abs(size), Decimal("62000.5"), Decimal("62000.5"), "-0.0003")
    assert row["side"] == ("Buy" if size < 0 else "Sell")  # the side that would close the position
    assert (row["orderQty"], row["leavesQty"], row["createType"], row["feeCurrency"]) == ("0", "0", "", "")


async def test_a_liquidation_says_how_much_it_closed_and_only_ever_reduces(simulator, client):
    simulator.post_trades(fill(HEDGE, "buy", "0.3"))
    with pytest.raises(ControlError, match="liquidation only reduces a position"):
        simulator.post_trades(fill(HEDGE, "sell", "0.4", kind="liquidation"))
    with pytest.raises(ControlError, match="one-way account: its fills have no leg"):
        simulator.post_trades(fill(ONE_WAY, "buy", "0.1", leg="long"))
    with pytest.raises(ControlError, match="spot"):
        simulator.post_trades({"account": SPOT, "symbol": "BTC/USDT", "side": "sell", "amount": "0.1", "price": "60000", "kind": "liquidation"})
    with pytest.raises(ControlError, match="no perpetual market matches"):
        simulator.post_funding(account=SPOT)

    (liquidation,) = simulator.post_trades(fill(HEDGE, "sell", "0.25", "51000", kind="liquidation"))

    assert (liquidation["kind"], liquidation["leg"], liquidation["closed_size"]) == ("liquidation", "long", "0.25")
    assert simulator.positions(account=HEDGE) == [
        {"account": HEDGE, "symbol": BTC, "leg": "long", "mode": "hedge", "size": "0.05"},
        {"account": HEDGE, "symbol": BTC, "leg": "short", "mode": "hedge", "size": "0"},
    ]


async def test_a_one_way_fill_across_zero_closes_the_position_and_opens_the_other_side(simulator, client):
    (net,) = simulator.positions(account=ONE_WAY, symbol=BTC)
    opened = simulator.post_trades(fill(ONE_WAY, "buy" if net["size"].startswith("-") else "sell", "0.5"))
    (net,) = simulator.positions(account=ONE_WAY, symbol=BTC)
    flip = "sell" if not net["size"].startswith("-") else "buy"
    (across,) = simulator.post_trades(fill(ONE_WAY, flip, "0.8"))

    assert opened and across["closed_size"] == net["size"].lstrip("-")
    rows = {row["execId"]: row for row in await executions(client, execType="Trade")}
    assert rows[across["id"]]["closedSize"].rstrip("0").rstrip(".") == net["size"].lstrip("-")


async def test_position_list_shows_the_mode_and_each_leg(simulator):
    simulator.post_trades(fill(HEDGE, "buy", "0.3"), fill(HEDGE, "sell", "0.1"))
    hedge = build_client(simulator.exchange_account(HEDGE))
    one_way = build_client(simulator.exchange_account(ONE_WAY))
    try:
        legs = sorted((p["info"]["positionIdx"], p["side"], p["contracts"]) for p in await hedge.fetch_positions())
        nets = {p["info"]["positionIdx"] for p in await one_way.fetch_positions()}
    finally:
        await hedge.close()
        await one_way.close()

    assert legs == [(1, "long", 0.3), (2, "short", 0.1)]
    assert nets == {0}


async def test_the_stream_pushes_funding_and_liquidations_beside_the_trades(simulator):
    client = build_client(simulator.exchange_account(HEDGE), options={"watchMyTrades": {"execType": None}})  # every type ccxt.pro parses
    try:
        await client.load_markets()
        watch = asyncio.ensure_future(client.watch_my_trades())
        feed = simulator.simulator.feed
        while not simulator.thread.call(lambda: bool(feed.subscribers.get(HEDGE))):
            await asyncio.wait({watch}, timeout=0.05)
        simulator.post_trades(fill(HEDGE, "buy", "0.3"))
        simulator.post_trades(fill(HEDGE, "sell", "0.1", kind="liquidation"))
        simulator.post_funding(account=HEDGE, rate="0.0001")
        while len(client.myTrades or []) < 3:
            await asyncio.wait({watch}, timeout=0.1)
            if watch.done():
                watch = asyncio.ensure_future(client.watch_my_trades())
        watch.cancel()
    finally:
        await client.close()
    assert [t["info"]["execType"] for t in client.myTrades] == ["Trade", "BustTrade", "Funding"]
    assert client.myTrades[1]["info"]["closedSize"] == "0.100"


def test_a_state_file_keeps_kinds_legs_and_funding(tmp_path):
    state = tmp_path / "ledger.jsonl"
    first = start_simulator(CONFIG, state=state)
    try:
        first.post_trades(fill(HEDGE, "buy", "0.3"), fill(HEDGE, "sell", "0.2"))
        first.post_trades(fill(HEDGE, "buy", "0.1", leg="short", kind="adl"))
        first.post_funding(account=HEDGE, rate="0.0002", mark_price="61000")
        trades, funding, positions = first.truth(account=HEDGE), first.funding_truth(account=HEDGE), first.positions(account=HEDGE)
    finally:
        first.thread.stop()
    again = start_simulator(CONFIG, state=state)
    try:
        assert (again.truth(account=HEDGE), again.funding_truth(account=HEDGE), again.positions(account=HEDGE)) == (trades, funding, positions)
    finally:
        again.thread.stop()
    assert [(t["kind"], t["leg"], t["closed_size"]) for t in trades] == [("trade", "long", "0"), ("trade", "short", "0"), ("adl", "short", "0.1")]
    assert [(f["leg"], f["amount"]) for f in funding] == [("long", "-3.66"), ("short", "1.22")]


def test_funding_settles_by_itself_at_the_configured_interval():
    config = {
        "seed": 3,
        "accounts": [
            {"name": ONE_WAY, "protocol": "bybit", "markets": [BTC, "ETH/USDT:USDT"], "funding": {"interval_hours": 0, "markets": {BTC: {"interval_hours": 0.0003, "rate": "0.0005"}}}}
        ],
    }
    running = start_simulator(config)
    try:
        running.post_trades(fill(ONE_WAY, "buy", "0.2", "60000"), {**fill(ONE_WAY, "buy", "1", "3000"), "symbol": "ETH/USDT:USDT"})
        funding = []
        for _ in range(200):  # a bound on waiting, not a timing check
            funding = running.funding_truth(account=ONE_WAY)
            if funding:
                break
            asyncio.run(asyncio.sleep(0.05))
    finally:
        running.thread.stop()
    assert {(f["symbol"], f["rate"], f["amount"]) for f in funding} == {(BTC, "0.0005", "-6")}  # ETH: on demand only
