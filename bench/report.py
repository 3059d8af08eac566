"""Aggregate benchmark runs (medians) and render the Markdown report."""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.common import GROUP_TITLES, GROUPS, STEP_GROUPS, count_label

TOOLS = ("dbt", "pandas", "duckdb")
TOOL_TITLES = {"dbt": "project (dbt)", "pandas": "pandas", "duckdb": "DuckDB floor"}
USABLE = ("ok", "test_failures")
_PACKAGES = (
    "duckdb",
    "pandas",
    "numpy",
    "pyarrow",
    "scikit-learn",
    "scipy",
    "lifetimes",
    "dbt-core",
    "dbt-duckdb",
    "psutil",
)


# --- machine ---------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _git_commit(repo: Path) -> str | None:
    """HEAD commit read from .git files (git itself is not run)."""
    try:
        head = (repo / ".git" / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head[:12]
        ref = head[5:]
        ref_file = repo / ".git" / ref
        if ref_file.exists():
            return ref_file.read_text().strip()[:12]
        packed = repo / ".git" / "packed-refs"
        if packed.exists():
            for line in packed.read_text().splitlines():
                if line.endswith(" " + ref):
                    return line.split()[0][:12]
    except OSError:
        pass
    return None


def machine_info(repo: Path) -> dict[str, Any]:
    """CPU, cores, RAM, OS and package versions."""
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    try:
        usable_cores = len(os.sched_getaffinity(0))
    except AttributeError:
        usable_cores = os.cpu_count()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable_cores,
        "ram_bytes": _ram_bytes(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "git_commit": _git_commit(repo),
    }


# --- aggregation -----------------------------------------------------------


def run_groups(run: dict[str, Any]) -> dict[str, tuple[float | None, int | None]]:
    """(seconds, peak RSS) per report group for one run; ``total`` included."""
    out: dict[str, tuple[float | None, int | None]] = {}
    if run["tool"] == "dbt":
        stages = run.get("stages") or {}
        for group, stage in stages.items():
            out[group] = (stage["seconds"], stage.get("peak_rss"))
        if run.get("startup_seconds") is not None:
            out["startup"] = (run["startup_seconds"], run.get("startup_peak_rss"))
        if run.get("parse_seconds") is not None:
            out["parse"] = (run["parse_seconds"], None)
        if run.get("teardown_seconds") is not None:
            seconds, peak = out.get("other", (0.0, None))
            out["other"] = ((seconds or 0.0) + run["teardown_seconds"], peak)
    else:
        if run.get("startup_seconds") is not None:
            out["startup"] = (run["startup_seconds"], run.get("startup_peak_rss"))
        for step in run.get("steps") or []:
            group = STEP_GROUPS.get(step["name"], "other")
            seconds, peak = out.get(group, (0.0, None))
            peaks = [p for p in (peak, step.get("peak_rss")) if p is not None]
            out[group] = (seconds + step["seconds"], max(peaks) if peaks else None)
    out["total"] = (run["wall_seconds"], run.get("peak_rss"))
    return out


def _median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def aggregate(block: dict[str, Any]) -> dict[str, Any]:
    """Medians of times and max of peaks per tool and group for one size."""
    summary: dict[str, Any] = {}
    for tool in TOOLS:
        runs = [r for r in block["runs"] if r["tool"] == tool]
        if not runs:
            continue
        usable = [r for r in runs if r["status"] in USABLE]
        groups: dict[str, dict[str, Any]] = {}
        per_run = [run_groups(r) for r in usable]
        for group in (*GROUPS, "total"):
            times = [g[group][0] for g in per_run if group in g]
            peaks = [g[group][1] for g in per_run if group in g and g[group][1]]
            if times:
                groups[group] = {
                    "seconds": _median(times),
                    "peak_rss": max(peaks) if peaks else None,
                    "n": len(times),
                }
        steps: dict[str, list[float]] = {}
        for run in usable:
            for step in run.get("steps") or []:
                steps.setdefault(step["name"], []).append(step["seconds"])
        models: dict[str, dict[str, Any]] = {}
        for run in usable:
            for node in run.get("nodes") or []:
                if node["kind"] in ("test", "unit_test"):
                    key = "data tests" if node["kind"] == "test" else "unit tests"
                else:
                    key = node["name"]
                entry = models.setdefault(
                    key,
                    {"stage": node["stage"], "kind": node["kind"], "runs": {}},
                )
                entry["runs"].setdefault(id(run), [0.0, 0])
                entry["runs"][id(run)][0] += node["seconds"]
                entry["runs"][id(run)][1] += 1
        model_medians = {
            name: {
                "stage": entry["stage"],
                "kind": entry["kind"],
                "seconds": _median([v[0] for v in entry["runs"].values()]),
                "count": max(v[1] for v in entry["runs"].values()),
                "n": len(entry["runs"]),
            }
            for name, entry in models.items()
        }
        failures = [
            {"repeat": r.get("repeat"), "status": r["status"], "message": r["message"]}
            for r in runs
            if r["status"] not in ("ok",)
        ]
        summary[tool] = {
            "runs": len(runs),
            "usable": len(usable),
            "groups": groups,
            "steps": {name: _median(v) for name, v in steps.items()},
            "models": model_medians,
            "failures": failures,
            "checks": next((r["checks"] for r in usable if r.get("checks")), None),
        }
    return summary


# --- rendering ---------------------------------------------------------------


def _s(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 10:
        return f"{seconds:.2f}"
    if seconds < 100:
        return f"{seconds:.1f}"
    return f"{seconds:,.0f}"


def _mb(value: int | None) -> str:
    return "–" if not value else f"{value / 1e6:,.0f}"


def _ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or denominator is None or denominator < 0.005:
        return "–"
    ratio = numerator / denominator
    if ratio < 1:
        return f"{ratio:.2f}x"
    return f"{ratio:.1f}x" if ratio < 100 else f"{ratio:,.0f}x"


def _failure_cell(
    tool: str, tool_summary: dict[str, Any] | None, settings: dict
) -> str:
    if tool_summary is None:
        return "not run"
    statuses = {f["status"] for f in tool_summary["failures"]}
    if "oom" in statuses:
        return f"OOM (limit {settings['memory_limit_gb']:g} GB)"
    if "timeout" in statuses:
        limit = settings["dbt_timeout"] if tool == "dbt" else settings["timeout"]
        return f"timeout (> {limit:.0f} s)"
    return "failed"


def _size_title(block: dict[str, Any]) -> str:
    dataset = block.get("dataset") or {}
    if block["kind"] == "events":
        what = f"{block['label']} events"
        detail = (
            f"{dataset.get('events_written', 0):,} events, "
            f"{dataset.get('customers', 0):,} customers"
        )
    else:
        what = f"{block['label']} order lines"
        detail = (
            f"{dataset.get('lines_written', 0):,} lines, "
            f"{dataset.get('orders', 0):,} orders, "
            f"{dataset.get('customers', 0):,} customers"
        )
    if dataset.get("file_bytes"):
        detail += f", Parquet {dataset['file_bytes'] / 1e6:,.0f} MB"
    return f"{what} ({detail})"


def _main_table(block: dict[str, Any], summary: dict, settings: dict) -> list[str]:
    rows = [
        "| size | stage | project (dbt) s | pandas s | DuckDB floor s "
        "| pandas / project | project / floor "
        "| project peak MB | pandas peak MB | floor peak MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for group in (*GROUPS, "total"):
        cells = {}
        for tool in TOOLS:
            tool_summary = summary.get(tool)
            entry = (tool_summary or {}).get("groups", {}).get(group)
            cells[tool] = entry
        if all(cells[t] is None for t in TOOLS) and group != "total":
            continue
        times = {t: (cells[t] or {}).get("seconds") for t in TOOLS}
        peaks = {t: (cells[t] or {}).get("peak_rss") for t in TOOLS}
        shown = {}
        for tool in TOOLS:
            if cells[tool] is not None:
                shown[tool] = _s(times[tool])
            elif group == "total" or (summary.get(tool) or {}).get("usable") == 0:
                shown[tool] = (
                    _failure_cell(tool, summary.get(tool), settings)
                    if group == "total"
                    else "–"
                )
            else:
                shown[tool] = "–"
        title = GROUP_TITLES[group]
        if group == "total":
            title = f"**{title}**"
            shown = {t: f"**{v}**" if v[:1].isdigit() else v for t, v in shown.items()}
        rows.append(
            f"| {block['label']} | {title} | {shown['dbt']} | {shown['pandas']} "
            f"| {shown['duckdb']} | {_ratio(times['pandas'], times['dbt'])} "
            f"| {_ratio(times['dbt'], times['duckdb'])} | {_mb(peaks['dbt'])} "
            f"| {_mb(peaks['pandas'])} | {_mb(peaks['duckdb'])} |"
        )
    return rows


def _checks_table(summary: dict) -> list[str]:
    keys = (
        "clean_lines",
        "gross_revenue",
        "returns_amount",
        "net_revenue",
        "orders",
        "active_customer_months",
        "new_customers",
        "rfm_customers",
        "cluster_sizes",
        "clv_customers",
        "clv_total",
    )
    checks = {t: (summary.get(t) or {}).get("checks") or {} for t in TOOLS}
    if not any(checks.values()):
        return []
    rows = [
        "| total | project (dbt) | pandas | DuckDB floor |",
        "|---|---:|---:|---:|",
    ]

    def fmt(value: Any) -> str:
        if value is None:
            return "–"
        if isinstance(value, float):
            return f"{value:,.2f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    for key in keys:
        values = [checks[t].get(key) for t in TOOLS]
        if all(v is None for v in values):
            continue
        rows.append(f"| {key} | " + " | ".join(fmt(v) for v in values) + " |")
    for model in ("bgnbd", "gamma_gamma"):
        values = [checks[t].get(model) for t in TOOLS]
        if any(values):
            text = [
                ", ".join(f"{k}={v:.4g}" for k, v in v.items()) if v else "–"
                for v in values
            ]
            rows.append(f"| {model} params | " + " | ".join(text) + " |")
    return rows


def _models_table(summary: dict) -> list[str]:
    models = (summary.get("dbt") or {}).get("models") or {}
    if not models:
        return []
    order = {g: i for i, g in enumerate(GROUPS)}
    total = sum(m["seconds"] or 0 for m in models.values())
    rows = [
        "| stage | node | seconds | share of node time |",
        "|---|---|---:|---:|",
    ]
    for name, entry in sorted(
        models.items(),
        key=lambda kv: (order.get(kv[1]["stage"], 99), -kv[1]["seconds"]),
    ):
        label = (
            f"{name} ({entry['count']})"
            if entry["kind"] in ("test", "unit_test")
            else name
        )
        share = f"{100 * entry['seconds'] / total:.1f} %" if total else "–"
        rows.append(
            f"| {entry['stage']} | {label} | {_s(entry['seconds'])} | {share} |"
        )
    rows.append(f"| | **sum of node times** | **{_s(total)}** | |")
    return rows


def _steps_table(summary: dict) -> list[str]:
    names: list[str] = []
    for tool in ("pandas", "duckdb"):
        for name in (summary.get(tool) or {}).get("steps") or {}:
            if name not in names:
                names.append(name)
    if not names:
        return []
    order = list(STEP_GROUPS)
    names.sort(key=lambda n: order.index(n) if n in order else 99)
    rows = [
        "| step | group | pandas s | DuckDB floor s | pandas / floor |",
        "|---|---|---:|---:|---:|",
    ]
    for name in names:
        p = (summary.get("pandas") or {}).get("steps", {}).get(name)
        d = (summary.get("duckdb") or {}).get("steps", {}).get(name)
        rows.append(
            f"| {name} | {STEP_GROUPS.get(name, 'other')} | {_s(p)} | {_s(d)} "
            f"| {_ratio(p, d)} |"
        )
    return rows


#: The largest input whose run times count as the size-independent cost.
FIXED_COST_MAX_ROWS = 100_000


def _summary(block: dict[str, Any]) -> dict[str, Any]:
    """The block's aggregate: as stored by the harness, else computed."""
    return block.get("summary") or aggregate(block)


def _total(summary: dict, tool: str) -> float | None:
    entry = ((summary.get(tool) or {}).get("groups") or {}).get("total")
    return entry["seconds"] if entry else None


def _ratio_above(numerator: float | None, denominator: float | None) -> str:
    """The ratio of two times above the fixed cost: none when a tool did
    not run, and none when noise made either one zero or negative (a
    larger size measured no slower than the smallest)."""
    if numerator is None or denominator is None:
        return "–"
    if numerator <= 0 or denominator <= 0:
        return "– (noise)"
    return _ratio(numerator, denominator)


def _fixed_cost_table(results: dict[str, Any]) -> list[str]:
    """Each size's totals less those of the smallest size, when it is tiny.

    A build of a few thousand lines costs dbt what no amount of data
    changes (interpreter and imports, loading the project, each of ~110
    nodes' overhead, the Python models' library imports); the floor pays
    only its imports. Subtracting that run from the larger ones shows
    what the data costs each tool, and how much of a ratio is the fixed
    part.
    """
    blocks = [
        b for b in results["sizes"] if not b.get("dataset_error") and b.get("runs")
    ]
    if len(blocks) < 2:
        return []
    smallest = min(blocks, key=lambda b: b["size"])
    if smallest["size"] > FIXED_COST_MAX_ROWS:
        return []
    fixed = {t: _total(_summary(smallest), t) for t in TOOLS}
    if fixed["dbt"] is None:
        return []
    unit = "events" if smallest["kind"] == "events" else "lines"
    rows = [
        f"## Size-independent cost (the {smallest['label']} run)",
        "",
        f"At {smallest['label']} {unit} the project took {_s(fixed['dbt'])} s, "
        f"pandas {_s(fixed['pandas'])} s and the DuckDB floor "
        f"{_s(fixed['duckdb'])} s: what every run pays whatever its size. "
        "Below, each size's median totals and the same less that (\"above "
        'fixed"), with the ratios of what the data itself costs.',
        "",
        "| size | project s | pandas s | floor s | project above fixed s "
        "| pandas above fixed s | floor above fixed s "
        "| pandas / project above fixed | project / floor above fixed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for block in sorted(blocks, key=lambda b: b["size"]):
        if block is smallest:
            continue
        summary = _summary(block)
        totals = {t: _total(summary, t) for t in TOOLS}
        above = {
            t: totals[t] - fixed[t]
            if totals[t] is not None and fixed[t] is not None
            else None
            for t in TOOLS
        }
        rows.append(
            f"| {block['label']} | {_s(totals['dbt'])} | {_s(totals['pandas'])} "
            f"| {_s(totals['duckdb'])} | {_s(above['dbt'])} "
            f"| {_s(above['pandas'])} | {_s(above['duckdb'])} "
            f"| {_ratio_above(above['pandas'], above['dbt'])} "
            f"| {_ratio_above(above['dbt'], above['duckdb'])} |"
        )
    return rows + [""]


def render(results: dict[str, Any]) -> str:
    """The Markdown report."""
    machine = results["machine"]
    settings = results["settings"]
    packages = machine["packages"]
    ram = machine.get("ram_bytes")
    lines = [
        f"# customer_value benchmark, {results['created'][:10]}",
        "",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores "
        f"({machine['usable_cores']} usable), "
        f"{ram / 2**30:.1f} GiB RAM; {machine['os']}"
        if ram
        else f"- Machine: {machine['cpu']}, {machine['cores']} cores",
        f"- Python {machine['python']}, duckdb {packages.get('duckdb')}, pandas "
        f"{packages.get('pandas')}, numpy {packages.get('numpy')}, scikit-learn "
        f"{packages.get('scikit-learn')}, lifetimes {packages.get('lifetimes')}, "
        f"dbt-core {packages.get('dbt-core')}, dbt-duckdb {packages.get('dbt-duckdb')}",
        f"- Date: {results['created']}; commit {machine.get('git_commit') or 'unknown'}"
        " (working tree may differ)",
        f"- Command: `{results['command']}`",
        f"- Settings: {settings['repeats']} repeat(s), medians reported; DuckDB "
        f"memory_limit {settings['duckdb_memory_limit']} (dbt and floor); dbt "
        f"threads {settings['dbt_threads'] or 'profile default (2)'}, "
        f"{'cold' if settings.get('cold_parse') else 'warm (partial)'} parse, "
        f"unit tests {'included' if settings.get('unit_tests') else 'excluded'}; "
        "limits per "
        f"run: {settings['timeout']:.0f} s (dbt {settings['dbt_timeout']:.0f} s) "
        f"and {settings['memory_limit_gb']:g} GB RSS of the process tree; memory "
        "sampled every 50 ms.",
        *(
            [
                "- Generator story: the defaults but "
                + ", ".join(f"{k}={v:g}" for k, v in sorted(settings["story"].items()))
                + " (`--story`), so the customers per order line differ from the "
                "default runs'"
            ]
            if settings.get("story")
            else []
        ),
        f"- Load average at start / end: {results.get('loadavg_start')} / "
        f"{results.get('loadavg_end')} (shared machine: expect noise)",
        "",
        "How to read it: each column is one way of computing the same customer "
        "analytics from the same Parquet file, each run in a fresh subprocess. "
        "**project** is a full `dbt build` of this repository (every model and "
        "every data test) into a new DuckDB file, run as a nightly scheduler "
        "runs it: after a `dbt parse` (its time is shown, outside the total) "
        "and without the unit tests, which CI runs (`--cold-parse` and "
        "`--unit-tests` time those too); **pandas** is the classic notebook "
        "(`bench/pandas_pipeline.py`); **DuckDB floor** is the same steps as "
        "hand-written SQL in one process without dbt (`bench/duckdb_floor.py`). "
        "Times are wall seconds (median of n runs); peak MB is the highest "
        "resident memory of the whole process tree while that stage ran (max "
        "over runs). Project stage times are sums of dbt node times "
        "(`run_results.json`); dbt runs 2 threads, so they can overlap and do not "
        "add up to the total. Startup is launch to first step: interpreter and "
        "imports, plus loading the parsed project for dbt. Ratios are time over "
        "time: pandas / project below 1 means the notebook was faster; project / "
        "floor is what dbt and the project's extra work cost over bare DuckDB.",
        "",
        "The project does more than the other two: it also keeps every rejected "
        "row with a reason, builds cohorts, store and funnel marts, RFM segment "
        "transitions over 13 month ends, chooses k for clustering by silhouette "
        "over k = 3..8 (the others fit k = 4 once), and runs its data "
        "tests; see the per-model table for where its time goes. The totals "
        "table below each size checks that the three agree where they compute "
        "the same thing.",
        "",
    ]
    lines += _fixed_cost_table(results)
    for block in results["sizes"]:
        lines += [f"## {_size_title(block)}", ""]
        if block.get("dataset_error"):
            lines += [f"Data generation failed: {block['dataset_error']}", ""]
            continue
        summary = _summary(block)
        counts = ", ".join(
            f"{TOOL_TITLES[t]} {summary[t]['usable']}/{summary[t]['runs']}"
            for t in TOOLS
            if t in summary
        )
        lines += _main_table(block, summary, settings)
        lines += ["", f"n (usable runs / runs): {counts}.", ""]
        for tool in TOOLS:
            for failure in (summary.get(tool) or {}).get("failures", []):
                lines.append(
                    f"- {TOOL_TITLES[tool]} run {failure['repeat']}: "
                    f"{failure['status']}: {failure['message']}"
                )
        if any((summary.get(t) or {}).get("failures") for t in TOOLS):
            lines.append("")
        checks = _checks_table(summary)
        if checks:
            lines += ["### Totals (first usable run of each)", ""] + checks + [""]
        steps = _steps_table(summary)
        if steps:
            lines += ["### pandas and DuckDB floor by step (median s)", ""]
            lines += steps + [""]
        models = _models_table(summary)
        if models:
            lines += ["### dbt by node (median s)", ""] + models + [""]
    return "\n".join(lines).rstrip() + "\n"


def now_iso() -> str:
    """Local time, seconds resolution, with offset."""
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def label_for(sizes: list[int], events: bool) -> str:
    """``1M-10M`` (``-events``) for file names."""
    return "-".join(count_label(s) for s in sizes) + ("-events" if events else "")


def main(argv: list[str] | None = None) -> int:
    """Re-render the Markdown report of a results JSON (``python -m bench.report``)."""
    import argparse
    import json

    parser = argparse.ArgumentParser(
        prog="python -m bench.report", description=main.__doc__
    )
    parser.add_argument("json", help="a bench/results/<date>-<sizes>.json file")
    parser.add_argument(
        "--latest", action="store_true", help="also write latest.md beside it"
    )
    args = parser.parse_args(argv)
    path = Path(args.json)
    results = json.loads(path.read_text())
    for block in results["sizes"]:
        if block.get("runs"):
            block["summary"] = aggregate(block)
    markdown = render(results)
    path.with_suffix(".md").write_text(markdown)
    if args.latest:
        (path.parent / "latest.md").write_text(markdown)
    print(path.with_suffix(".md"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
