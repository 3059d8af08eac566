"""python_udfs.serving: the atomic replace, the stale-file sweep, the serving
path and the build lock (the dbt-level behaviour is in test_production.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import duckdb
import pytest

from python_udfs import serving


def test_serving_path_is_beside_the_working_warehouse(monkeypatch):
    monkeypatch.delenv("CV_SERVING_PATH", raising=False)
    got = serving.serving_path("warehouse/customer_value.duckdb")
    assert str(got) == "warehouse/customer_value_serving.duckdb"
    assert serving.serving_path("/x/w").name == "w_serving.duckdb"
    monkeypatch.setenv("CV_SERVING_PATH", "/srv/bi/marts.duckdb")
    assert str(serving.serving_path("warehouse/customer_value.duckdb")) == (
        "/srv/bi/marts.duckdb"
    )


def test_replace_file_keeps_an_open_reader_on_the_old_file(tmp_path):
    target, new = tmp_path / "s.duckdb", tmp_path / "s.duckdb.tmp-1"
    with duckdb.connect(str(target)) as conn:
        conn.execute("create table t as select 1 as build")
    with duckdb.connect(str(new)) as conn:
        conn.execute("create table t as select 2 as build")
    reader = duckdb.connect(str(target), read_only=True)
    try:
        assert serving.replace_file(str(new), str(target)) == str(target)
        assert not new.exists()
        # The reader that opened the old file still reads it, whole.
        assert reader.execute("select build from t").fetchall() == [(1,)]
    finally:
        reader.close()
    with duckdb.connect(str(target), read_only=True) as conn:
        assert conn.execute("select build from t").fetchall() == [(2,)]


def test_replace_file_refuses_a_file_with_a_pending_wal(tmp_path):
    source, target = tmp_path / "a.tmp-1", tmp_path / "a"
    source.write_text("x")
    (tmp_path / "a.tmp-1.wal").write_text("y")
    with pytest.raises(FileExistsError, match="checkpoint"):
        serving.replace_file(str(source), str(target))
    assert source.exists() and not target.exists()


def test_remove_stale_temp_files_only_removes_temporaries(tmp_path):
    target = tmp_path / "s[1].duckdb"  # glob characters in the name
    target.write_text("served")
    for name in ("s[1].duckdb.tmp-a", "s[1].duckdb.tmp-b.wal", "other.tmp-c"):
        (tmp_path / name).write_text("x")
    assert serving.remove_stale_temp_files(str(target)) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.tmp-c", "s[1].duckdb"]


_HOLD = textwrap.dedent(
    """
    import sys, time
    from python_udfs.serving import BuildLock
    lock = BuildLock(sys.argv[1])
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
    """
)


def _hold_lock(warehouse, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(warehouse), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_lock_is_refused_naming_the_holder(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    holder = _hold_lock(warehouse, 30)
    try:
        with pytest.raises(serving.BuildLockedError) as caught:
            serving.BuildLock(warehouse)
        message = str(caught.value)
        assert f"pid {holder.pid}" in message
        assert str(warehouse) in message
        assert "CV_BUILD_LOCK_WAIT_SECONDS" in message
    finally:
        holder.kill()
        holder.wait()
    # The operating system released the killed holder's lock.
    serving.BuildLock(warehouse).release()


def test_a_waiting_lock_is_taken_when_the_holder_ends(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    holder = _hold_lock(warehouse, 1.5)
    started = time.monotonic()
    lock = serving.BuildLock(warehouse, wait_seconds=60)
    try:
        assert time.monotonic() - started >= 0.5
        holder.wait(timeout=30)
        assert str(os.getpid()) in serving.lock_path(warehouse).read_text()
    finally:
        lock.release()


def test_a_reader_of_the_working_warehouse_is_named(tmp_path, monkeypatch):
    """A process holding the working warehouse open (a BI tool pointed at
    the wrong file) is refused with the project's message naming it and
    the snapshot to read instead; with no reader, nothing is raised."""
    monkeypatch.delenv("CV_SERVING_PATH", raising=False)
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    serving.check_no_reader(warehouse)
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], "
            "read_only=True); print('open', flush=True); time.sleep(30)",
            str(warehouse),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "open"
        with pytest.raises(serving.BuildLockedError) as caught:
            serving.check_no_reader(warehouse)
        assert f"process {reader.pid} has the working warehouse" in str(caught.value)
        assert "w_serving.duckdb" in str(caught.value)
    finally:
        reader.kill()
        reader.wait()
    serving.check_no_reader(warehouse)
