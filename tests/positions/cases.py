"""The worked examples of DESIGN.md (a copy of shared/position_cases.json), as test inputs."""

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

CASES = json.loads((Path(__file__).with_name("position_cases.json")).read_text())["cases"]


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def decimal_or_none(text):
    return None if text is None else Decimal(text)
