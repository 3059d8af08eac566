"""Production runs: BI readers read a published snapshot the build never
writes, a failed build leaves the last snapshot served, two builds at once
do not both run, and a build killed at any point recovers on the next run.

Every build here runs on a small generated history plus days appended as
new files, as a nightly schedule delivers them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import duckdb
import pytest
from conftest import PROJECT_DIR, dbt_invocation, make_dbt_runner
from mart_checksums import mart_checksums
from test_incremental import _tables

from python_udfs.serving import TEMP_MARK, serving_path

BUILD = ["build", "--exclude", "test_type:unit"]


def _serving(warehouse: Path) -> Path:
    return serving_path(warehouse)


@pytest.fixture(scope="module")
def days(tmp_path_factory) -> dict[str, Path]:
    """Generated order lines: a history file and each of the last two days
    in a file of its own (`history`, `day_1`, `day_2`), in a folder `parts`.
    The file names sort in delivery order, as a full rebuild numbers the
    rows of the files (source_row_number) in name order."""
    from python_udfs.generator import generate

    tmp = tmp_path_factory.mktemp("production_data")
    generate(tmp / "gen", customers=800, fmt="parquet")
    source = tmp / "gen" / "order_lines.parquet"
    parts = tmp / "parts"
    parts.mkdir()
    with duckdb.connect() as conn:
        last = [
            row[0]
            for row in conn.execute(
                f"select distinct cast(ordered_at as date) as day from '{source}' "
                "where ordered_at < timestamp '2099-01-01' order by day desc limit 2"
            ).fetchall()
        ]
        files = {
            "history": (
                f"ordered_at is null or cast(ordered_at as date) < date '{last[1]}' "
                "or ordered_at >= timestamp '2099-01-01'"
            ),
            "day_1": f"cast(ordered_at as date) = date '{last[1]}'",
            "day_2": f"cast(ordered_at as date) = date '{last[0]}'",
        }
        for n, (name, where) in enumerate(files.items(), 1):
            conn.execute(
                f"copy (select * from '{source}' where {where}) "
                f"to '{parts}/part-{n}-{name}.parquet'"
            )
    return {name: parts / f"part-{n}-{name}.parquet" for n, name in enumerate(files, 1)}


def _deliver(inbox: Path, *files: Path) -> dict:
    """Copy the delivered files into `inbox`; return the dbt vars reading it."""
    inbox.mkdir(exist_ok=True)
    for file in files:
        shutil.copy(file, inbox)
    return {"input_path": str(inbox / "*.parquet")}


def _invocation_id(tmp_path: Path) -> str:
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())
    return results["metadata"]["invocation_id"]


def _temporaries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob(f"*{TEMP_MARK}*"))


def test_a_build_publishes_a_snapshot_equal_to_its_marts(days, tmp_path):
    dbt_vars = _deliver(tmp_path / "inbox", days["history"])
    built = make_dbt_runner(tmp_path)(BUILD, dbt_vars)
    assert built.returncode == 0, built.output
    served = _serving(built.warehouse)
    assert f"to the serving snapshot {served}" in built.output
    marts = mart_checksums(built.warehouse)
    assert len(marts) >= 18
    assert mart_checksums(served) == marts
    with duckdb.connect(str(served), read_only=True) as conn:
        invocation, count = conn.execute(
            "select invocation_id, marts from serving_snapshot"
        ).fetchone()
    assert (invocation, count) == (_invocation_id(tmp_path), len(marts))
    assert _temporaries(tmp_path) == []


def test_a_failed_build_leaves_the_last_snapshot_served(days, tmp_path):
    """The second build fails (too many rejects); readers keep the first
    build's snapshot and Parquet exports, untouched."""
    dbt_vars = {
        **_deliver(tmp_path / "inbox", days["history"]),
        "export_marts_parquet": True,
        "export_path": str(tmp_path),
    }
    run_dbt = make_dbt_runner(tmp_path)
    first = run_dbt(BUILD, dbt_vars)
    assert first.returncode == 0, first.output
    served = _serving(first.warehouse)
    before = (served.stat().st_ino, mart_checksums(served))
    export = tmp_path / "fct_revenue_monthly.parquet"
    exported = (export.stat().st_ino, export.read_bytes())

    _deliver(tmp_path / "inbox", days["day_1"])
    failed = run_dbt(BUILD, {**dbt_vars, "max_rejected_share": 0})
    assert failed.returncode != 0
    assert "Too many rejected input rows" in failed.output, failed.output
    assert "the serving snapshot was not replaced" in failed.output
    assert (served.stat().st_ino, mart_checksums(served)) == before
    assert (export.stat().st_ino, export.read_bytes()) == exported


