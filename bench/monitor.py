"""Run a command in a subprocess; sample the RSS of its process tree.

The tree's resident memory (the process and all its descendants, summed) is
sampled every ``interval`` seconds (default 50 ms). The run is killed (its
whole process group) when it exceeds ``timeout`` seconds or ``memory_limit``
bytes of RSS, and the outcome says which. Samples are kept so the harness can
attribute peaks to steps.

Uses ``psutil`` when installed, else reads ``/proc`` (Linux).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

try:
    import psutil
except ImportError:  # pragma: no cover - exercised only without psutil
    psutil = None

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass
class RunOutcome:
    """What happened to one monitored subprocess."""

    status: str  # ok | failed | timeout | oom
    returncode: int | None
    launched_at: float  # time.time() just before the launch
    wall_seconds: float
    peak_rss: int  # bytes, max over samples of the tree's summed RSS
    message: str = ""
    samples: list[tuple[float, int]] = field(default_factory=list, repr=False)

    def peak_between(self, start: float, end: float) -> int | None:
        """Peak sampled RSS in ``[start, end]`` (the next sample if none)."""
        inside = [rss for t, rss in self.samples if start <= t <= end]
        if inside:
            return max(inside)
        after = [rss for t, rss in self.samples if t >= start]
        return after[0] if after else None


def _tree_rss_psutil(root: psutil.Process) -> int:
    total = 0
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            pass
    return total


def _tree_rss_proc(pid: int) -> int:
    """Summed RSS of ``pid`` and its descendants from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read().decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = int(fields[21]) * _PAGE
    tree, frontier = {pid}, [pid]
    while frontier:
        current = frontier.pop()
        for child, parent in parents.items():
            if parent == current and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(rss.get(p, 0) for p in tree)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def run_monitored(
    cmd: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float,
    memory_limit: int | None,
    log_path: str | os.PathLike[str],
    interval: float = 0.05,
) -> RunOutcome:
    """Run ``cmd`` (stdout+stderr to ``log_path``) under the limits."""
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    samples: list[tuple[float, int]] = []
    killed_for = ""
    with open(log_path, "wb") as log:
        launched_at = time.time()
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # own process group: killable as a tree
        )
        root = psutil.Process(proc.pid) if psutil is not None else None
        stop = threading.Event()

        def sample() -> None:
            nonlocal killed_for
            while not stop.is_set():
                rss = (
                    _tree_rss_psutil(root)
                    if root is not None
                    else _tree_rss_proc(proc.pid)
                )
                samples.append((time.time(), rss))
                if memory_limit and rss > memory_limit and not killed_for:
                    killed_for = "oom"
                    _kill_group(proc)
                stop.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            if not killed_for:
                killed_for = "timeout"
            _kill_group(proc)
            returncode = proc.wait()
        except BaseException:  # e.g. Ctrl-C: do not leave the child running
            _kill_group(proc)
            proc.wait()
            raise
        finally:
            stop.set()
            sampler.join()
        wall = time.perf_counter() - start
    peak = max((rss for _, rss in samples), default=0)
    if killed_for == "oom":
        status = "oom"
        message = (
            f"killed: process tree RSS above the limit of {memory_limit / 1e9:.1f} GB"
        )
    elif killed_for == "timeout":
        status, message = "timeout", f"killed: over the time limit of {timeout:.0f} s"
    elif returncode == 0:
        status, message = "ok", ""
    else:
        tail = _tail(log_path)
        if returncode == -signal.SIGKILL or "MemoryError" in tail:
            status = "oom"
            message = (
                f"out of memory (exit {returncode}; kernel OOM killer or MemoryError)"
            )
        else:
            status, message = "failed", f"exit code {returncode}"
    return RunOutcome(status, returncode, launched_at, wall, peak, message, samples)


def _tail(path: Path, size: int = 20_000) -> str:
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - size))
        return handle.read().decode(errors="replace")


def tail_text(path: str | os.PathLike[str], lines: int = 30) -> str:
    """Last ``lines`` lines of a log file (for failure messages)."""
    return "\n".join(_tail(Path(path)).splitlines()[-lines:])
