"""The report's header: what it is based on, the KPIs, the shared context.

The input format and path come from the mart ``fct_input_summary`` (its
build-level columns), else from dbt's ``target/run_results.json`` when its
last run wrote to this warehouse and was given the input vars (warehouses
built before that mart existed), else "unknown". The files read and the
accepted/rejected row counts come from ``fct_input_summary`` too; the fitted
CLV model parameters from ``fct_clv_model_params``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from python_udfs.report.formatting import (
    _date,
    _is_missing,
    _money,
    _num,
    _short_month,
    _sig,
    _text,
)
from python_udfs.report.page import _Cell, _Context, _Provenance, _Table
from python_udfs.report.warehouse import _AS_OF_TABLES, _Warehouse

_MODEL_NAMES = {
    "bgnbd": "BG/NBD",
    "mbgnbd": "MBG/NBD",
    "pareto_nbd": "Pareto/NBD",
    "gamma_gamma": "Gamma-Gamma",
    "diagnostics": "Diagnostics",
}


def _read_run_results(path: Path, warehouse: Path) -> tuple[dict[str, Any], str]:
    """Vars of dbt's last run, if it wrote to this warehouse; else ``{}``.

    dbt-duckdb names the database after the file stem, so the run wrote to
    this warehouse when one of its results is a relation ``"<stem>"."..."``.
    """
    try:
        results = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}, ""
    databases = set()
    for result in results.get("results", []):
        match = re.match(r'^"([^"]+)"\.', result.get("relation_name") or "")
        if match:
            databases.add(match.group(1))
    if warehouse.stem not in databases:
        return {}, ""
    args = results.get("args", {})
    variables = args.get("vars") or {}
    if isinstance(variables, str):  # older dbt versions store the YAML text
        try:
            import yaml

            variables = yaml.safe_load(variables) or {}
        except Exception:  # noqa: BLE001 - unreadable vars: treat as absent
            variables = {}
    meta = results.get("metadata", {})
    run = " ".join(
        part
        for part in (
            f"dbt {meta.get('dbt_version', '')}".strip(),
            args.get("which", ""),
            f"at {meta['generated_at'][:19].replace('T', ' ')} UTC"
            if meta.get("generated_at")
            else "",
        )
        if part
    )
    return (variables if isinstance(variables, dict) else {}), run


def _provenance(
    wh: _Warehouse, variables: dict[str, Any], dbt_run: str, as_of: Any
) -> _Provenance:
    # The warehouse's own record of its build wins over dbt's last command.
    input_format = input_path = None
    source = ""
    if "fct_input_summary" in wh.tables:
        meta = wh.df("input_build")
        if len(meta):
            row = meta.iloc[0]
            input_format = _text(row.get("input_format"))
            input_path = _text(row.get("input_path"))
            source = "fct_input_summary"
    if not (input_format or input_path):
        input_format = variables.get("input_format")
        input_path = variables.get("input_path")
        source = "dbt target/run_results.json" if input_format or input_path else ""
    files: list[str] = []
    total = None
    statuses: list[tuple[str, int]] = []
    rejected: list[tuple[str, int]] = []
    if "fct_input_summary" in wh.tables:
        files = wh.column("input_files")
        counts = wh.df("input_row_counts")
        total = int(counts["n"].sum())
        accepted = counts[counts["row_status"] != "rejected"]
        statuses = [
            (str(s), int(n))
            for s, n in accepted.groupby("row_status")["n"].sum().items()
        ]
        statuses.sort(key=lambda item: -item[1])
        rejects = counts[counts["row_status"] == "rejected"]
        rejected = [
            (str(r) if not _is_missing(r) else "unknown", int(n))
            for r, n in zip(rejects["reject_reason"], rejects["n"], strict=True)
        ]
    period = "unknown"
    if "fct_revenue_monthly" in wh.tables:
        first, last = wh.row("revenue_period")
        if first is not None:
            period = f"{_short_month(first)} \u2013 {_short_month(last)}"
    params, params_note = _params_table(wh)
    return _Provenance(
        warehouse=str(wh.path),
        input_format=_text(input_format) or "unknown",
        input_path=_text(input_path) or "unknown",
        input_source=source,
        input_files=files,
        as_of_date=_date(as_of) if as_of is not None else "unknown",
        period=period,
        total_rows=total,
        row_status=statuses,
        accepted_total=sum(n for _, n in statuses),
        rejected=rejected,
        rejected_total=sum(n for _, n in rejected),
        params=params,
        params_note=params_note,
        dbt_run=dbt_run or None,
    )


def _params_table(wh: _Warehouse) -> tuple[_Table | None, str | None]:
    if "fct_clv_model_params" not in wh.tables:
        return None, (
            "CLV models not built in this warehouse (fct_clv_model_params is missing)."
        )
    df = wh.df("clv_model_params")
    if df.empty:
        return None, "fct_clv_model_params is empty."
    rows = []
    for model, group in df.groupby("model", sort=False):
        first = group.iloc[0]
        values = _Cell(
            [
                f"{p} = {_sig(v)}"
                + (f" \u00b1 {_sig(se)}" if not _is_missing(se) else "")
                for p, v, se in zip(
                    group["parameter"],
                    group["value"],
                    group["standard_error"],
                    strict=True,
                )
            ]
        )
        converged = "yes" if bool(first["converged"]) else "NO"
        if not _is_missing(first["iterations"]) and model != "diagnostics":
            converged += f" ({int(first['iterations'])} it.)"
        rows.append(
            [
                _MODEL_NAMES.get(str(model), str(model)),
                values,
                _num(first["customers_fitted"]),
                _num(first["log_likelihood"], 1) if model != "diagnostics" else "-",
                converged if model != "diagnostics" else "-",
                str(first["time_unit"]),
                _date(first["observation_end"]),
                _sig(first["penalizer"]),
            ]
        )
    table = _Table(
        columns=[
            "Model",
            "Parameters (\u00b1 standard error)",
            "Customers",
            "Log-likelihood",
            "Converged",
            "Time unit",
            "Observed to",
            "Penalizer",
        ],
        rows=rows,
        numeric={2, 3, 6, 7},
    )
    return table, None


def _kpis(wh: _Warehouse) -> list[tuple[str, str]]:
    kpis: list[tuple[str, str]] = []
    if "fct_revenue_monthly" in wh.tables:
        row = wh.row("revenue_totals")
        if row and row[0] is not None:
            kpis.append(("Net revenue", _money(row[0])))
            kpis.append(("Orders", _num(row[1])))
    if "dim_customers" in wh.tables:
        kpis.insert(0, ("Customers", _num(wh.scalar("customer_count"))))
    if "fct_customer_clv" in wh.tables:
        row = wh.row("clv_totals")
        if row and row[0] is not None:
            kpis.append((f"Predicted {int(row[1])}-month CLV", _money(row[0])))
    return kpis


def _context(wh: _Warehouse) -> _Context:
    as_of = None
    for table in _AS_OF_TABLES:
        if table in wh.tables:
            value = wh.scalar(f"as_of_date_of_{table}")
            as_of = pd.Timestamp(value) if value is not None else None
            break
    months: list[pd.Timestamp] = []
    if "fct_revenue_monthly" in wh.tables:
        months = [pd.Timestamp(m) for m in wh.column("revenue_months")]
    if not months:
        return _Context(as_of, None, None)
    last = months[-1]
    # as_of_date is the day after the latest order: the last month is complete
    # only when as_of_date reaches the first day of the next month.
    if as_of is not None and as_of < last + pd.DateOffset(months=1):
        return _Context(as_of, months[-2] if len(months) > 1 else None, last)
    return _Context(as_of, last, None)