_READER = textwrap.dedent(
    """
    import json, os, sys, time
    import duckdb
    served, stop, out = sys.argv[1:4]
    query = (
        "select (select invocation_id from serving_snapshot), "
        "(select cast(sum(net_revenue) as varchar) from fct_revenue_monthly), "
        "(select sum(row_count) from fct_input_summary), "
        "(select count(*) from dim_customers), "
        "(select sum(orders) from fct_revenue_by_store_monthly)"
    )
    with open(out, "w") as log:
        while not os.path.exists(stop):
            try:
                with duckdb.connect(served, read_only=True) as conn:
                    row = conn.execute(query).fetchone()
                log.write(json.dumps({"ok": list(row)}) + "\\n")
            except Exception as error:
                log.write(json.dumps({"error": repr(error)}) + "\\n")
            log.flush()
            time.sleep(0.1)
    """
)


def _totals(database: Path) -> list:
    """What a reader's query returns, less the snapshot id."""
    with duckdb.connect(str(database), read_only=True) as conn:
        return list(
            conn.execute(
                "select cast(sum(net_revenue) as varchar) from fct_revenue_monthly"
            ).fetchone()
            + conn.execute("select sum(row_count) from fct_input_summary").fetchone()
            + conn.execute("select count(*) from dim_customers").fetchone()
            + conn.execute(
                "select sum(orders) from fct_revenue_by_store_monthly"
            ).fetchone()
        )


def test_readers_are_never_blocked_and_see_one_whole_snapshot(days, tmp_path):
    """Four readers query the served marts every 100 ms through three
    consecutive nightly builds: no build fails, no read fails, and every
    read returns exactly one build's totals."""
    inbox = tmp_path / "inbox"
    run_dbt = make_dbt_runner(tmp_path)
    dbt_vars = _deliver(inbox, days["history"])
    first = run_dbt(BUILD, dbt_vars)
    assert first.returncode == 0, first.output
    served = _serving(first.warehouse)
    expected = {_invocation_id(tmp_path): _totals(first.warehouse)}

    stop = tmp_path / "stop"
    logs = [tmp_path / f"reader-{n}.jsonl" for n in range(4)]
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", _READER, str(served), str(stop), str(log)]
        )
        for log in logs
    ]
    try:
        for delivery in (days["day_1"], days["day_2"], None):
            if delivery is not None:
                _deliver(inbox, delivery)
            built = run_dbt(BUILD, dbt_vars)
            assert built.returncode == 0, (built.returncode, built.output[-3000:])
            expected[_invocation_id(tmp_path)] = _totals(first.warehouse)
            time.sleep(0.5)
    finally:
        stop.touch()
        for reader in readers:
            reader.wait(timeout=60)
    reads = [json.loads(line) for log in logs for line in log.read_text().splitlines()]
    failed = [read["error"] for read in reads if "error" in read]
    assert failed == []
    assert len(reads) >= 40
    seen = {}
    for read in reads:
        invocation, *totals = read["ok"]
        assert totals == expected[invocation], invocation
        seen[invocation] = seen.get(invocation, 0) + 1
    assert len(seen) >= 3, seen
    assert len({tuple(v) for v in expected.values()}) == 3  # the builds differed
    print(f"{len(reads)} reads, snapshots seen: {seen}")


