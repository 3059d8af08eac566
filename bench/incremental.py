"""Benchmark a nightly incremental run against a full rebuild.

``python -m bench.incremental --size 10M`` (``make bench-incremental``;
``make bench-incremental-large`` for 100M):

1. splits the cached generated input into its history (every line except
   the last day's) and the last day, as two Parquet files;
2. builds the history from scratch (``dbt build --full-refresh``);
3. adds the day file and runs the nightly ``dbt build`` (incremental);
4. rebuilds everything from scratch into a second warehouse
   (``dbt build --full-refresh``), the run the incremental one replaces;
5. checks that every mart of 3 equals the one of 4 (row count and an
   order-independent checksum of every column but the run timestamps),
   and writes ``bench/results/<date>-incremental-<size>.md`` with the
   times, their ratio, peak memory and the slowest nodes of the nightly run.

Each dbt command runs as the scheduler would: after a ``dbt parse`` (partial
parsing), without unit tests. Timings are single runs on a shared machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import count_label, parse_count
from bench.data import order_lines
from bench.monitor import run_monitored
from bench.project import dbt_executable, dbt_invocation, parse_run_results
from bench.report import machine_info
from python_udfs.relations import RUN_COLUMNS, table_names

REPO = Path(__file__).resolve().parents[1]
# Columns that record when a run happened, not what it computed.


def split_last_day(source: Path, directory: Path) -> tuple[Path, Path, str]:
    """``history.parquet`` (all but the last day) and ``day.parquet``."""
    import duckdb

    directory.mkdir(parents=True, exist_ok=True)
    history, day = directory / "history.parquet", directory / "day.parquet"
    marker = directory / "split.json"
    if history.exists() and day.exists() and marker.exists():
        return history, day, json.loads(marker.read_text())["last_day"]
    with duckdb.connect() as conn:
        last_day = conn.execute(
            f"select max(cast(ordered_at as date)) from '{source}' "
            "where ordered_at < current_timestamp"
        ).fetchall()[0][0]
        is_day = f"cast(ordered_at as date) = date '{last_day}'"
        conn.execute(
            f"copy (select * from '{source}' where ordered_at is null or not "
            f"({is_day})) to '{history}' (format parquet)"
        )
        conn.execute(
            f"copy (select * from '{source}' where {is_day}) to '{day}' "
            "(format parquet)"
        )
    marker.write_text(json.dumps({"last_day": str(last_day)}))
    return history, day, str(last_day)


def mart_checksums(warehouse: Path) -> dict[str, tuple[int, Any]]:
    """Row count and an order-independent checksum of every mart."""
    import duckdb

    out = {}
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        for name in table_names(conn, ("fct", "dim")):
            columns = [
                (column, data_type)
                for column, data_type in conn.execute(
                    "select column_name, data_type from information_schema.columns "
                    f"where table_name = '{name}' order by ordinal_position"
                ).fetchall()
                if column not in RUN_COLUMNS
            ]
            # Doubles to 12 significant digits: sums over millions of rows
            # run in parallel, in no fixed order, so their last bits vary
            # from run to run, full refresh or not.
            values = ", ".join(
                f"printf('%.12g', \"{column}\")"
                if data_type in ("DOUBLE", "FLOAT")
                else f'"{column}"::varchar'
                for column, data_type in columns
            )
            count, checksum = conn.execute(
                f"select count(*), sum(hash({values})::hugeint) from {name}"
            ).fetchall()[0]
            out[name] = (count, str(checksum))
    return out


def tolerant_equal(left: Path, right: Path, name: str, rtol: float = 1e-9) -> bool:
    """Whether table ``name`` holds the same rows in both warehouses, doubles
    equal to ``rtol`` (for tables whose checksums differ: a sum over millions
    of rows, run in parallel, can differ in its last bits between any two
    runs, and rounding cannot hide that when a value sits on a boundary)."""
    import duckdb
    import pandas as pd

    frames = []
    for warehouse in (left, right):
        with duckdb.connect(str(warehouse), read_only=True) as conn:
            df = conn.execute(f"select * from {name}").df()
        df = df[[c for c in df.columns if c not in RUN_COLUMNS]]
        frames.append(df.sort_values(list(df.columns), ignore_index=True))
    try:
        pd.testing.assert_frame_equal(*frames, check_exact=False, rtol=rtol)
    except AssertionError:
        return False
    return True


def _dbt(
    args: list[str],
    *,
    input_path: Path,
    workdir: Path,
    log_name: str,
    timeout: float,
    duckdb_memory_limit: str,
) -> dict[str, Any]:
    env, common = dbt_invocation(
        repo=REPO,
        workdir=workdir,
        input_path=input_path,
        input_format="transactions",
        duckdb_memory_limit=duckdb_memory_limit,
    )
    target = workdir / "target"
    run_monitored(
        [dbt_executable(), "parse", *common],
        cwd=REPO,
        env=env,
        timeout=timeout,
        memory_limit=None,
        log_path=workdir / f"{log_name}.parse.log",
    )
    cmd = [dbt_executable(), *args, *common, "--exclude-resource-type", "unit_test"]
    outcome = run_monitored(
        cmd,
        cwd=REPO,
        env=env,
        timeout=timeout,
        memory_limit=None,
        log_path=workdir / f"{log_name}.log",
    )
    record: dict[str, Any] = {
        "command": "dbt " + " ".join(args),
        "status": outcome.status,
        "wall_seconds": outcome.wall_seconds,
        "peak_rss": outcome.peak_rss,
    }
    if (target / "run_results.json").exists():
        parsed = parse_run_results(
            target, outcome.launched_at, outcome.launched_at + outcome.wall_seconds
        )
        record["nodes"] = sorted(
            ((n["unique_id"], n["seconds"]) for n in parsed["nodes"]),
            key=lambda item: -item[1],
        )
        record["problems"] = parsed["problems"]
    if outcome.status != "ok":
        raise SystemExit(
            f"[bench] {log_name} failed ({outcome.status}); see "
            f"{workdir / (log_name + '.log')}"
        )
    return record


def render(results: dict[str, Any]) -> str:
    full, nightly, rebuild = (
        results["runs"][k] for k in ("history", "nightly", "full_refresh")
    )
    ratio = nightly["wall_seconds"] / rebuild["wall_seconds"]
    machine = results["machine"]
    lines = [
        f"# customer_value incremental benchmark, {results['created'][:10]}",
        "",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, "
        f"{(machine.get('ram_bytes') or 0) / 2**30:.1f} GiB RAM",
        f"- Command: `{results['command']}`; commit {machine.get('git_commit')}",
        f"- Input: {results['dataset']['rows']:,} generated order lines "
        f"({results['dataset']['customers']:,} customers); the last day "
        f"({results['last_day']}, {results['day_rows']:,} lines) is appended "
        "as a new file to the history.",
        "- Every run: `dbt parse` first (untimed), then the `dbt build` below "
        "without unit tests; DuckDB memory_limit "
        f"{results['duckdb_memory_limit']}; single runs (shared machine).",
        "",
        "| run | dbt command | wall s | peak MB |",
        "|---|---|---:|---:|",
    ]
    for title, run in (
        ("history, from scratch", full),
        ("**nightly: history + 1 day, incremental**", nightly),
        ("history + 1 day, full rebuild", rebuild),
    ):
        lines.append(
            f"| {title} | `{run['command']}` | {run['wall_seconds']:.1f} | "
            f"{run['peak_rss'] / 1e6:,.0f} |"
        )
    same = results["marts_equal"]
    lines += [
        "",
        f"Nightly / full rebuild: **{ratio:.1%}** of the time.",
        "",
        f"Marts of the nightly run equal the full rebuild's: **{same}** "
        f"({len(results['checksums'])} marts compared by row count and a "
        "checksum of every column except the run timestamps, doubles to 12 "
        "significant digits"
        + (
            "; equal row by row to a relative 1e-9 (parallel sums): "
            + ", ".join(results["equal_within_rtol"])
            if results["equal_within_rtol"]
            else ""
        )
        + (f"; differing: {', '.join(results['differing'])}" if not same else "")
        + ").",
        "",
        "Slowest nodes of the nightly run:",
        "",
        "| node | s |",
        "|---|---:|",
    ]
    for unique_id, seconds in nightly.get("nodes", [])[:15]:
        lines.append(f"| {unique_id} | {seconds:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.incremental")
    parser.add_argument("--size", default="10M", help="order lines (10M)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cache", default="bench/cache/")
    parser.add_argument("--out", default="bench/results/")
    parser.add_argument("--tmp", default=None, help="scratch directory")
    parser.add_argument("--duckdb-memory-limit", default="6GB")
    parser.add_argument("--timeout", type=float, default=7200)
    args = parser.parse_args(argv)

    size = parse_count(args.size)
    cache = Path(args.cache).resolve()
    dataset = order_lines(cache, size, args.seed, args.timeout)
    history_file, day_file, last_day = split_last_day(
        dataset.path, dataset.directory / "split-last-day"
    )
    scratch = Path(tempfile.mkdtemp(prefix="cv-incremental-", dir=args.tmp))
    try:
        live, everything = scratch / "live", scratch / "everything"
        for directory in (live, everything):
            directory.mkdir()
            os.symlink(history_file, directory / "part-1.parquet")
        os.symlink(day_file, everything / "part-2.parquet")
        common = dict(
            timeout=args.timeout, duckdb_memory_limit=args.duckdb_memory_limit
        )
        runs = {}
        print(f"[bench] {count_label(size)}: building the history", flush=True)
        runs["history"] = _dbt(
            ["build", "--full-refresh"],
            input_path=live / "*.parquet",
            workdir=scratch / "nightly",
            log_name="history",
            **common,
        )
        os.symlink(day_file, live / "part-2.parquet")
        print("[bench] nightly incremental run", flush=True)
        runs["nightly"] = _dbt(
            ["build"],
            input_path=live / "*.parquet",
            workdir=scratch / "nightly",
            log_name="nightly",
            **common,
        )
        print("[bench] full rebuild", flush=True)
        runs["full_refresh"] = _dbt(
            ["build", "--full-refresh"],
            input_path=everything / "*.parquet",
            workdir=scratch / "rebuild",
            log_name="rebuild",
            **common,
        )
        nightly_wh = scratch / "nightly" / "w.duckdb"
        rebuild_wh = scratch / "rebuild" / "w.duckdb"
        got, expected = mart_checksums(nightly_wh), mart_checksums(rebuild_wh)
        # Marts whose checksums differ are compared row by row, doubles to
        # a relative 1e-9 (small marts only: the big ones hold no sums).
        close = sorted(
            name
            for name in expected
            if got.get(name) != expected[name]
            and got.get(name, (None,))[0] == expected[name][0]
            and expected[name][0] <= 1_000_000
            and tolerant_equal(nightly_wh, rebuild_wh, name)
        )
        import duckdb

        with duckdb.connect() as conn:
            day_rows = conn.execute(f"select count(*) from '{day_file}'").fetchall()
        results = {
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": "python -m bench.incremental " + " ".join(argv or sys.argv[1:]),
            "machine": machine_info(REPO),
            "dataset": dataset.summary(),
            "last_day": last_day,
            "day_rows": day_rows[0][0],
            "duckdb_memory_limit": args.duckdb_memory_limit,
            "runs": runs,
            "checksums": expected,
            "marts_equal": all(
                got.get(k) == expected[k] or k in close for k in expected
            ),
            "equal_within_rtol": close,
            "differing": sorted(
                k for k in expected if got.get(k) != expected[k] and k not in close
            ),
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{results['created'][:10]}-incremental-{count_label(size)}"
    (out / f"{stem}.json").write_text(json.dumps(results, indent=1, default=str))
    (out / f"{stem}.md").write_text(render(results))
    print(render(results))
    return 0 if results["marts_equal"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
