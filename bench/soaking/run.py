"""One soak from start to verdict. The caller has Django set up on `database_url` (migrated, empty)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from asgiref.sync import async_to_sync

from .deployment import Deployment, Settings, wait_for
from .traffic import Faulter, PerpetualEvents, Poster, TradeMaker, call, fault_schedule
from .verdict import Verdict, check, check_funding

BINANCE_MARKETS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
BYBIT_MARKETS = ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"]
BYBIT_SPOT_MARKETS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
# bybit_a and bybit_spot_a are one unified account: one key, one execution stream for both
UNIFIED_KEY = {"api_key": "soak-bybit-unified-key", "api_secret": "soak-bybit-unified-secret"}


@dataclass
class Plan:
    trades: int = 100_000
    minutes: float = 10.0  # the fault phase, over which the trades are made
    seed: int = 1
    settle_seconds: float = 240.0  # at most this long for the tracker to catch up once faults stop
    settings: Settings = field(default_factory=Settings)
    # Binance's request-weight window (its 429s say to retry when the window ends): a minute, as on
    # Binance; shorter for a short soak, at the same weight per second.
    binance_window_seconds: int = 60

    def simulator_config(self) -> dict:
        """3 protocols, 6 accounts, 9 symbols: two accounts each of Binance spot and Bybit linear, a
        Bybit spot account on the key of the first Bybit linear one, and a hedge-mode Bybit linear
        account on two of the linear symbols."""
        accounts = [
            {"name": name, "protocol": protocol, "markets": markets, **key}
            for name, protocol, markets, key in (
                ("binance_a", "binance", BINANCE_MARKETS, {}),
                ("binance_b", "binance", BINANCE_MARKETS, {}),
                ("bybit_a", "bybit", BYBIT_MARKETS, UNIFIED_KEY),
                ("bybit_b", "bybit", BYBIT_MARKETS, {}),
                ("bybit_spot_a", "bybit_spot", BYBIT_SPOT_MARKETS, UNIFIED_KEY),
                ("bybit_hedge", "bybit", BYBIT_MARKETS[:2], {"position_mode": "hedge"}),
            )
        ]
        window = self.binance_window_seconds
        limits = {"binance": {"interval_seconds": window, "weight_per_interval": 6000 * window // 60}}
        return {"seed": self.seed, "accounts": accounts, "reorder_flush_seconds": 0.5, "rate_limits": limits}


def _say(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _register(simulator_url: str, plan: Plan) -> None:
    from django.utils import timezone
    from django_celery_beat.models import PeriodicTask

    from exchanges.models import ExchangeAccount
    from exchanges.simulator.config import parse_config
    from exchanges.simulator.register import register_accounts
    from trades.schedule import ensure_beat_schedule

    register_accounts(parse_config(plan.simulator_config()).accounts, simulator_url)
    # Nothing before the soak: the first pass need not walk the default 30 days back.
    ExchangeAccount.objects.update(backfill_since=timezone.now() - timedelta(minutes=5))
    ensure_beat_schedule()
    for task in PeriodicTask.objects.filter(task="trades.tasks.sync_account"):
        task.interval.every = plan.settings.sync_interval_seconds
        task.interval.save()
    # The simulator serves no tickers: mark prices are not what the soak is about.
    PeriodicTask.objects.filter(task="positions.tasks.refresh_all_marks").update(enabled=False)


def _streams_connected() -> int:
    from trades.models import StreamHealth

    return StreamHealth.objects.filter(ws_connected_since__isnull=False).count()


def _stored() -> int:
    from trades.models import Trade

    return Trade.objects.count()


def _funding_stored() -> int:
    from trades.models import FundingPayment

    return FundingPayment.objects.count()


def _passes_since(moment) -> bool:
    """Whether every symbol had a complete REST pass that started after `moment`."""
    from trades.models import SyncCursor

    cursors = list(SyncCursor.objects.values_list("last_sync_at", flat=True))
    return bool(cursors) and all(at is not None and at > moment for at in cursors)


def _unprocessed() -> int:
    from trades.models import Trade

    return Trade.objects.filter(processed=False).count()


def _audit(simulator_url: str) -> int:
    """The project's own gap audit over the soak's whole range, without repair: trades and funding payments missing."""
    from django.utils import timezone

    from exchanges.connectors import ExchangeConnector
    from exchanges.models import ExchangeAccount
    from trades.audit import audit_account

    since = timezone.now() - timedelta(hours=2)
    missing = 0
    for account in ExchangeAccount.objects.all():

        async def run(account=account):
            connector = ExchangeConnector(account)
            try:
                symbols = [account.market_symbol(s) for s in account.symbols]
                return await audit_account(account, connector.rest_client(), symbols, since, repair=False)
            finally:
                await connector.close()

        result = async_to_sync(run)()
        missing += result.missing_count + result.missing_funding_count
    return missing


def run_soak(plan: Plan, database_url: str, log_dir: Path) -> Verdict:
    from django.db import connection
    from django.utils import timezone

    log_dir.mkdir(parents=True, exist_ok=True)
    config_path = log_dir / "simulator.json"
    config_path.write_text(json.dumps(plan.simulator_config(), indent=2))
    deployment = Deployment(database_url, log_dir, config_path, plan.settings)
    verdict = Verdict()
    phase_seconds = plan.minutes * 60
    try:
        started = time.monotonic()
        simulator_url = deployment.start_simulator()
        _register(simulator_url, plan)
        deployment.start_tracker()
        _say(f"simulator {simulator_url}, redis {deployment.redis.url}, logs in {log_dir}")
        streams = len(plan.simulator_config()["accounts"])  # one per account
        wait_for(lambda: _streams_connected() == streams, 120, f"{streams} streams connected", interval=0.5)
        verdict.seconds["start"] = time.monotonic() - started

        accounts = call(simulator_url, "GET", "/_sim/accounts")["accounts"]
        maker = TradeMaker(accounts, plan.seed)
        perpetuals = PerpetualEvents(simulator_url, accounts, plan.seed, maker)
        poster = Poster(simulator_url, maker, plan.trades, phase_seconds, perpetuals=perpetuals)
        faulter = Faulter(simulator_url, deployment, fault_schedule(phase_seconds, plan.seed))
        _say(f"fault phase: {plan.trades:,} trades over {phase_seconds:.0f}s, {len(faulter.schedule)} scheduled faults")
        started = time.monotonic()
        poster.start()
        faulter.start()
        last_report = 0.0
        while poster.is_alive() or faulter.is_alive():
            time.sleep(0.5)
            for name in deployment.revive_crashed():
                _say(f"{name} had exited by itself: restarted (see {deployment.services[name].log_path})")
            if poster.error or faulter.error:
                poster.stop_event.set()
                faulter.stop_event.set()
                raise RuntimeError(f"the soak's own driver failed: {poster.error or faulter.error}")
            if time.monotonic() - last_report > 30:
                last_report = time.monotonic()
                _say(f"{poster.posted:,} made, {_stored():,} stored, faults so far: {dict(faulter.done)}")
            connection.close()
        verdict.seconds["fault phase"] = time.monotonic() - started

        call(simulator_url, "DELETE", "/_sim/faults")
        faults_end = timezone.now()
        started = time.monotonic()
        _say("faults stopped; settling (periodic passes and the sweeper catch up)")
        made = len(call(simulator_url, "GET", "/_sim/trades")["trades"])
        funding_made = call(simulator_url, "GET", "/_sim/funding")["count"]

        def settled():
            for name in deployment.revive_crashed():
                _say(f"{name} had exited by itself: restarted")
            done = _stored() >= made and _funding_stored() >= funding_made and _passes_since(faults_end) and _unprocessed() == 0
            connection.close()
            return done

        try:
            wait_for(settled, plan.settle_seconds, "settling", interval=1.0)
        except RuntimeError as error:
            _say(f"not settled: {error}; checking as it stands")
        verdict.seconds["settle"] = time.monotonic() - started
        for name in ("streams", "worker", "beat"):
            deployment.services[name].stop()
        verdict.unexpected_exits = deployment.unexpected_exits()

        _say("checking against the ground truth")
        started = time.monotonic()
        truth = call(simulator_url, "GET", "/_sim/trades", timeout=300)["trades"]
        funding = call(simulator_url, "GET", "/_sim/funding", timeout=300)["funding"]
        check(truth, accounts, verdict, funding)
        check_funding(funding, verdict)
        verdict.faults.update({f"perpetual event: {kind}": count for kind, count in perpetuals.made.items()})
        verdict.seconds["check"] = time.monotonic() - started
        started = time.monotonic()
        verdict.audit_missing = _audit(simulator_url)
        verdict.seconds["gap audit"] = time.monotonic() - started
        stats = call(simulator_url, "GET", "/_sim/stats")
        (log_dir / "simulator-stats.json").write_text(json.dumps(stats, indent=2))
        verdict.refused = stats["rate_limited"]
        verdict.faults.update({k: v for k, v in call(simulator_url, "GET", "/_sim/faults")["injected"].items() if v})
        verdict.faults.update(deployment.faults)
        return verdict
    finally:
        deployment.stop()
