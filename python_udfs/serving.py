r"""The serving snapshot BI tools read, and the lock that keeps builds apart.

A build writes the *working* warehouse (``CV_WAREHOUSE_PATH``, by default
``warehouse/customer_value.duckdb``), which DuckDB locks for its one writer.
Readers never open it. When a ``dbt build`` ends with no failed node, its
``on-run-end`` hook (``macros/cv_publish_serving.sql``) copies every mart
into a new DuckDB file beside the *serving* path and puts it in place with
:func:`replace_file`, an atomic ``rename``: a reader opens either the old
file or the new one, never a mix, and a reader that has the old file open
keeps reading it (on POSIX the old file lives on until its last reader
closes it). A build that fails publishes nothing, so yesterday's marts stay
served. Parquet exports are written to a temporary name and renamed the
same way.

:class:`BuildLock` is an advisory lock (``flock``) on a file beside the
working warehouse, taken when dbt opens the warehouse (the dbt-duckdb
plugin, before DuckDB opens the file): a second build refuses, or waits,
with a message naming the build that holds it instead of DuckDB's raw
``Could not set lock on file``. The operating system releases the lock when
the process ends, also when it is killed.

This module uses the standard library only (no dbt, no duckdb):
:mod:`python_udfs.duckdb_plugin` takes the lock and registers
:func:`replace_file` and :func:`remove_stale_temp_files` as SQL functions.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import glob
import json
import os
import socket
import struct
import sys
import time
from pathlib import Path
from typing import IO

__all__ = [
    "TEMP_MARK",
    "BuildLock",
    "BuildLockedError",
    "check_no_reader",
    "lock_path",
    "remove_stale_temp_files",
    "replace_file",
    "serving_path",
]

#: What a temporary file's name carries after the final name: ``<final>.tmp-<id>``.
TEMP_MARK = ".tmp-"
_LOCK_SUFFIX = ".build-lock"
_POLL_SECONDS = 0.5


class BuildLockedError(RuntimeError):
    """Another process holds the build lock of the warehouse."""


def serving_path(warehouse: str | os.PathLike[str]) -> Path:
    """Where BI tools read the marts of ``warehouse``.

    ``CV_SERVING_PATH`` when set; otherwise the working warehouse's name with
    ``_serving`` before its suffix (``warehouse/customer_value.duckdb`` ->
    ``warehouse/customer_value_serving.duckdb``).
    """
    explicit = os.environ.get("CV_SERVING_PATH")
    if explicit:
        return Path(explicit)
    path = Path(warehouse)
    suffix = path.suffix or ".duckdb"
    return path.with_name(f"{path.stem}_serving{suffix}")


def lock_path(warehouse: str | os.PathLike[str]) -> Path:
    """Return the lock file of the working warehouse ``warehouse``."""
    return Path(f"{os.fspath(warehouse)}{_LOCK_SUFFIX}")


def replace_file(source: str, target: str) -> str:
    """Put ``source`` in place of ``target`` atomically; return ``target``.

    ``os.replace`` is one ``rename``: a process opening ``target`` finds the
    old file or the new one. The directory is synced so that the rename
    survives a crash of the machine. A DuckDB file's ``.wal`` beside
    ``source`` would be replayed into the wrong file: it must not exist
    (a detached, checkpointed database leaves none), and raises if it does.
    """
    wal = Path(f"{source}.wal")
    if wal.exists():
        raise FileExistsError(f"{wal} exists: checkpoint and detach before publishing")
    os.replace(source, target)
    directory = os.open(Path(target).resolve().parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return target


def remove_stale_temp_files(target: str) -> int:
    """Delete the temporary files left beside ``target`` by killed runs.

    Removes ``<target>.tmp-*`` (and their ``.wal``); safe while the build
    lock is held, since only the build that holds it writes them. Returns how
    many files were removed.
    """
    removed = 0
    for name in glob.glob(glob.escape(target) + TEMP_MARK + "*"):
        try:
            os.remove(name)
            removed += 1
        except FileNotFoundError:
            pass
    return removed


class BuildLock:
    """An exclusive lock on the working warehouse.

    Held until :meth:`release` or the end of the process.

    Parameters
    ----------
    warehouse : path
        The working DuckDB file. The lock is the file :func:`lock_path`
        names; it records the holder (process id, host, command, start).
    wait_seconds : float
        How long to wait for another holder to finish before refusing
        (0: refuse at once).

    Raises
    ------
    BuildLockedError
        When another process still holds the lock after ``wait_seconds``;
        the message names it and says what to do.
    """

    def __init__(self, warehouse: str | os.PathLike[str], wait_seconds: float = 0.0):
        self.path = lock_path(warehouse)
        self.warehouse = Path(warehouse)
        self._file: IO[str] | None = None
        self._acquire(float(wait_seconds))

    def _acquire(self, wait_seconds: float) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held
        deadline = time.monotonic() + max(wait_seconds, 0.0)
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    handle.close()
                    raise
                if time.monotonic() >= deadline:
                    holder = _describe_holder(self.path)
                    handle.close()
                    raise BuildLockedError(
                        f"customer_value: {holder} is using the warehouse "
                        f"{self.warehouse}; wait for it to finish, or set "
                        "CV_BUILD_LOCK_WAIT_SECONDS to wait for it (lock file "
                        f"{self.path})."
                    ) from None
                time.sleep(_POLL_SECONDS)
        handle.seek(0)
        handle.truncate()
        handle.write(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:200],
                    "started_at": dt.datetime.now(dt.UTC).strftime(
                        "%Y-%m-%d %H:%M:%S UTC"
                    ),
                }
            )
        )
        handle.flush()
        self._file = handle

    def release(self) -> None:
        """Release the lock (it is also released when the process ends)."""
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def check_no_reader(warehouse: str | os.PathLike[str]) -> None:
    """Refuse, with the project's message, when a process holds ``warehouse``.

    DuckDB locks its file with a POSIX record lock, a writer's or a reader's;
    a BI tool that opened the working warehouse instead of the serving
    snapshot would make the build fail with DuckDB's ``Could not set lock
    on file`` and a traceback. Asked before DuckDB opens the file (a record
    lock taken and dropped here would also drop DuckDB's own).

    Raises
    ------
    BuildLockedError
        Naming the process (where the system tells it) and the snapshot
        that readers should open instead.
    """
    path = Path(warehouse)
    if not path.exists():
        return
    with open(path, "rb") as handle:
        probe = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        try:
            answer = fcntl.fcntl(handle.fileno(), fcntl.F_GETLK, probe + b"\0" * 4)
            kind, _, _, _, pid = struct.unpack("hhqqi", answer[: len(probe)])
        except OSError:  # the system cannot say: let DuckDB find out
            return
    if kind != fcntl.F_UNLCK:
        raise BuildLockedError(
            f"customer_value: process {pid} has the working warehouse {path} "
            "open, so the build cannot write it. BI tools and other readers "
            f"should open the serving snapshot {serving_path(path)} instead; "
            "close that connection and run again."
        )


def _describe_holder(path: Path) -> str:
    """Who holds the lock, from what it wrote in the lock file."""
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
        return (
            f"another process ({holder['command']}, pid {holder['pid']} on "
            f"{holder['host']}, started {holder['started_at']})"
        )
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"
