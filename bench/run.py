"""Benchmark the project (dbt) against pandas and a DuckDB floor.

Usage::

    python -m bench.run --sizes 1M,10M --repeats 3
    python -m bench.run --sizes 100M --repeats 1 --stages dbt,duckdb
    python -m bench.run --sizes 100M --events      # REES46-scale clickstream

For every size the input is generated once with the project's generator and
cached under ``--cache``; then, ``--repeats`` times, each tool of
``--stages`` runs in its own subprocess (interleaved, so machine noise hits
all of them alike) with a time limit and a memory limit on the RSS of its
process tree. A failure, timeout or out-of-memory kill is recorded and the
benchmark goes on. Results: ``<out>/<date>-<sizes>.md`` and ``.json`` (raw
numbers), and ``<out>/latest.md``; logs of failed runs in
``<out>/logs/``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import data, report
from bench.common import count_label, parse_bytes, parse_count, write_json
from bench.project import run_dbt_build
from bench.reference import run_reference

REPO = Path(__file__).resolve().parents[1]
_ALIASES = {
    "dbt": "dbt",
    "project": "dbt",
    "pandas": "pandas",
    "duckdb": "duckdb",
    "floor": "duckdb",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Benchmark dbt build vs pandas vs a hand-written DuckDB floor.",
    )
    parser.add_argument(
        "--sizes",
        default="1M,10M",
        help="comma-separated input sizes: order lines, or events with --events "
        "(e.g. 100k,1M,10M; default 1M,10M)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per tool (3)")
    parser.add_argument(
        "--stages",
        default="dbt,pandas,duckdb",
        help="tools to run: dbt (project), pandas, duckdb (floor)",
    )
    parser.add_argument("--out", default="bench/results/", help="results directory")
    parser.add_argument(
        "--cache", default="bench/cache/", help="generated data cache (gitignored)"
    )
    parser.add_argument(
        "--events",
        action="store_true",
        help="benchmark the events (REES46 clickstream) input instead of order "
        "lines; sizes count events",
    )
    parser.add_argument("--seed", type=int, default=42, help="generator seed (42)")
    parser.add_argument(
        "--story",
        action="append",
        metavar="KEY=VALUE",
        help="generator model parameter other than the default (repeatable; "
        "r, alpha, a, b, p, q, v), e.g. alpha=25 for about twice the customers "
        "per order line; the data is cached under its own name",
    )
    parser.add_argument(
        "--duckdb-memory-limit",
        default="6GB",
        help="DuckDB memory_limit for dbt (CV_DUCKDB_MEMORY_LIMIT) and the floor (6GB)",
    )
    parser.add_argument(
        "--memory-limit",
        default="20GB",
        help="kill a run whose process tree RSS exceeds this (20GB)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=1800,
        help="seconds per pandas / floor run before it is killed (1800)",
    )
    parser.add_argument(
        "--dbt-timeout",
        type=float,
        default=7200,
        help="seconds per dbt build before it is killed (7200)",
    )
    parser.add_argument(
        "--generate-timeout",
        type=float,
        default=3600,
        help="seconds allowed to generate one dataset (3600)",
    )
    parser.add_argument(
        "--dbt-threads",
        type=int,
        default=None,
        help="CV_THREADS for dbt (default: the profile's, 2)",
    )
    parser.add_argument(
        "--cold-parse",
        action="store_true",
        help="time dbt build from a cold parse (default: parse first, untimed, "
        "as a scheduler's second and later runs do)",
    )
    parser.add_argument(
        "--unit-tests",
        action="store_true",
        help="include dbt unit tests in the timed build (default: excluded, "
        "as in production; CI runs them)",
    )
    parser.add_argument(
        "--tmp",
        default=None,
        help="scratch directory for warehouses and spill files (system temp)",
    )
    parser.add_argument(
        "--label", default=None, help="file name label (default: the sizes)"
    )
    return parser


def _stages(text: str) -> list[str]:
    tools = []
    for item in filter(None, (s.strip().lower() for s in text.split(","))):
        if item not in _ALIASES:
            raise SystemExit(f"unknown stage {item!r}; use dbt, pandas, duckdb")
        if _ALIASES[item] not in tools:
            tools.append(_ALIASES[item])
    if not tools:
        raise SystemExit("--stages is empty")
    return tools


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", flush=True)


def _describe(record: dict[str, Any]) -> str:
    text = (
        f"{record['status']} in {record['wall_seconds']:.1f} s, "
        f"peak {record['peak_rss'] / 1e6:,.0f} MB"
    )
    if record["status"] != "ok":
        text += f" ({record['message']})"
    return text


def _write(results: dict[str, Any], out: Path, base: str) -> Path:
    for block in results["sizes"]:
        if block.get("runs"):
            block["summary"] = report.aggregate(block)
    write_json(out / f"{base}.json", results)
    markdown = report.render(results)
    md_path = out / f"{base}.md"
    md_path.write_text(markdown)
    (out / "latest.md").write_text(markdown)
    return md_path


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sizes = [parse_count(s) for s in args.sizes.split(",") if s.strip()]
    if not sizes:
        raise SystemExit("--sizes is empty")
    if args.repeats < 1:
        raise SystemExit("--repeats must be >= 1")
    tools = _stages(args.stages)
    try:
        story = data.parse_story(args.story)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    memory_limit = parse_bytes(args.memory_limit)
    out = Path(args.out).resolve()
    cache = Path(args.cache).resolve()
    out.mkdir(parents=True, exist_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="cv-bench-", dir=args.tmp))
    input_format = "events" if args.events else "transactions"
    created = report.now_iso()
    label = args.label or report.label_for(sizes, args.events) + data.story_suffix(
        story
    )
    base = f"{created[:10]}-{label}"
    logs = out / "logs" / base

    results: dict[str, Any] = {
        "benchmark": "customer_value",
        "created": created,
        "command": "python -m bench.run "
        + " ".join(
            shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])
        ),
        "settings": {
            "sizes": sizes,
            "repeats": args.repeats,
            "tools": tools,
            "input_format": input_format,
            "seed": args.seed,
            "story": story,
            "duckdb_memory_limit": args.duckdb_memory_limit,
            "memory_limit_bytes": memory_limit,
            "memory_limit_gb": memory_limit / 1e9,
            "timeout": args.timeout,
            "dbt_timeout": args.dbt_timeout,
            "dbt_threads": args.dbt_threads,
            "cold_parse": args.cold_parse,
            "unit_tests": args.unit_tests,
            "sample_interval_s": 0.05,
        },
        "machine": report.machine_info(REPO),
        "loadavg_start": _loadavg(),
        "sizes": [],
    }
    _say(f"sizes {', '.join(count_label(s) for s in sizes)}; tools {', '.join(tools)}")
    try:
        for size in sizes:
            block: dict[str, Any] = {
                "label": count_label(size),
                "size": size,
                "kind": "events" if args.events else "lines",
                "runs": [],
            }
            results["sizes"].append(block)
            try:
                make = data.events if args.events else data.order_lines
                dataset = make(cache, size, args.seed, args.generate_timeout, story)
            except Exception as exc:  # recorded; next size
                block["dataset_error"] = f"{type(exc).__name__}: {exc}"
                _say(f"{block['label']}: data generation failed: {exc}")
                _write(results, out, base)
                continue
            block["dataset"] = dataset.summary()
            _say(
                f"{block['label']}: {dataset.path} ({dataset.rows:,} rows, "
                f"{'cached' if dataset.generated_seconds is None else 'generated'})"
            )
            for repeat in range(1, args.repeats + 1):
                for tool in tools:
                    workdir = scratch / f"{block['label']}-{tool}-{repeat}"
                    log_path = scratch / f"{block['label']}-{tool}-{repeat}.log"
                    load = _loadavg()
                    try:
                        if tool == "dbt":
                            record = run_dbt_build(
                                repo=REPO,
                                input_path=dataset.path.resolve(),
                                input_format=input_format,
                                workdir=workdir,
                                log_path=log_path,
                                timeout=args.dbt_timeout,
                                memory_limit=memory_limit,
                                duckdb_memory_limit=args.duckdb_memory_limit,
                                threads=args.dbt_threads,
                                cold_parse=args.cold_parse,
                                unit_tests=args.unit_tests,
                            )
                        else:
                            record = run_reference(
                                tool,
                                repo=REPO,
                                input_path=dataset.path.resolve(),
                                input_format=input_format,
                                workdir=workdir,
                                log_path=log_path,
                                timeout=args.timeout,
                                memory_limit=memory_limit,
                                duckdb_memory_limit=args.duckdb_memory_limit,
                            )
                    except Exception as exc:  # harness error: record, go on
                        record = {
                            "tool": tool,
                            "status": "failed",
                            "message": f"harness error: {type(exc).__name__}: {exc}",
                            "returncode": None,
                            "wall_seconds": 0.0,
                            "peak_rss": 0,
                        }
                    record["repeat"] = repeat
                    record["loadavg_before"] = load
                    if record["status"] != "ok" and log_path.exists():
                        logs.mkdir(parents=True, exist_ok=True)
                        kept = logs / log_path.name
                        shutil.copy(log_path, kept)
                        record["log"] = str(kept)
                    log_path.unlink(missing_ok=True)
                    if record["status"] == "ok":
                        record.pop("log", None)
                    block["runs"].append(record)
                    _say(
                        f"{block['label']} {tool} run {repeat}/{args.repeats}: "
                        + _describe(record)
                    )
            results["loadavg_end"] = _loadavg()
            md_path = _write(results, out, base)
    except KeyboardInterrupt:
        _say("interrupted: writing what was measured")
        results["interrupted"] = True
    finally:
        results["loadavg_end"] = _loadavg()
        md_path = _write(results, out, base)
        shutil.rmtree(scratch, ignore_errors=True)
    _say(f"report: {md_path} (and {out / 'latest.md'}, {md_path.with_suffix('.json')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
