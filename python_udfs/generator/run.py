"""The block loop of :func:`generate` and the content of ``params.json``."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from python_udfs.generator.config import (
    _BLOCK_CUSTOMERS,
    _CLEAN,
    _DEFAULT_CHUNK_CUSTOMERS,
    _HOME_STORE_SHARE,
    _LINES_POISSON_MEAN,
    DIRTY_KINDS,
    FORMATS,
    GENERATOR_VERSION,
    GeneratorConfig,
    _Context,
    _parse_day,
    expected_mean_order_value,
)
from python_udfs.generator.events import _EVENT_TYPES
from python_udfs.generator.simulate import _simulate_block
from python_udfs.generator.write import (
    _EVENTS_DICTIONARY,
    _EVENTS_SCHEMA,
    _LINES_DICTIONARY,
    _BackgroundWriter,
    _events_table,
    _file_name,
    _order_lines_schema,
    _order_lines_table,
    _TableSink,
)

__all__ = ["generate"]


def generate(
    out_dir: str | os.PathLike[str],
    *,
    customers: int | None = None,
    lines: int | None = None,
    fmt: str = "parquet",
    config: GeneratorConfig | None = None,
    events: bool = False,
    chunk_customers: int = _DEFAULT_CHUNK_CUSTOMERS,
) -> dict[str, Any]:
    """Write synthetic order lines (and optionally events) to ``out_dir``.

    Parameters
    ----------
    out_dir : path-like
        Output directory, created if needed. Existing output files are
        replaced.
    customers : int, optional
        Number of customers to generate. Exclusive with ``lines``; when both
        are None, 10,000 customers.
    lines : int, optional
        Generate customers until at least this many rows (sales, returns and
        dirty rows) are written, stopping after the customer that reaches it.
    fmt : {"parquet", "csv", "csv.gz"}
        Output format.
    config : GeneratorConfig, optional
        Seed and story parameters; defaults to ``GeneratorConfig()``.
    events : bool
        Also write ``events.<fmt>`` in the REES46 behaviour layout.
    chunk_customers : int
        Customers per write (and per Parquet row group). Tuning knob only:
        it never changes the data.

    Returns
    -------
    dict
        The content written to ``params.json`` (parameters and exact counts).
    """
    config = config or GeneratorConfig()
    config.validate()
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    if customers is not None and lines is not None:
        raise ValueError("give customers or lines, not both")
    if customers is None and lines is None:
        customers = 10_000
    if customers is not None and customers < 1:
        raise ValueError("customers must be >= 1")
    if lines is not None and lines < 1:
        raise ValueError("lines must be >= 1")
    if chunk_customers < 1:
        raise ValueError("chunk_customers must be >= 1")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    typed = fmt == "parquet"
    ctx = _Context(
        config=config,
        start_day=_parse_day(config.start),
        end_day=_parse_day(config.end),
        dirty_cdf=np.cumsum(config.dirty_share_vector()),
        typed_timestamps=typed,
        events=events,
    )
    lines_path = out / _file_name("order_lines", fmt)
    events_path = out / _file_name("events", fmt) if events else None
    sinks = [_TableSink(lines_path, _order_lines_schema(typed), fmt, _LINES_DICTIONARY)]
    if events_path is not None:
        sinks.append(_TableSink(events_path, _EVENTS_SCHEMA, fmt, _EVENTS_DICTIONARY))
    writer = _BackgroundWriter()

    counts = {
        "n_customers": 0,
        "n_orders": 0,
        "lines_written": 0,
        "sales_lines": 0,
        "return_lines": 0,
    }
    dirty_counts = np.zeros(len(DIRTY_KINDS), dtype=np.int64)
    event_counts = np.zeros(len(_EVENT_TYPES), dtype=np.int64)
    n_sessions = 0
    pending: list[pa.Table] = []  # order lines of the current chunk
    pending_customers = 0
    next_order = 1
    try:
        for block_index in itertools.count():
            block = _simulate_block(ctx, block_index, next_order)
            next_order += int(block.orders_per_customer.sum())
            keep, done = block.n_customers, False
            if customers is not None:
                keep = min(keep, customers - block.first_customer)
                done = block.first_customer + keep >= customers
            else:
                reached = counts["lines_written"] + np.cumsum(block.rows_per_customer)
                crossing = int(np.searchsorted(reached, lines, side="left"))
                if crossing < block.n_customers:
                    keep, done = crossing + 1, True
            block = block.head(keep)

            clean = block.kind == _CLEAN
            counts["n_customers"] += keep
            counts["n_orders"] += int(block.orders_per_customer.sum())
            counts["lines_written"] += int(block.kind.size)
            counts["sales_lines"] += int(np.count_nonzero(clean & ~block.is_return))
            counts["return_lines"] += int(np.count_nonzero(clean & block.is_return))
            dirty_counts += np.bincount(block.kind[~clean], minlength=len(DIRTY_KINDS))
            jobs: list[tuple[_TableSink, pa.Table]] = []
            if block.events is not None:
                # Events are ~5x the lines: one row group per block.
                event_counts += np.bincount(
                    block.events.event_type, minlength=len(_EVENT_TYPES)
                )
                n_sessions += int(block.events.sessions_per_customer.sum())
                jobs.append(
                    (sinks[1], _events_table(block.events, block.first_customer))
                )
            pending.append(_order_lines_table(block, typed))
            pending_customers += keep
            if done or pending_customers >= chunk_customers:
                jobs.insert(0, (sinks[0], pa.concat_tables(pending)))
                pending, pending_customers = [], 0
            writer.submit(jobs)
            if done:
                break
        writer.close()
    except BaseException:
        writer.close()
        for sink in sinks:
            sink.abort()
        raise
    for sink in sinks:
        sink.close()

    params = _params(
        config,
        fmt=fmt,
        requested={"customers": customers, "lines": lines},
        counts=counts,
        dirty_counts=dirty_counts,
        files={
            "order_lines": lines_path.name,
            "events": None if events_path is None else events_path.name,
        },
        events=None
        if events_path is None
        else {
            "events_written": int(event_counts.sum()),
            "by_type": {
                name: int(count)
                for name, count in zip(_EVENT_TYPES, event_counts, strict=True)
            },
            "sessions": n_sessions,
            "purchase_rule": "one purchase event per unit sold (clean sale lines)",
            "browse_sessions_per_customer": config.browse_sessions,
        },
    )
    partial = out / "params.json.partial"
    partial.write_text(json.dumps(params, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, out / "params.json")
    return params


def _params(
    config: GeneratorConfig,
    *,
    fmt: str,
    requested: dict[str, int | None],
    counts: dict[str, int],
    dirty_counts: np.ndarray,
    files: dict[str, str | None],
    events: dict[str, Any] | None,
) -> dict[str, Any]:
    """Content of ``params.json``."""
    dirty = {
        name: int(count) for name, count in zip(DIRTY_KINDS, dirty_counts, strict=True)
    }
    total = counts["sales_lines"] + counts["return_lines"] + sum(dirty.values())
    if total != counts["lines_written"]:  # pragma: no cover - internal invariant
        raise AssertionError("row counts do not add up")
    mean = expected_mean_order_value(config.p, config.q, config.v)
    return {
        "generator": "python_udfs.generator",
        "generator_version": GENERATOR_VERSION,
        "numpy_version": np.__version__,
        "format": fmt,
        "files": files,
        "seed": int(config.seed),
        "time_unit": "days",
        "start": config.start,
        "end": config.end,
        "parameters": {
            "bgnbd": {
                "r": config.r,
                "alpha": config.alpha,
                "a": config.a,
                "b": config.b,
            },
            "gamma_gamma": {"p": config.p, "q": config.q, "v": config.v},
            "lines_per_order": f"1 + Poisson({_LINES_POISSON_MEAN})",
            "return_share": config.return_share,
            "home_store_share": _HOME_STORE_SHARE,
            "block_customers": _BLOCK_CUSTOMERS,
        },
        "expected_mean_order_value": None if np.isinf(mean) else round(mean, 6),
        "requested": requested,
        **counts,
        "dirty_share": {k: float(config.dirty_shares.get(k, 0.0)) for k in DIRTY_KINDS},
        "dirty_counts": dirty,
        "dirty_lines": int(sum(dirty.values())),
        "unparseable_timestamp_written_as": "NULL (counted as missing_timestamp)"
        if fmt == "parquet"
        else "garbage text",
        "events": events,
    }
