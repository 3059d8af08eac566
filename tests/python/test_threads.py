"""python_udfs._threads: with the process pinned to one native thread, a
model's limit ending never gives another model running at the same time
two BLAS threads (dbt runs two Python models at once in one process)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

_OVERLAP = textwrap.dedent(
    """
    import sys, threading
    import numpy, scipy.optimize, sklearn.cluster  # the libraries to limit
    from threadpoolctl import threadpool_info, threadpool_limits
    from python_udfs._threads import pin_one_native_thread

    if not any(p["user_api"] == "blas" for p in threadpool_info()):
        print("no-blas"); sys.exit()
    if sys.argv[1] == "pinned":
        pin_one_native_thread()
    entered, left = threading.Event(), threading.Event()
    seen = []

    def clv_fit():  # a short limited section that ends first
        with threadpool_limits(limits=1, user_api="blas"):
            entered.set()
            left.wait()

    def clustering():  # a long one that is still computing then
        entered.wait()
        with threadpool_limits(limits=1):
            left.set()
            clv.join()
            seen.extend(
                p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"
            )

    clv = threading.Thread(target=clv_fit)
    other = threading.Thread(target=clustering)
    clv.start(); other.start(); other.join()
    print(sorted(set(seen)))
    """
)


def _blas_threads_seen(mode: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _OVERLAP, mode],
        capture_output=True,
        text=True,
        check=True,
        env={"OPENBLAS_NUM_THREADS": "2", "PATH": "/usr/bin:/bin"},
    )
    if done.stdout.strip() == "no-blas":
        pytest.skip("no BLAS library that threadpoolctl can limit")
    return done.stdout.strip()


def test_a_pinned_process_keeps_one_blas_thread_when_limits_overlap():
    assert _blas_threads_seen("pinned") == "[1]"


def test_without_the_pin_the_first_limit_to_end_gives_threads_back():
    # What happened in builds before the pin: the clustering computed with
    # the two BLAS threads the CLV fit's limit restored.
    assert _blas_threads_seen("unpinned") != "[1]"
