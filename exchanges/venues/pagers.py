"""What every venue's REST pager shares: the page it returns and the check of ccxt's answer.

A pager walks one symbol's trade history one page at a time, resumably: it turns a saved `resume`
state into one request and returns the trades with the state that follows them. The state is saved
with the trades of its page, so a sync killed at any point resumes from the last stored page and
re-fetches at most one. Each venue module holds its own pager class.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ccxt

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


@dataclass(frozen=True)
class Page:
    trades: list[dict]
    resume: dict
    done: bool
    newest_first: bool = False  # older pages follow: fold once the run is complete, not page by page
    funding: list[dict] = field(default_factory=list)  # funding payments, where the venue lists them with the trades


def checked(client, trades: list[dict]) -> list[dict]:
    """ccxt does not raise on a body it cannot parse: one venue's then reads as "no trades", another's
    as a junk trade. Taken as an answer, either could move a cursor past trades never read; raise
    `BadResponse` instead, which backs off and asks again."""
    if getattr(client, "last_json_response", None) is None or any(not isinstance(t.get("info"), dict) for t in trades):
        raise ccxt.BadResponse(f"{client.id}: the answer was not the JSON expected")
    return trades
