"""Helpers shared by the harness and the two reference pipelines."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Coarse stages shared by the three implementations, in report order.
# "startup" is process start to the first step (interpreter, imports; for dbt
# also parsing the project); "staging" reads and cleans the input.
GROUPS = (
    "parse",
    "startup",
    "staging",
    "marts_sql",
    "rfm",
    "clustering",
    "clv",
    "tests",
    "other",
)
GROUP_TITLES = {
    "parse": "dbt parse before the build (not in the total)",
    "startup": "startup (imports; dbt: load the parsed project)",
    "staging": "load + clean (staging)",
    "marts_sql": "revenue / customers / funnel marts",
    "rfm": "RFM",
    "clustering": "clustering",
    "clv": "CLV",
    "tests": "tests (dbt data tests; unit tests run in CI)",
    "other": "other (seeds, hooks, teardown)",
    "total": "total wall time",
}

# Steps of the two reference pipelines and the group each belongs to.
STEP_GROUPS = {
    "load": "staging",
    "clean": "staging",
    "events_to_lines": "staging",
    "orders": "marts_sql",
    "funnel": "marts_sql",
    "revenue_monthly": "marts_sql",
    "customers_monthly": "marts_sql",
    "weekday_hour": "marts_sql",
    "rfm": "rfm",
    "clustering": "clustering",
    "clv_summary": "clv",
    "clv_fit": "clv",
    "clv_score": "clv",
}

_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "b": 10**9}


def parse_count(text: str) -> int:
    """Parse ``100k``, ``1M``, ``2.5M``, ``1_000_000`` into an int."""
    match = re.fullmatch(r"\s*([0-9][0-9_]*(?:\.[0-9]+)?)\s*([kKmMgGbB]?)\s*", text)
    if not match:
        raise ValueError(f"not a size: {text!r} (use e.g. 100k, 1M, 10M)")
    value = float(match.group(1).replace("_", "")) * _UNITS[match.group(2).lower()]
    if value < 1:
        raise ValueError(f"size must be >= 1, got {text!r}")
    return int(round(value))


def count_label(n: int) -> str:
    """``1000000`` -> ``1M``, ``100000`` -> ``100k``, ``1234`` -> ``1234``."""
    for unit, factor in (("B", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= factor and n % (factor // 10 if factor >= 10 else 1) == 0:
            value = n / factor
            text = f"{value:.1f}".rstrip("0").rstrip(".")
            return f"{text}{unit}"
    return str(n)


def parse_bytes(text: str) -> int:
    """Parse ``20GB``, ``6GiB``, ``512MB`` into bytes (GB = 10^9)."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmMgGtT]?)(i?)[bB]?\s*", text)
    if not match:
        raise ValueError(f"not a memory size: {text!r} (use e.g. 20GB)")
    base = 1024 if match.group(3) else 1000
    power = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}[match.group(2).lower()]
    return int(float(match.group(1)) * base**power)


class StepTimer:
    """Record wall time (and absolute start/end) of named steps.

    A child pipeline writes ``steps`` to its result file; the harness uses
    the absolute times to attribute memory samples to steps.
    """

    def __init__(self) -> None:
        self.started_at = time.time()
        self.steps: list[dict[str, Any]] = []

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        start_wall, start = time.time(), time.perf_counter()
        try:
            yield
        finally:
            self.steps.append(
                {
                    "name": name,
                    "seconds": time.perf_counter() - start,
                    "start": start_wall,
                    "end": time.time(),
                }
            )


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Write JSON atomically (``.partial`` then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(json.dumps(data, indent=2, default=_json_default) + "\n")
    os.replace(tmp, path)


def _json_default(value: Any) -> Any:
    """Make numpy scalars and paths JSON serialisable."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value)}")
