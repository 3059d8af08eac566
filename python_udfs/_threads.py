"""Pin the native math libraries of the dbt process to one thread.

The clustering scores and the CLV fits each limit BLAS (and OpenMP) to one
thread while they run, with a threadpoolctl context that restores the
number it found: one thread is faster on these small operations and makes
the results reproducible (a multi-threaded BLAS sums in another order, so
distances and scores differ in their last bits). But dbt runs two Python
models at once in one interpreter, and the limits are process-wide: when
the CLV fit's context ended while the clustering was computing, it gave the
clustering back the two threads it had found, and the clustering
diagnostics of a build came out different in their last bits now and then
(a mart checksum test caught it). OpenBLAS moreover takes a new thread
count only from the thread that set the last one, so limits set and
restored from different threads cannot be shared either.

:func:`pin_one_native_thread` sets one thread for the rest of the process;
the functions the dbt Python models call (``fit_clv_params_from_config``,
``choose_k_table``, ``cluster_with_chosen_k``) call it first, so every
context entered after it finds one thread and restores one thread.
"""

from __future__ import annotations

__all__ = ["pin_one_native_thread"]


def pin_one_native_thread() -> None:
    """Limit BLAS and OpenMP to one thread for the rest of the process.

    Applies to the libraries loaded by then; cheap to call again (it also
    limits libraries loaded since).
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
