"""Time the project itself: one full ``dbt build`` per run, in a subprocess.

Each run builds every model and data test into a fresh DuckDB file in its
own temporary directory (warehouse, spill directory, dbt target and log
paths), the way a nightly scheduler runs the project: the project is parsed
once beforehand (``dbt parse``, timed and reported on its own), so the build
starts from dbt's partial-parse state as every run after the first does, and
unit tests, whose inputs are static fixtures, are left to CI
(``--exclude-resource-type unit_test``, as dbt recommends for production).
``cold_parse=True`` / ``unit_tests=True`` restore a cold, all-inclusive run.
Per-node times come from ``run_results.json``; the stage of a model is
derived from its file path (see :func:`stage_of`), so the harness keeps
working whatever models exist.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from bench.monitor import RunOutcome, run_monitored, tail_text

# Nodes whose run_results entries are timed and reported.
_TIMED = ("model", "seed", "test", "unit_test", "snapshot", "operation")


def stage_of(unique_id: str, path: str | None) -> str:
    """Benchmark stage of a dbt node, from its resource type and file path.

    ``tests``: data and unit tests; ``clv``: any model with ``clv`` in its
    path; ``clustering``: ``models/marts/clusters/`` and
    ``int_customers_cluster*``; ``staging``: ``models/staging/``; ``rfm``:
    ``models/marts/rfm/`` (or ``rfm`` in the name); ``marts_sql``: every
    other model (intermediate order/customer roll-ups, revenue, customers,
    funnel marts, ``dim_customers``); ``other``: seeds, hooks, snapshots.
    """
    kind = unique_id.split(".", 1)[0]
    if kind in ("test", "unit_test"):
        return "tests"
    if kind != "model":
        return "other"
    path = (path or "").replace("\\", "/").lower()
    name = path.rsplit("/", 1)[-1] or unique_id.rsplit(".", 1)[-1].lower()
    if "clv" in path or "clv" in name:
        return "clv"
    if "/clusters/" in path or name.startswith("int_customers_cluster"):
        return "clustering"
    if path.startswith("models/staging/"):
        return "staging"
    if "/rfm/" in path or "rfm" in name:
        return "rfm"
    return "marts_sql"


def dbt_executable() -> str:
    """The dbt next to this interpreter (the project's venv), else on PATH."""
    candidate = Path(sys.executable).parent / "dbt"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("dbt")
    if found is None:
        raise FileNotFoundError("dbt not found next to the interpreter nor on PATH")
    return found


def _epoch(text: str | None) -> float | None:
    if not text:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def parse_run_results(
    target: Path, launched_at: float, ended_at: float
) -> dict[str, Any]:
    """Per-node and per-stage times from dbt's artifacts."""
    results = json.loads((target / "run_results.json").read_text())
    paths: dict[str, str] = {}
    manifest_file = target / "manifest.json"
    if manifest_file.exists():
        manifest = json.loads(manifest_file.read_text())
        for section in ("nodes", "unit_tests"):
            for unique_id, node in (manifest.get(section) or {}).items():
                paths[unique_id] = node.get("original_file_path") or ""
    nodes = []
    for result in results.get("results", []):
        unique_id = result["unique_id"]
        kind = unique_id.split(".", 1)[0]
        if kind not in _TIMED:
            continue
        starts = [_epoch(t.get("started_at")) for t in result.get("timing") or []]
        ends = [_epoch(t.get("completed_at")) for t in result.get("timing") or []]
        starts = [t for t in starts if t is not None]
        ends = [t for t in ends if t is not None]
        nodes.append(
            {
                "unique_id": unique_id,
                "kind": kind,
                "name": unique_id.split(".")[2] if kind != "test" else unique_id,
                "path": paths.get(unique_id),
                "stage": stage_of(unique_id, paths.get(unique_id)),
                "status": result.get("status"),
                "seconds": float(result.get("execution_time") or 0.0),
                "start": min(starts) if starts else None,
                "end": max(ends) if ends else None,
                "message": (result.get("message") or "")[:500]
                if result.get("status") in ("error", "fail")
                else None,
            }
        )
    stages: dict[str, dict[str, Any]] = {}
    for node in nodes:
        stage = stages.setdefault(
            node["stage"], {"seconds": 0.0, "nodes": 0, "start": None, "end": None}
        )
        stage["seconds"] += node["seconds"]
        stage["nodes"] += 1
        if node["start"] is not None:
            stage["start"] = min(filter(None, [stage["start"], node["start"]]))
        if node["end"] is not None:
            stage["end"] = max(filter(None, [stage["end"], node["end"]]))
    first = min((n["start"] for n in nodes if n["start"]), default=None)
    last = max((n["end"] for n in nodes if n["end"]), default=None)
    extra: dict[str, float] = {}
    if first is not None:
        extra["startup"] = first - launched_at
    if last is not None:
        # seeds and hooks (already in "other") plus writing artifacts and exit
        extra["teardown"] = max(0.0, ended_at - last)
    bad = [
        n
        for n in nodes
        if n["status"] not in ("success", "pass", "skipped", "warn")
        or (n["status"] == "skipped" and n["kind"] == "model")
    ]
    return {
        "nodes": nodes,
        "stages": stages,
        "startup_seconds": extra.get("startup"),
        "teardown_seconds": extra.get("teardown"),
        "dbt_elapsed": results.get("elapsed_time"),
        "first_node_start": first,
        "last_node_end": last,
        "problems": [
            f"{n['status']}: {n['unique_id']}"
            + (f": {n['message']}" if n.get("message") else "")
            for n in bad
            if n["kind"] != "seed"
        ][:20],
        "model_problems": sum(1 for n in bad if n["kind"] == "model"),
        "test_problems": sum(1 for n in bad if n["kind"] in ("test", "unit_test")),
    }


def _first_error(log_tail: str) -> str:
    """The most telling error line of a dbt log tail, ANSI colours removed."""
    lines = [
        re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in log_tail.splitlines()
    ]
    lines = [re.sub(r"^\d\d:\d\d:\d\d\s+", "", line) for line in lines if line]
    for index, line in enumerate(lines):
        if line.startswith("Encountered an error"):
            return " ".join(lines[index + 1 : index + 3])[:300]
    errors = [line for line in lines if "Error" in line or "error" in line]
    return (errors[-1] if errors else (lines[-1] if lines else "no output"))[:300]


def warehouse_checks(warehouse: Path) -> dict[str, Any]:
    """A few totals from the built marts, to compare with the other tools."""
    import duckdb

    queries = {
        "gross_revenue": "select sum(gross_revenue) from fct_revenue_monthly",
        "returns_amount": "select sum(returns_amount) from fct_revenue_monthly",
        "net_revenue": "select sum(net_revenue) from fct_revenue_monthly",
        "orders": "select sum(orders) from fct_revenue_monthly",
        "active_customer_months": (
            "select sum(active_customers) from fct_customers_monthly"
        ),
        "new_customers": "select sum(new_customers) from fct_customers_monthly",
        "rfm_customers": "select count(*) from fct_customer_rfm",
        "clean_lines": "select count(*) from stg_input__order_lines",
        "clv_customers": "select count(*) from fct_customer_clv",
    }
    checks: dict[str, Any] = {}
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        for name, sql in queries.items():
            try:
                value = conn.sql(sql).fetchall()[0][0]
            except duckdb.Error:
                continue
            checks[name] = float(value) if isinstance(value, float) else value
    return checks


def dbt_invocation(
    *,
    repo: Path,
    workdir: Path,
    input_path: Path,
    input_format: str,
    duckdb_memory_limit: str,
    threads: int | None = None,
) -> tuple[dict[str, str], list[str]]:
    """Environment and common arguments of a dbt command on ``input_path``
    whose warehouse (``w.duckdb``), spill directory, target and logs live in
    ``workdir``; the same for ``dbt parse`` and ``dbt build``, so partial
    parsing carries over."""
    env = dict(os.environ)
    env.update(
        DBT_PROFILES_DIR=str(repo / "profiles"),
        CV_WAREHOUSE_PATH=str(workdir / "w.duckdb"),
        CV_DUCKDB_TEMP_DIR=str(workdir / "spill"),
        CV_DUCKDB_MEMORY_LIMIT=duckdb_memory_limit,
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DO_NOT_TRACK="1",
    )
    env.pop("CV_TARGET", None)
    if threads:
        env["CV_THREADS"] = str(threads)
    common = [
        "--vars",
        json.dumps({"input_format": input_format, "input_path": str(input_path)}),
        "--target-path",
        str(workdir / "target"),
        "--log-path",
        str(workdir / "logs"),
        "--project-dir",
        str(repo),
    ]
    return env, common


def run_dbt_build(
    *,
    repo: Path,
    input_path: Path,
    input_format: str,
    workdir: Path,
    log_path: Path,
    timeout: float,
    memory_limit: int | None,
    duckdb_memory_limit: str,
    threads: int | None,
    keep: bool = False,
    cold_parse: bool = False,
    unit_tests: bool = False,
) -> dict[str, Any]:
    """One ``dbt build`` into ``workdir``; timings, peak memory and checks."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    warehouse = workdir / "w.duckdb"
    env, common = dbt_invocation(
        repo=repo,
        workdir=workdir,
        input_path=input_path,
        input_format=input_format,
        duckdb_memory_limit=duckdb_memory_limit,
        threads=threads,
    )
    target = workdir / "target"
    parse_seconds = None
    if not cold_parse:
        parsed_outcome = run_monitored(
            [dbt_executable(), "parse", *common],
            cwd=repo,
            env=env,
            timeout=timeout,
            memory_limit=memory_limit,
            log_path=log_path.with_suffix(".parse.log"),
        )
        if parsed_outcome.status == "ok":
            parse_seconds = parsed_outcome.wall_seconds
    cmd = [dbt_executable(), "build", *common]
    if not unit_tests:
        cmd += ["--exclude-resource-type", "unit_test"]
    outcome: RunOutcome = run_monitored(
        cmd,
        cwd=repo,
        env=env,
        timeout=timeout,
        memory_limit=memory_limit,
        log_path=log_path,
    )
    ended_at = outcome.launched_at + outcome.wall_seconds
    record: dict[str, Any] = {
        "tool": "dbt",
        "status": outcome.status,
        "message": outcome.message,
        "returncode": outcome.returncode,
        "wall_seconds": outcome.wall_seconds,
        "peak_rss": outcome.peak_rss,
        "log": str(log_path),
        "parse_seconds": parse_seconds,
        "warm_parse": parse_seconds is not None,
        "unit_tests": unit_tests,
    }
    parsed = None
    if (target / "run_results.json").exists():
        try:
            parsed = parse_run_results(target, outcome.launched_at, ended_at)
        except (OSError, ValueError, KeyError) as exc:
            record["message"] += f"; run_results.json unreadable: {exc}"
    if parsed is not None:
        for stage in parsed["stages"].values():
            stage["peak_rss"] = (
                outcome.peak_between(stage["start"], stage["end"])
                if stage["start"] is not None
                else None
            )
        record.update(parsed)
        if parsed["first_node_start"] is not None:
            record["startup_peak_rss"] = outcome.peak_between(
                outcome.launched_at, parsed["first_node_start"]
            )
        if outcome.status == "failed" and parsed["model_problems"] == 0:
            record["status"] = "test_failures"
            record["message"] = (
                f"{parsed['test_problems']} test(s) failed or errored; models built"
            )
        elif outcome.status == "failed":
            first = next(
                (x for x in parsed["problems"] if x.startswith("error")),
                parsed["problems"][0] if parsed["problems"] else "",
            )
            record["message"] = (
                f"{parsed['model_problems']} model(s) errored or skipped, "
                f"{parsed['test_problems']} test(s) failed; {first[:300]}"
            )
    if outcome.status in ("failed", "oom") and "Out of Memory" in tail_text(
        log_path, 200
    ):
        record["status"] = "oom"
        record["message"] = "DuckDB: Out of Memory Error (see log)"
    if outcome.status == "failed" and record["status"] == "failed":
        record["log_tail"] = tail_text(log_path, 25)
        if parsed is None:
            record["message"] += ": " + _first_error(record["log_tail"])
    if warehouse.exists() and outcome.status in ("ok", "failed"):
        try:
            record["checks"] = warehouse_checks(warehouse)
        except Exception as exc:  # a check must never fail the benchmark
            record["checks_error"] = f"{type(exc).__name__}: {exc}"
    if warehouse.exists():
        record["warehouse_bytes"] = warehouse.stat().st_size
    if not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return record
