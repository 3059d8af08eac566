"""Run one of the reference pipelines (pandas, DuckDB floor) in a subprocess."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from bench.monitor import run_monitored, tail_text

MODULES = {"pandas": "bench.pandas_pipeline", "duckdb": "bench.duckdb_floor"}


def run_reference(
    tool: str,
    *,
    repo: Path,
    input_path: Path,
    input_format: str,
    workdir: Path,
    log_path: Path,
    timeout: float,
    memory_limit: int | None,
    duckdb_memory_limit: str,
    threads: int | None = None,
) -> dict[str, Any]:
    """Run ``tool`` on ``input_path``; steps, peak memory and checks."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    result_file = workdir / "result.json"
    cmd = [
        sys.executable,
        "-m",
        MODULES[tool],
        "--input",
        str(input_path),
        "--format",
        input_format,
        "--result",
        str(result_file),
    ]
    if tool == "duckdb":
        cmd += [
            "--database",
            str(workdir / "floor.duckdb"),
            "--memory-limit",
            duckdb_memory_limit,
            "--temp-directory",
            str(workdir / "spill"),
        ]
        if threads:
            cmd += ["--threads", str(threads)]
    outcome = run_monitored(
        cmd, cwd=repo, timeout=timeout, memory_limit=memory_limit, log_path=log_path
    )
    record: dict[str, Any] = {
        "tool": tool,
        "status": outcome.status,
        "message": outcome.message,
        "returncode": outcome.returncode,
        "wall_seconds": outcome.wall_seconds,
        "peak_rss": outcome.peak_rss,
        "log": str(log_path),
    }
    child: dict[str, Any] = {}
    if result_file.exists():
        try:
            child = json.loads(result_file.read_text())
        except ValueError:
            child = {}
    steps = child.get("steps") or []
    for step in steps:
        step["peak_rss"] = outcome.peak_between(step["start"], step["end"])
    record["steps"] = steps
    if child.get("started_at"):
        record["startup_seconds"] = child["started_at"] - outcome.launched_at
        record["startup_peak_rss"] = outcome.peak_between(
            outcome.launched_at, child["started_at"]
        )
    if "checks" in child:
        record["checks"] = child["checks"]
    if child.get("error"):
        error = child["error"]
        record["error"] = error
        record["traceback"] = child.get("traceback")
        if "MemoryError" in error or "Out of Memory" in error:
            record["status"] = "oom"
            record["message"] = error[:300]
        elif record["status"] == "failed":
            record["message"] = error[:300]
    elif outcome.status == "failed":
        record["log_tail"] = tail_text(log_path, 25)
    shutil.rmtree(workdir, ignore_errors=True)
    return record
