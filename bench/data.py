"""Benchmark inputs: generated with the project's generator, cached on disk.

``<cache>/lines-<size>-seed<seed>/`` holds ``order_lines.parquet`` with at
least ``size`` rows (``generate(lines=size)``); ``<cache>/events-<size>-
seed<seed>/`` holds ``events.parquet`` with about ``size`` events. Events are
generated per customer, so the number of customers is chosen from the events
per customer measured on a 50,000-customer pilot (cached as
``events-pilot-seed<seed>``); the count lands within a few percent of
``size``. ``--story KEY=VALUE`` (bench.run) changes a model parameter of
the generator (``alpha=25``: about twice the customers per order line) and
adds it to the directory name (``lines-10M-seed42-alpha25``). A directory
is reused when its ``params.json`` matches what would be generated now
(seed, requested size, format, generator version and story parameters);
otherwise it is regenerated. Generation runs in a subprocess
(``python -m python_udfs.generator``) under the harness's limits.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.common import count_label
from bench.monitor import run_monitored, tail_text
from python_udfs.generator import GENERATOR_VERSION, GeneratorConfig

PILOT_CUSTOMERS = 50_000


@dataclass
class Dataset:
    """One cached input."""

    kind: str  # "lines" or "events"
    size: int  # requested order lines or events
    directory: Path
    path: Path  # the Parquet file the pipelines read
    params: dict[str, Any]
    generated_seconds: float | None  # None when reused from the cache

    @property
    def rows(self) -> int:
        if self.kind == "events":
            return int(self.params["events"]["events_written"])
        return int(self.params["lines_written"])

    def summary(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "size": self.size,
            "path": str(self.path),
            "rows": self.rows,
            "file_bytes": self.path.stat().st_size,
            "customers": self.params["n_customers"],
            "orders": self.params["n_orders"],
            "lines_written": self.params["lines_written"],
            "events_written": (self.params.get("events") or {}).get("events_written"),
            "seed": self.params["seed"],
            "generator_version": self.params["generator_version"],
            "generated_seconds": self.generated_seconds,
        }


STORY_PARAMETERS = ("r", "alpha", "a", "b", "p", "q", "v")


def parse_story(items: list[str] | None) -> dict[str, float]:
    """``["alpha=25", ...]`` -> ``{"alpha": 25.0}`` for the generator's model
    parameters (:data:`STORY_PARAMETERS`); checked by the generator's own
    validation, so a bad value fails here and not after minutes of work."""
    story: dict[str, float] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in STORY_PARAMETERS:
            raise ValueError(
                "--story wants KEY=VALUE with KEY one of "
                f"{', '.join(STORY_PARAMETERS)}; got {item!r}"
            )
        try:
            story[key] = float(value)
        except ValueError:
            raise ValueError(f"--story {key}: {value!r} is not a number") from None
    GeneratorConfig(**story).validate()
    return story


def story_suffix(story: dict[str, float] | None) -> str:
    """Cache-directory suffix of a non-default story (``-alpha25``), or ``""``."""
    return "".join(f"-{k}{v:g}" for k, v in sorted((story or {}).items()))


def _expected(
    seed: int,
    requested: dict[str, int | None],
    events: bool,
    story: dict[str, float] | None = None,
) -> dict:
    config = asdict(GeneratorConfig(seed=seed, **(story or {})))
    return {
        "generator_version": GENERATOR_VERSION,
        "format": "parquet",
        "seed": seed,
        "start": config["start"],
        "end": config["end"],
        "requested": requested,
        "bgnbd": {k: config[k] for k in ("r", "alpha", "a", "b")},
        "gamma_gamma": {k: config[k] for k in ("p", "q", "v")},
        "return_share": config["return_share"],
        "dirty_share": dict(config["dirty_shares"]),
        "events": events,
    }


def _observed(params: dict[str, Any]) -> dict:
    parameters = params.get("parameters", {})
    return {
        "generator_version": params.get("generator_version"),
        "format": params.get("format"),
        "seed": params.get("seed"),
        "start": params.get("start"),
        "end": params.get("end"),
        "requested": params.get("requested"),
        "bgnbd": parameters.get("bgnbd"),
        "gamma_gamma": parameters.get("gamma_gamma"),
        "return_share": parameters.get("return_share"),
        "dirty_share": {
            k: v for k, v in (params.get("dirty_share") or {}).items() if v
        },
        "events": params.get("events") is not None,
    }


def _cached(directory: Path, expected: dict) -> dict[str, Any] | None:
    """The params of a complete, matching cached dataset, else None."""
    params_file = directory / "params.json"
    if not params_file.exists():
        return None
    try:
        params = json.loads(params_file.read_text())
    except (OSError, ValueError):
        return None
    wanted = dict(
        expected, dirty_share={k: v for k, v in expected["dirty_share"].items() if v}
    )
    if _observed(params) != wanted:
        return None
    files = params.get("files") or {}
    for name in filter(None, files.values()):
        if not (directory / name).exists():
            return None
    return params


def _generate(
    directory: Path,
    seed: int,
    requested: dict[str, int | None],
    events: bool,
    timeout: float,
    story: dict[str, float] | None = None,
) -> tuple[dict[str, Any], float]:
    """Run the generator in a subprocess; return params and seconds."""
    expected = _expected(seed, requested, events, story)
    params = _cached(directory, expected)
    if params is not None:
        return params, None
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "params.json").unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "python_udfs.generator",
        "--out",
        str(directory),
        "--seed",
        str(seed),
        "--format",
        "parquet",
    ]
    for key, value in requested.items():
        if value is not None:
            cmd += [f"--{key}", str(value)]
    for key, value in sorted((story or {}).items()):
        cmd += [f"--{key}", repr(value)]
    if events:
        cmd.append("--events")
    log = directory / "generate.log"
    print(f"[bench] generating {directory.name} ...", flush=True)
    outcome = run_monitored(cmd, timeout=timeout, memory_limit=None, log_path=log)
    if outcome.status != "ok":
        raise RuntimeError(
            f"generator {outcome.status} ({outcome.message}) for {directory}:\n"
            + tail_text(log)
        )
    params = _cached(directory, expected)
    if params is None:
        raise RuntimeError(
            f"generator finished but {directory}/params.json does not match the "
            "request; see generate.log"
        )
    print(
        f"[bench] generated {directory.name} in {outcome.wall_seconds:.0f} s",
        flush=True,
    )
    return params, outcome.wall_seconds


def order_lines(
    cache: Path,
    size: int,
    seed: int,
    timeout: float,
    story: dict[str, float] | None = None,
) -> Dataset:
    """Order lines (at least ``size`` rows, dirty rows included), from the
    generator's default story or one with ``story``'s model parameters."""
    directory = cache / f"lines-{count_label(size)}-seed{seed}{story_suffix(story)}"
    params, seconds = _generate(
        directory, seed, {"customers": None, "lines": size}, False, timeout, story
    )
    path = directory / params["files"]["order_lines"]
    return Dataset("lines", size, directory, path, params, seconds)


def events(
    cache: Path,
    size: int,
    seed: int,
    timeout: float,
    story: dict[str, float] | None = None,
) -> Dataset:
    """About ``size`` REES46-style events (customers chosen from a pilot)."""
    suffix = story_suffix(story)
    pilot, _ = _generate(
        cache / f"events-pilot-seed{seed}{suffix}",
        seed,
        {"customers": PILOT_CUSTOMERS, "lines": None},
        True,
        timeout,
        story,
    )
    per_customer = pilot["events"]["events_written"] / pilot["n_customers"]
    customers = max(1, math.ceil(size / per_customer))
    directory = cache / f"events-{count_label(size)}-seed{seed}{suffix}"
    params, seconds = _generate(
        directory, seed, {"customers": customers, "lines": None}, True, timeout, story
    )
    path = directory / params["files"]["events"]
    return Dataset("events", size, directory, path, params, seconds)
