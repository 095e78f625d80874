"""The simulator with a state file: stopped and started again, it is the same venue going on. Its
history and the trades it executed are served as before, and new trades and orders take ids after
the highest, never one already given out; a SIGKILL loses no trade a client was answered with."""

import copy
import json
import signal
import subprocess
import sys
import urllib.request

import pytest

from exchanges.simulator.config import parse_config
from exchanges.simulator.server import Simulator
from exchanges.simulator.state import StateError
from exchanges.simulator.testing import BINANCE, BYBIT, TEST_CONFIG, start_simulator

from .test_simulate_exchange_command import ROOT

CONFIG = {**TEST_CONFIG, "accounts": [{**account, "history": {"trades": 40, "days": 1}} for account in TEST_CONFIG["accounts"]]}


def trade(account: str, symbol: str, amount: str, price: str, **more) -> dict:
    return {"account": account, "symbol": symbol, "side": "buy", "amount": amount, "price": price, **more}


def some_trades(n: int) -> list[dict]:
    return [
        trade(BINANCE, "BTC/USDT", f"0.00{n}", "60000.01", order="kept"),
        trade(BINANCE, "ETH/USDT", "0.01", f"300{n}.5", fee="0.00001", fee_coin="BNB"),
        trade(BYBIT, "BTC/USDT:USDT", f"0.00{n}", "60000.1", maker=True),
    ]


def keys(truth: list[dict]) -> tuple[set, set]:
    """Trade ids (Binance's per market) and order ids, each qualified by account and market."""
    return {(t["account"], t["market_id"], t["id"]) for t in truth}, {(t["account"], t["market_id"], t["order_id"]) for t in truth}


def run_once(state, *trades) -> tuple[list[dict], list[dict]]:
    """Start the simulator on `state`, execute `trades`, and stop it: (the trades executed, the whole ground truth)."""
    simulator = start_simulator(CONFIG, state=state)
    try:
        executed = simulator.post_trades(*trades) if trades else []
        return executed, simulator.truth()
    finally:
        simulator.thread.stop()


def test_a_restart_serves_the_same_history_and_numbers_after_it(tmp_path):
    state = tmp_path / "sim" / "ledger.jsonl"
    first_executed, first = run_once(state, *some_trades(1))

    executed, second = run_once(state, *some_trades(2))

    assert second[: len(first)] == first  # the same venue: history and executed trades, as they were
    assert second[len(first) :] == executed
    old_trades, old_orders = keys(first)
    new_trades, new_orders = keys(executed)
    assert len(new_trades) == 3 and not new_trades & old_trades
    eth = [int(t["id"]) for t in first if t["account"] == BINANCE and t["symbol"] == "ETH/USDT"]
    assert [int(t["id"]) for t in executed if t["symbol"] == "ETH/USDT"] == [max(eth) + 1]
    # the order labelled "kept" goes on across the restart; every other fill is of a new order
    assert executed[0]["order_id"] == first_executed[0]["order_id"]
    assert not {o for o in new_orders if o[2] != executed[0]["order_id"]} & old_orders


def test_without_a_state_file_each_start_is_a_new_history(tmp_path):
    first = start_simulator(CONFIG)
    try:
        truth = first.truth()
    finally:
        first.thread.stop()
    again = start_simulator(CONFIG)
    try:
        assert [t["timestamp"] for t in again.truth()] != [t["timestamp"] for t in truth]
    finally:
        again.thread.stop()


def test_a_state_file_of_another_config_is_refused(tmp_path):
    state = tmp_path / "ledger.jsonl"
    run_once(state, *some_trades(1))
    other = copy.deepcopy(CONFIG)
    other["seed"] = 8

    with pytest.raises(StateError, match="written with another config"):
        Simulator(parse_config(other), state=state)


def test_a_line_cut_short_by_a_crash_is_dropped(tmp_path):
    state = tmp_path / "ledger.jsonl"
    _, first = run_once(state, *some_trades(1))
    with open(state, "ab") as file:
        file.write(b'{"account":"binance_spot","symbol":"BTC/USDT","fill":')

    assert run_once(state)[1] == first


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def start_command(config_path, state) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "manage.py", "simulate_exchange", "--port", "0", "--config", str(config_path), "--state", str(state)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "listening on" in line:
            return process, line.split("listening on ")[1].split()[0]
    process.wait(timeout=30)
    raise AssertionError("the simulator did not start:\n" + "".join(lines))


def test_a_sigkilled_simulator_loses_no_trade_it_answered_with(tmp_path):
    config = tmp_path / "sim.json"
    config.write_text(json.dumps({**CONFIG, "accounts": [{**a, "generator": {"orders_per_minute": 600}} for a in CONFIG["accounts"]]}))
    state = tmp_path / "ledger.jsonl"
    process, url = start_command(config, state)
    try:
        answered = post(url + "/_sim/trades", {"trades": some_trades(1)})["trades"]
        served = get(url + "/_sim/trades")["trades"]  # the trickle's fills too, as a tracker would have read them
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    process, url = start_command(config, state)
    try:
        after = get(url + "/_sim/trades")["trades"]
    finally:
        process.terminate()
        process.wait(timeout=30)

    kept = {json.dumps(t, sort_keys=True) for t in after}
    assert {json.dumps(t, sort_keys=True) for t in answered + served} <= kept


def test_the_command_answers_a_state_file_of_another_config_in_one_line(tmp_path):
    config = tmp_path / "sim.json"
    config.write_text(json.dumps(CONFIG))
    state = tmp_path / "ledger.jsonl"
    run_once(state)
    config.write_text(json.dumps({**CONFIG, "seed": 9}))

    result = subprocess.run(
        [sys.executable, "manage.py", "simulate_exchange", "--port", "0", "--config", str(config), "--state", str(state)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )

    assert result.returncode != 0
    assert "written with another config" in result.stderr and "Traceback" not in result.stderr