def _start(tmp_path, args, dbt_vars, warehouse, extra_env=None) -> subprocess.Popen:
    command, env, _ = dbt_invocation(tmp_path, args, dbt_vars, warehouse)
    return subprocess.Popen(
        command,
        cwd=PROJECT_DIR,
        env={**env, **(extra_env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _wait_for_line(process: subprocess.Popen, text: str) -> None:
    """Read the process's output until a line containing `text`, then keep
    reading the rest in the background (so that a full pipe never stalls
    it)."""
    seen = []
    for line in process.stdout:
        seen.append(line)
        if text in line:
            threading.Thread(target=process.stdout.read, daemon=True).start()
            return
    raise AssertionError(f"{text!r} never printed:\n{''.join(seen)}")


def test_a_second_build_refuses_naming_the_first_or_waits(days, tmp_path):
    """While a build holds the warehouse (paused here, so that it is surely
    still running), a second refuses with a message naming it, and one told
    to wait (CV_BUILD_LOCK_WAIT_SECONDS) runs once the first has ended."""
    dbt_vars = _deliver(tmp_path / "inbox", days["history"])
    warehouse = tmp_path / "warehouse.duckdb"
    first = _start(tmp_path / "a", BUILD, dbt_vars, warehouse)
    waiting = None
    try:
        _wait_for_line(first, "START sql")
        os.killpg(first.pid, signal.SIGSTOP)
        second = make_dbt_runner(tmp_path / "b")(BUILD, dbt_vars, warehouse)
        assert second.returncode != 0
        assert f"pid {first.pid}" in second.output, second.output
        assert "is using the warehouse" in second.output
        assert "Traceback" not in second.output
        waiting = _start(
            tmp_path / "c",
            BUILD,
            dbt_vars,
            warehouse,
            {"CV_BUILD_LOCK_WAIT_SECONDS": "900"},
        )
        time.sleep(5)
        assert waiting.poll() is None  # it waits
        os.killpg(first.pid, signal.SIGCONT)
        assert first.wait(timeout=900) == 0
        output = waiting.communicate(timeout=900)[0]
        assert waiting.returncode == 0, output
    finally:
        for process in (first, waiting):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    assert mart_checksums(_serving(warehouse)) == mart_checksums(warehouse)


#: Where a nightly run is killed: the dbt log line at which SIGKILL is sent.
KILL_POINTS = {
    "staging": "START sql incremental model main.base_input__rows",
    "incremental model": "START sql incremental model main.int_orders_aggregated ",
    "python model": "START python table model main.int_customers_cluster_k_chosen",
    "incremental mart": "START sql incremental model main.fct_rfm_segment_transitions",
    "mart": "START sql table model main.dim_customers",
    "publishing": "START hook: customer_value.on-run-end.0",
}


@pytest.fixture(scope="module")
def nightly(days, tmp_path_factory):
    """A clean build of the history, the inbox with the next day delivered,
    and a full rebuild of history + day to compare with."""
    tmp = tmp_path_factory.mktemp("nightly")
    inbox = tmp / "inbox"
    dbt_vars = _deliver(inbox, days["history"])
    history = make_dbt_runner(tmp / "history")(BUILD, dbt_vars)
    assert history.returncode == 0, history.output
    _deliver(inbox, days["day_1"])
    rebuild = make_dbt_runner(tmp / "rebuild")([*BUILD, "--full-refresh"], dbt_vars)
    assert rebuild.returncode == 0, rebuild.output
    return history.warehouse, dbt_vars, _tables(rebuild.warehouse)


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_killed_nightly_run_recovers_on_the_next(nightly, tmp_path, point):
    """SIGKILL at a point of the nightly run, then the next run: every table
    (staging, intermediate, marts) equals a full rebuild, with no row lost
    or doubled, and the served snapshot equals the marts."""
    history, dbt_vars, expected = nightly
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(history, warehouse)
    killed = _start(tmp_path / "killed", BUILD, dbt_vars, warehouse)
    try:
        _wait_for_line(killed, KILL_POINTS[point])
    finally:
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait(timeout=60)
    assert killed.returncode == -signal.SIGKILL

    rerun = make_dbt_runner(tmp_path / "rerun")(BUILD, dbt_vars, warehouse)
    assert rerun.returncode == 0, rerun.output
    got = _tables(warehouse)
    assert sorted(got) == sorted(expected)
    for name, frame in expected.items():
        assert got[name].equals(frame), name
    assert mart_checksums(_serving(warehouse)) == mart_checksums(warehouse)
    assert _temporaries(tmp_path) == []
