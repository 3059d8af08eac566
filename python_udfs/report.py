r"""Customer value report: one self-contained HTML page from the warehouse marts.

``python -m python_udfs.report [--warehouse PATH] [--out PATH] [--screenshot]``
reads the marts of a built warehouse (DuckDB, opened read-only), computes a
one-line takeaway for every chart from the data, and renders
``reports/customer_value.html`` with the Jinja2 templates in
``python_udfs/templates/``. :func:`render_report` does the same from Python.

Why plotly
----------
Charts are drawn with plotly (plotly.py builds the figures, plotly.js draws
them in the browser). It is a well-kept, widely used library whose HTML
export needs no server and no network: the page inlines plotly.js once (about
4.8 MB, minified) in its ``<head>`` and every chart is a ``<div>`` with its
data, so the single file opens offline, from an e-mail attachment or a
shared drive, and stays interactive (hover values, drag to zoom).
Vega-Lite via altair was the alternative, but inlining the Vega scripts
offline needs the extra ``vl-convert-python`` binary package, while plotly
is pure Python and ships its JavaScript inside the wheel.

Sections
--------
Revenue, customers, cohort retention, weekday x hour, stores, conversion
funnel, RFM segments (with the segment table and recommended actions),
segment migration, clusters, customer lifetime value (distribution, deciles,
revenue at risk, top 20 customers) and CLV validation. A section whose marts
are missing from the warehouse (for example the CLV marts before they are
built) or empty (the funnel for an orders input) shows a short note instead
of a chart, so the report renders on any warehouse this project builds.

The header says what the report is based on: the input format and path (from
dbt's ``target/run_results.json`` when its last run wrote to this warehouse
and was given the input vars, else from a table ``int_run_metadata``, else
"unknown"), the files actually read and the accepted/rejected row counts
(``base_input__rows``), the as-of date and the fitted CLV model parameters
(``fct_clv_model_params``).

:class:`HeadlessChromium` drives a local headless Chromium over the Chrome
DevTools Protocol on a pipe (standard library only, no driver and no
network), to take the ``--screenshot`` and to let the tests check the page in
a real browser.

This module reads the warehouse itself, so unlike the other ``python_udfs``
modules (pure functions; only ``duckdb_plugin`` imports duckdb) it imports
duckdb: a report is the one place that has to.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import math
import os
import re
import select
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from markupsafe import Markup
from plotly.offline import get_plotlyjs

__all__ = [
    "DEFAULT_OUT_PATH",
    "DEFAULT_WAREHOUSE_PATH",
    "HeadlessChromium",
    "ReportBrowserError",
    "find_chromium",
    "main",
    "render_report",
    "screenshot_report",
]

#: Default warehouse, relative to the working directory (as in the dbt profile).
DEFAULT_WAREHOUSE_PATH = "warehouse/customer_value.duckdb"
#: Default output file, relative to the working directory.
DEFAULT_OUT_PATH = "reports/customer_value.html"

_TEMPLATES = Path(__file__).resolve().parent / "templates"
_CHROMIUM_CANDIDATES = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
)
_INSTALL_HINT = (
    "install it with `make browser` (runs scripts/install_browser.sh, which "
    "needs root and apt: `apt-get install -y chromium`), or set CV_CHROMIUM "
    "to a Chromium/Chrome binary"
)

# Colours: one accent, a muted grey for context, red/green for direction.
_BLUE = "#2563eb"
_LIGHT_BLUE = "#93c5fd"
_GREY = "#94a3b8"
_ORANGE = "#f59e0b"
_RED = "#dc2626"
_GREEN = "#16a34a"
_INK = "#1e293b"
_HEATMAP = "Blues"
_FONT = (
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
    "'DejaVu Sans', sans-serif"
)
# Hover values stay; the toolbar (zoom, pan, download) is hidden: this is a
# page to read, and the toolbar hid legends and labels in narrow charts.
_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": False}
# Secondary percentage axes: fixed ticks (plotly otherwise aligns them with
# the primary axis grid, which gives ticks such as 28.5%).
_PERCENT_AXIS = {
    "overlaying": "y",
    "side": "right",
    "showgrid": False,
    "zeroline": False,
    "tickmode": "linear",
    "tick0": 0,
    "dtick": 20,
    "ticksuffix": "%",
}
_MODEL_NAMES = {
    "bgnbd": "BG/NBD",
    "mbgnbd": "MBG/NBD",
    "pareto_nbd": "Pareto/NBD",
    "gamma_gamma": "Gamma-Gamma",
    "diagnostics": "Diagnostics",
}
_NEW_CUSTOMER = "(new customer)"
_MAX_COHORTS = 36  # rows of the cohort heatmap


# --------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _text(value: Any) -> str:
    """Text of a cell; ``''`` when missing."""
    return "" if _is_missing(value) else str(value)


def _num(value: Any, digits: int = 0) -> str:
    """Thousands separators: ``1234.5 -> '1,235'``; ``'-'`` when missing."""
    if _is_missing(value):
        return "-"
    return f"{float(value):,.{digits}f}"


def _money(value: Any) -> str:
    """Compact amount for sentences: ``1_126_815 -> '1.13M'``, ``45_210 -> '45.2K'``."""
    if _is_missing(value):
        return "-"
    value = float(value)
    size = abs(value)
    if size >= 1e9:
        return f"{value / 1e9:.2f}B"
    if size >= 1e6:
        return f"{value / 1e6:.2f}M"
    if size >= 1e4:
        return f"{value / 1e3:.1f}K"
    return f"{value:,.0f}"


def _pct(share: Any, digits: int = 1) -> str:
    """Format a share in [0, 1] as a percentage: ``0.505 -> '50.5%'``."""
    if _is_missing(share):
        return "-"
    return f"{100 * float(share):.{digits}f}%"


def _signed_pct(percent: float, digits: int = 1) -> str:
    """Format a percentage change with its sign: ``-10.31 -> '-10.3%'``."""
    return f"{percent:+.{digits}f}%".replace("-", "\u2212")


def _power_of_ten(exponent: int) -> str:
    """Axis label of ``10**exponent``: ``3 -> '1K'``, ``6 -> '1M'``."""
    for power, suffix in ((9, "B"), (6, "M"), (3, "K")):
        if exponent >= power:
            return f"{10 ** (exponent - power)}{suffix}"
    return f"{10**exponent:g}"


def _month(value: Any) -> str:
    """``2011-11-01 -> 'November 2011'``."""
    return pd.Timestamp(value).strftime("%B %Y")


def _short_month(value: Any) -> str:
    """``2011-11-01 -> 'Nov 2011'``."""
    return pd.Timestamp(value).strftime("%b %Y")


def _date(value: Any) -> str:
    if _is_missing(value) or value is pd.NaT:
        return "-"
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def _sig(value: Any) -> str:
    """Three significant digits, for model parameters: ``9.8902 -> '9.89'``."""
    if _is_missing(value):
        return "-"
    value = float(value)
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:,.3g}"


# --------------------------------------------------------------------------
# Page structure handed to the template
# --------------------------------------------------------------------------


@dataclass
class _Cell:
    """A table cell of several lines, with an optional smaller, muted line."""

    lines: list[str]
    sub: str | None = None


@dataclass
class _Table:
    """A small HTML table: header labels, right-aligned columns, cell text."""

    columns: list[str]
    rows: list[list[str | _Cell]]
    numeric: set[int] = field(default_factory=set)
    caption: str | None = None
    wide: set[int] = field(default_factory=set)  # columns of prose


@dataclass
class _Chart:
    """One chart (plotly ``<div>``) with the sentence shown above it."""

    takeaway: str
    html: Markup


@dataclass
class _Section:
    """One report section: charts and tables, or a note when it cannot be drawn."""

    id: str
    title: str
    intro: str | None = None
    charts: list[_Chart] = field(default_factory=list)
    tables: list[_Table] = field(default_factory=list)
    note: str | None = None
    status: str = "ok"  # ok | missing | empty


@dataclass
class _Provenance:
    """What the report is based on (shown in the header)."""

    warehouse: str
    input_format: str
    input_path: str
    input_source: str
    input_files: list[str]
    as_of_date: str
    period: str
    total_rows: int | None
    row_status: list[tuple[str, int]]
    accepted_total: int
    rejected: list[tuple[str, int]]
    rejected_total: int
    params: _Table | None
    params_note: str | None
    dbt_run: str | None


# --------------------------------------------------------------------------
# Warehouse access
# --------------------------------------------------------------------------


class _Warehouse:
    """Read-only access to the marts, knowing which tables exist."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, path: Path) -> None:
        self.conn = conn
        self.path = path
        names = conn.execute(
            "select table_name from information_schema.tables "
            "where table_schema = current_schema()"
        ).fetchall()
        self.tables = {name.lower() for (name,) in names}

    def missing(self, *tables: str) -> list[str]:
        """Return the tables in ``tables`` that this warehouse does not have."""
        return [t for t in tables if t.lower() not in self.tables]

    def df(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run a query and return a pandas DataFrame."""
        return self.conn.execute(sql, params or []).df()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """Run a query returning one value."""
        row = self.conn.execute(sql, params or []).fetchone()
        return None if row is None else row[0]


def _missing_section(
    section_id: str, title: str, tables: Iterable[str], intro: str | None = None
) -> _Section:
    names = list(tables)
    verb = "is" if len(names) == 1 else "are"
    return _Section(
        id=section_id,
        title=title,
        intro=intro,
        status="missing",
        note=(
            f"Not built in this warehouse: {' and '.join(names)} {verb} missing. "
            "Run dbt build to create them, then render the report again."
        ),
    )


def _empty_section(section_id: str, title: str, note: str) -> _Section:
    return _Section(id=section_id, title=title, status="empty", note=note)


# --------------------------------------------------------------------------
# Plotly helpers
# --------------------------------------------------------------------------


def _style(
    fig: go.Figure,
    height: int,
    margin: dict[str, int] | None = None,
    **layout: Any,
) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 64, "r": 24, "t": 36, "b": 48, **(margin or {})},
        font={"family": _FONT, "size": 13, "color": _INK},
        legend={
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.02,
            "xanchor": "left",
            "x": 0,
        },
        hoverlabel={"font": {"family": _FONT}},
        colorway=[_BLUE, _ORANGE, _GREY, _GREEN, _RED],
        **layout,
    )
    return fig


def _chart(fig: go.Figure, chart_id: str, takeaway: str) -> _Chart:
    html = pio.to_html(
        fig,
        full_html=False,
        include_plotlyjs=False,
        include_mathjax=False,
        div_id=f"chart-{chart_id}",
        config=_PLOTLY_CONFIG,
        default_width="100%",
        default_height=f"{fig.layout.height}px",
    )
    return _Chart(takeaway=takeaway, html=Markup(html))


# --------------------------------------------------------------------------
# Header: input, as-of date, row counts, model parameters
# --------------------------------------------------------------------------


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
    if "int_run_metadata" in wh.tables:
        meta = wh.df("select * from int_run_metadata limit 1")
        if len(meta):
            row = meta.iloc[0]
            input_format = _text(row.get("input_format"))
            input_path = _text(row.get("input_path"))
            source = "int_run_metadata"
    if not (input_format or input_path):
        input_format = variables.get("input_format")
        input_path = variables.get("input_path")
        source = "dbt target/run_results.json" if input_format or input_path else ""
    files: list[str] = []
    total = None
    statuses: list[tuple[str, int]] = []
    rejected: list[tuple[str, int]] = []
    if "base_input__rows" in wh.tables:
        files = [
            f
            for (f,) in wh.conn.execute(
                "select distinct source_file from base_input__rows "
                "where source_file is not null order by 1 limit 6"
            ).fetchall()
        ]
        counts = wh.df(
            "select row_status, reject_reason, count(*) as n "
            "from base_input__rows group by all order by n desc"
        )
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
        first, last = wh.conn.execute(
            "select min(month), max(month) from fct_revenue_monthly"
        ).fetchone()
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
    df = wh.df(
        "select * from fct_clv_model_params order by "
        "case model when 'gamma_gamma' then 2 when 'diagnostics' then 3 "
        "else 1 end, model"
    )
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
        row = wh.conn.execute(
            "select sum(net_revenue), sum(orders), min(month), max(month) "
            "from fct_revenue_monthly"
        ).fetchone()
        if row and row[0] is not None:
            kpis.append(("Net revenue", _money(row[0])))
            kpis.append(("Orders", _num(row[1])))
    if "dim_customers" in wh.tables:
        kpis.insert(
            0, ("Customers", _num(wh.scalar("select count(*) from dim_customers")))
        )
    if "fct_customer_clv" in wh.tables:
        row = wh.conn.execute(
            "select sum(clv_long), max(long_horizon_months) from fct_customer_clv"
        ).fetchone()
        if row and row[0] is not None:
            kpis.append((f"Predicted {int(row[1])}-month CLV", _money(row[0])))
    return kpis


# --------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------


@dataclass
class _Context:
    """Facts shared by several sections."""

    as_of: pd.Timestamp | None
    reference_month: pd.Timestamp | None  # last full month
    partial_month: pd.Timestamp | None  # last month, if incomplete


def _context(wh: _Warehouse) -> _Context:
    as_of = None
    for table in ("dim_customers", "fct_customer_rfm"):
        if table in wh.tables:
            value = wh.scalar(f"select max(as_of_date) from {table}")
            as_of = pd.Timestamp(value) if value is not None else None
            break
    months: list[pd.Timestamp] = []
    if "fct_revenue_monthly" in wh.tables:
        months = [
            pd.Timestamp(m)
            for (m,) in wh.conn.execute(
                "select month from fct_revenue_monthly order by month"
            ).fetchall()
        ]
    if not months:
        return _Context(as_of, None, None)
    last = months[-1]
    # as_of_date is the day after the latest order: the last month is complete
    # only when as_of_date reaches the first day of the next month.
    if as_of is not None and as_of < last + pd.DateOffset(months=1):
        return _Context(as_of, months[-2] if len(months) > 1 else None, last)
    return _Context(as_of, last, None)


def _revenue_section(wh: _Warehouse, ctx: _Context) -> _Section:
    title = "Monthly net revenue"
    if missing := wh.missing("fct_revenue_monthly"):
        return _missing_section("revenue", title, missing)
    df = wh.df("select * from fct_revenue_monthly order by month")
    if df.empty:
        return _empty_section("revenue", title, "fct_revenue_monthly has no rows.")
    df["month"] = pd.to_datetime(df["month"])
    ref = ctx.reference_month
    if ref is None:
        takeaway = "There is no complete month yet to report on."
    else:
        row = df[df["month"] == ref].iloc[0]
        growth = row["net_revenue_growth_pct"]
        if _is_missing(growth):
            takeaway = (
                f"Net revenue was {_money(row['net_revenue'])} in {_month(ref)}, "
                "the first month with orders."
            )
        else:
            verb = "grew" if growth >= 0 else "fell"
            takeaway = (
                f"Net revenue {verb} {abs(growth):.1f}% in {_month(ref)}, the last "
                f"full month, to {_money(row['net_revenue'])}."
            )
    if ctx.partial_month is not None:
        takeaway += (
            f" {_month(ctx.partial_month)} is incomplete (data up to "
            f"{_date(ctx.as_of - pd.Timedelta(days=1))}) and drawn lighter."
        )
    partial = df["month"] == ctx.partial_month
    colors = [_LIGHT_BLUE if p else _BLUE for p in partial]
    growth = df["net_revenue_growth_pct"]
    labels = [
        "partial" if p else ("" if _is_missing(g) else _signed_pct(g, 0))
        for p, g in zip(partial, growth, strict=True)
    ]
    label_colors = [
        _GREY if p else (_RED if g < 0 else _GREEN)
        for p, g in zip(partial, growth.fillna(0), strict=True)
    ]
    fig = go.Figure()
    fig.add_bar(
        x=[_short_month(m) for m in df["month"]],
        y=df["net_revenue"],
        name="Net revenue",
        marker_color=colors,
        # Growth on top of each bar, green up and red down.
        text=labels,
        textposition="outside",
        textfont={"color": label_colors},
        cliponaxis=False,
        customdata=df[["gross_revenue", "returns_amount", "orders"]].assign(
            growth=growth
        ),
        hovertemplate=(
            "%{x}<br>Net revenue %{y:,.0f} (%{customdata[3]:+.1f}%)"
            "<br>Gross %{customdata[0]:,.0f}<br>Returns %{customdata[1]:,.0f}"
            "<br>Orders %{customdata[2]:,}<extra></extra>"
        ),
    )
    _style(
        fig,
        360,
        yaxis={
            "title": "Net revenue",
            "tickformat": "~s",
            "range": [0, float(df["net_revenue"].max()) * 1.12],
        },
        xaxis={"type": "category"},
        bargap=0.25,
        showlegend=False,
        margin={"t": 20},
    )
    return _Section(
        id="revenue",
        title=title,
        intro=(
            "Net revenue = sales minus returns, by calendar month; labels give "
            "the change from the previous month."
        ),
        charts=[_chart(fig, "revenue", takeaway)],
    )


def _customers_section(wh: _Warehouse, ctx: _Context) -> _Section:
    title = "Active, new and returning customers"
    if missing := wh.missing("fct_customers_monthly"):
        return _missing_section("customers", title, missing)
    df = wh.df("select * from fct_customers_monthly order by month")
    if df.empty:
        return _empty_section("customers", title, "fct_customers_monthly has no rows.")
    df["month"] = pd.to_datetime(df["month"])
    ref = ctx.reference_month
    refs = df[df["month"] == ref] if ref is not None else df.iloc[0:0]
    if refs.empty:
        refs = df.tail(1)
    row = refs.iloc[0]
    takeaway = (
        f"In {_month(row['month'])}, {_num(row['active_customers'])} customers "
        f"bought: {_num(row['new_customers'])} new "
        f"({_pct(row['new_customer_ratio'], 0)}) and "
        f"{_num(row['returning_customers'])} returning"
    )
    if not _is_missing(row["retention_rate"]):
        takeaway += (
            f"; {_pct(row['retention_rate'], 0)} of the previous month's "
            "customers came back."
        )
    else:
        takeaway += "."
    months = [_short_month(m) for m in df["month"]]
    fig = go.Figure()
    opacity = [0.45 if m == ctx.partial_month else 1.0 for m in df["month"]]
    fig.add_bar(
        x=months,
        y=df["returning_customers"],
        name="Returning",
        marker_color=_BLUE,
        marker_opacity=opacity,
        hovertemplate="%{x}<br>Returning %{y:,}<extra></extra>",
    )
    fig.add_bar(
        x=months,
        y=df["new_customers"],
        name="New",
        marker_color=_LIGHT_BLUE,
        marker_opacity=opacity,
        hovertemplate="%{x}<br>New %{y:,}<extra></extra>",
    )
    fig.add_scatter(
        x=months,
        y=df["retention_rate"] * 100,
        name="Retention rate (%)",
        yaxis="y2",
        mode="lines+markers",
        line={"color": _ORANGE, "width": 2},
        hovertemplate="%{x}<br>Retention %{y:.1f}%<extra></extra>",
    )
    _style(
        fig,
        380,
        barmode="stack",
        bargap=0.25,
        yaxis={"title": "Active customers", "tickformat": "~s"},
        yaxis2={"title": "Retention (%)", "range": [0, 100], **_PERCENT_AXIS},
        xaxis={"type": "category"},
        legend_traceorder="normal",
    )
    return _Section(
        id="customers",
        title=title,
        intro=(
            "Active = bought in the month; new = first purchase that month; "
            "retention = share of last month's customers who bought again."
        ),
        charts=[_chart(fig, "customers", takeaway)],
    )


def _cohort_section(wh: _Warehouse, ctx: _Context) -> _Section:
    title = "Cohort retention"
    if missing := wh.missing("fct_cohort_retention"):
        return _missing_section("cohorts", title, missing)
    df = wh.df(
        "select cohort_month, months_since_first_purchase as m, month, "
        "cohort_customers, retention_rate from fct_cohort_retention order by 1, 2"
    )
    if df.empty:
        return _empty_section("cohorts", title, "fct_cohort_retention has no rows.")
    df["cohort_month"] = pd.to_datetime(df["cohort_month"])
    df["month"] = pd.to_datetime(df["month"])
    cohorts = sorted(df["cohort_month"].unique())
    dropped = max(0, len(cohorts) - _MAX_COHORTS)
    if dropped:  # keep the page readable: the latest cohorts only
        df = df[df["cohort_month"] >= cohorts[dropped]]
    grid = df.pivot(index="cohort_month", columns="m", values="retention_rate")
    sizes = df.groupby("cohort_month")["cohort_customers"].max()
    later = df[df["m"] >= 1]
    # An incomplete last month understates retention: leave it out of the sums.
    month1 = df[(df["m"] == 1) & (df["month"] != ctx.partial_month)]
    if month1.empty:
        takeaway = "No cohort is old enough yet to show repeat purchases."
    else:
        weighted = (month1["retention_rate"] * month1["cohort_customers"]).sum()
        avg1 = weighted / month1["cohort_customers"].sum()
        best = month1.loc[month1["retention_rate"].idxmax()]
        takeaway = (
            f"On average {_pct(avg1, 0)} of a cohort buys again the month after "
            "its first purchase; the best cohort, "
            f"{_short_month(best['cohort_month'])} "
            f"({_num(best['cohort_customers'])} customers), kept "
            f"{_pct(best['retention_rate'], 0)}."
        )
    labels = [f"{_short_month(c)} ({_num(sizes[c])})" for c in grid.index]
    z = (grid * 100).round(1)
    zmax = float(later["retention_rate"].max() * 100) if not later.empty else 100.0
    show_text = len(grid.columns) <= 25
    fig = go.Figure(
        go.Heatmap(
            z=z.values,
            x=[str(c) for c in grid.columns],
            y=labels,
            colorscale=_HEATMAP,
            zmin=0,
            zmax=max(zmax, 1.0),
            texttemplate="%{z:.0f}" if show_text else None,
            textfont={"size": 10},
            hovertemplate=(
                "Cohort %{y}<br>Month %{x}: %{z:.1f}% active<extra></extra>"
            ),
            colorbar={"title": {"text": "% active"}, "ticksuffix": "%"},
            hoverongaps=False,
        )
    )
    _style(
        fig,
        max(320, 22 * len(grid) + 110),
        xaxis={"title": "Months since first purchase", "side": "bottom"},
        yaxis={"autorange": "reversed", "title": None},
        margin={"l": 130, "r": 24, "t": 24, "b": 48},
    )
    return _Section(
        id="cohorts",
        title=title,
        intro=(
            "Each row is the customers who first bought in that month (size in "
            "brackets); cells show the % who bought again N months later. "
            "Month 0 is always 100% and the colour scale starts at month 1."
            + (f" Showing the latest {_MAX_COHORTS} cohorts." if dropped else "")
            + (
                f" The last diagonal is {_month(ctx.partial_month)}, an incomplete "
                "month."
                if ctx.partial_month is not None
                else ""
            )
        ),
        charts=[_chart(fig, "cohorts", takeaway)],
    )


_WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _weekday_hour_section(wh: _Warehouse, ctx: _Context) -> _Section:
    title = "When customers buy"
    if missing := wh.missing("fct_revenue_by_weekday_hour"):
        return _missing_section("weekday-hour", title, missing)
    df = wh.df(
        "select iso_weekday, weekday_name, hour_of_day, orders, net_revenue "
        "from fct_revenue_by_weekday_hour"
    )
    if df.empty:
        return _empty_section(
            "weekday-hour", title, "fct_revenue_by_weekday_hour has no rows."
        )
    total = df["net_revenue"].sum()
    busy = df[df["orders"] > 0]
    if busy.empty:
        busy = df
    hours = list(
        range(int(busy["hour_of_day"].min()), int(busy["hour_of_day"].max()) + 1)
    )
    grid = (
        df.pivot_table(
            index="iso_weekday",
            columns="hour_of_day",
            values="net_revenue",
            aggfunc="sum",
        )
        .reindex(index=range(1, 8), columns=hours)
        .fillna(0.0)
    )
    names = dict(zip(df["iso_weekday"], df["weekday_name"], strict=False))
    peak = df.loc[df["net_revenue"].idxmax()]
    by_day = df.groupby("iso_weekday")["net_revenue"].sum()
    best_day = int(by_day.idxmax())
    orders_by_day = busy.groupby("iso_weekday")["orders"].sum()
    empty_days = [_WEEKDAYS[d - 1] for d in range(1, 8) if orders_by_day.get(d, 0) == 0]
    takeaway = (
        f"Revenue peaks on {names.get(int(peak['iso_weekday']), peak['weekday_name'])} "
        f"{int(peak['hour_of_day']):02d}:00\u2013{int(peak['hour_of_day']) + 1:02d}:00 "
        f"({_pct(peak['net_revenue'] / total)} of net revenue); "
        f"{names.get(best_day, _WEEKDAYS[best_day - 1])} is the strongest day "
        f"({_pct(by_day[best_day] / total, 0)})"
    )
    takeaway += f"; no orders on {', '.join(empty_days)}." if empty_days else "."
    fig = go.Figure(
        go.Heatmap(
            z=grid.values,
            x=[f"{h:02d}" for h in hours],
            y=_WEEKDAYS,
            colorscale=_HEATMAP,
            hovertemplate="%{y} %{x}:00<br>Net revenue %{z:,.0f}<extra></extra>",
            colorbar={"title": {"text": "Net revenue"}, "tickformat": "~s"},
            xgap=1,
            ygap=1,
        )
    )
    _style(
        fig,
        330,
        xaxis={"title": "Hour of day (reporting time zone)", "type": "category"},
        yaxis={"autorange": "reversed"},
    )
    return _Section(
        id="weekday-hour",
        title=title,
        intro="Net revenue by weekday and hour of the order.",
        charts=[_chart(fig, "weekday-hour", takeaway)],
    )


def _store_section(wh: _Warehouse, ctx: _Context) -> _Section:
    title = "Revenue by store"
    if missing := wh.missing("fct_revenue_by_store_monthly"):
        return _missing_section("stores", title, missing)
    df = wh.df(
        "select store_id, sum(net_revenue) as net_revenue, sum(orders) as orders, "
        "max(customers) as peak_customers from fct_revenue_by_store_monthly "
        "group by 1 order by 2 desc, 1"
    )
    if df.empty:
        return _empty_section(
            "stores", title, "fct_revenue_by_store_monthly has no rows."
        )
    df["store_id"] = df["store_id"].map(lambda v: _text(v) or "(none)")
    total = df["net_revenue"].sum()
    if len(df) == 1:
        return _Section(
            id="stores",
            title=title,
            status="empty",
            note=(
                f"All net revenue ({_money(total)}) is in one store, "
                f"{df['store_id'].iloc[0]!r}: the input has no store column or a "
                "single store."
            ),
        )
    top_n = 12
    shown = df.head(top_n).copy()
    if len(df) > top_n:
        rest = df.iloc[top_n:]
        shown.loc[len(shown)] = [
            f"Other ({len(rest)} stores)",
            rest["net_revenue"].sum(),
            rest["orders"].sum(),
            None,
        ]
    first, second = df.iloc[0], df.iloc[1]
    top3 = df.head(3)["net_revenue"].sum() / total
    takeaway = (
        f"The largest store, {first['store_id']}, brings "
        f"{_pct(first['net_revenue'] / total)} of net revenue; the next, "
        f"{second['store_id']}, {_pct(second['net_revenue'] / total)}."
    )
    if len(df) > 3:
        takeaway += f" The top 3 of {len(df)} stores make {_pct(top3, 0)}."
    shares = shown["net_revenue"] / total
    fig = go.Figure(
        go.Bar(
            x=shown["net_revenue"],
            y=shown["store_id"],
            orientation="h",
            marker_color=[
                _GREY if s.startswith("Other (") else _BLUE for s in shown["store_id"]
            ],
            text=[_pct(s) for s in shares],
            textposition="outside",
            cliponaxis=False,
            customdata=shown[["orders"]],
            hovertemplate=(
                "%{y}<br>Net revenue %{x:,.0f}<br>Orders %{customdata[0]:,}"
                "<extra></extra>"
            ),
        )
    )
    _style(
        fig,
        max(260, 28 * len(shown) + 80),
        xaxis={"title": "Net revenue (whole period)", "tickformat": "~s"},
        yaxis={"autorange": "reversed", "automargin": True},
        margin={"l": 140, "r": 60, "t": 16, "b": 48},
        showlegend=False,
    )
    return _Section(
        id="stores",
        title=title,
        intro="Net revenue over the whole period by store (country, branch or market).",
        charts=[_chart(fig, "stores", takeaway)],
    )


def _funnel_section(wh: _Warehouse, ctx: _Context, input_format: str) -> _Section:
    title = "Conversion funnel"
    if missing := wh.missing("fct_funnel_daily"):
        return _missing_section("funnel", title, missing)
    row = wh.df(
        "select count(*) as days, sum(users_viewed) as viewed, "
        "sum(users_carted) as carted, sum(users_purchased) as purchased, "
        # The mart's own rates (users who viewed and carted / viewed, ...),
        # weighted by their denominators; user counts alone do not nest,
        # since people can buy without using the cart.
        "sum(view_to_cart_rate * users_viewed) / nullif(sum(users_viewed), 0) "
        "as view_to_cart, "
        "sum(cart_to_purchase_rate * users_carted) / nullif(sum(users_carted), 0) "
        "as cart_to_purchase, "
        "sum(view_to_purchase_rate * users_viewed) / nullif(sum(users_viewed), 0) "
        "as view_to_purchase, "
        "min(event_date) as first_day, max(event_date) as last_day "
        "from fct_funnel_daily"
    ).iloc[0]
    if not row["days"]:
        fmt = f" (input format: {input_format})" if input_format != "unknown" else ""
        return _empty_section(
            "funnel",
            title,
            f"The input has no clickstream events{fmt}, so there is no "
            "conversion funnel: it is built from an events input (views, carts "
            "and purchases).",
        )
    viewed, carted, purchased = (
        float(row[c] or 0) for c in ("viewed", "carted", "purchased")
    )

    first_day, last_day = _date(row["first_day"]), _date(row["last_day"])
    days = f"on {first_day}" if first_day == last_day else f"{first_day} to {last_day}"
    takeaway = (
        f"Of the users who viewed a product, {_pct(row['view_to_cart'])} added one "
        f"to the cart and {_pct(row['view_to_purchase'])} bought; of those who "
        f"carted, {_pct(row['cart_to_purchase'])} bought ({days})."
    )
    fig = go.Figure(
        go.Funnel(
            y=["Viewed", "Added to cart", "Purchased"],
            x=[viewed, carted, purchased],
            textinfo="value+percent initial",
            marker={"color": [_BLUE, _LIGHT_BLUE, _ORANGE]},
            connector={"line": {"color": _GREY, "width": 1}},
            hovertemplate="%{y}: %{x:,} user-days<extra></extra>",
        )
    )
    _style(fig, 300, margin={"l": 120, "r": 24, "t": 16, "b": 24}, showlegend=False)
    return _Section(
        id="funnel",
        title=title,
        intro=(
            "Users who viewed, carted and purchased, summed over the days of "
            "fct_funnel_daily (a user active on two days counts twice); "
            "rates are the mart's, weighted by users."
            + (
                " More users purchased than carted: some buy without the cart."
                if purchased > carted
                else ""
            )
        ),
        charts=[_chart(fig, "funnel", takeaway)],
    )


def _segments_section(wh: _Warehouse, ctx: _Context) -> _Section:
    title = "RFM segments"
    if missing := wh.missing("fct_rfm_segment_summary"):
        return _missing_section("segments", title, missing)
    df = wh.df(
        "select * from fct_rfm_segment_summary order by segment_priority, segment"
    )
    if df.empty:
        return _empty_section("segments", title, "fct_rfm_segment_summary has no rows.")
    top = df.loc[df["revenue_share"].idxmax()]
    largest = df.loc[df["customers"].idxmax()]
    takeaway = (
        f"{top['segment']} are {_pct(top['customer_share'])} of customers and bring "
        f"{_pct(top['revenue_share'])} of net revenue"
    )
    if largest["segment"] != top["segment"]:
        takeaway += (
            f"; {largest['segment']} is the largest segment "
            f"({_pct(largest['customer_share'])} of customers, "
            f"{_pct(largest['revenue_share'])} of revenue)."
        )
    else:
        takeaway += "."
    fig = go.Figure()
    fig.add_bar(
        y=df["segment"],
        x=df["customer_share"] * 100,
        name="% of customers",
        orientation="h",
        marker_color=_GREY,
        hovertemplate="%{y}<br>%{x:.1f}% of customers<extra></extra>",
    )
    fig.add_bar(
        y=df["segment"],
        x=df["revenue_share"] * 100,
        name="% of net revenue",
        orientation="h",
        marker_color=_BLUE,
        hovertemplate="%{y}<br>%{x:.1f}% of net revenue<extra></extra>",
    )
    _style(
        fig,
        max(300, 34 * len(df) + 90),
        barmode="group",
        bargap=0.25,
        bargroupgap=0.05,
        xaxis={"title": "Share (%)", "ticksuffix": "%"},
        yaxis={"autorange": "reversed", "automargin": True},
        margin={"l": 140, "r": 24, "t": 36, "b": 48},
    )
    table = _Table(
        columns=[
            "Segment",
            "Customers",
            "Net revenue",
            "Avg recency (days)",
            "Avg orders",
            "Avg net revenue",
            "Recommended action",
        ],
        rows=[
            [
                _Cell([_text(r["segment"])], _text(r["description"])),
                _Cell([_num(r["customers"])], _pct(r["customer_share"])),
                _Cell([_num(r["net_revenue"])], _pct(r["revenue_share"])),
                _num(r["avg_recency_days"]),
                _num(r["avg_frequency"], 1),
                _num(r["avg_monetary"]),
                _text(r["recommended_action"]),
            ]
            for _, r in df.iterrows()
        ],
        numeric={1, 2, 3, 4, 5},
        wide={0, 6},
        caption="RFM segment summary, in priority order",
    )
    return _Section(
        id="segments",
        title=title,
        intro=(
            "Customers scored on recency, frequency and monetary value and named "
            "by segment; the table says what to do with each."
        ),
        charts=[_chart(fig, "segments", takeaway)],
        tables=[table],
    )


def _migration_section(wh: _Warehouse, ctx: _Context) -> _Section:
    title = "Segment migration"
    if missing := wh.missing("fct_rfm_segment_transitions"):
        return _missing_section("migration", title, missing)
    df = wh.df(
        "select * from fct_rfm_segment_transitions where to_month = "
        "(select max(to_month) from fct_rfm_segment_transitions)"
    )
    if df.empty:
        return _empty_section(
            "migration",
            title,
            "fct_rfm_segment_transitions has no rows: it needs at least two "
            "month ends.",
        )
    order: list[str] = []
    if "fct_rfm_segment_summary" in wh.tables:
        order = list(
            wh.df(
                "select segment from fct_rfm_segment_summary order by segment_priority"
            )["segment"]
        )
    seen = set(df["from_segment"]) | set(df["to_segment"])
    order = [s for s in order if s in seen] + sorted(
        seen - set(order) - {_NEW_CUSTOMER}
    )
    from_order = ([_NEW_CUSTOMER] if _NEW_CUSTOMER in seen else []) + order
    counts = (
        df.pivot_table(
            index="from_segment",
            columns="to_segment",
            values="customers",
            aggfunc="sum",
        )
        .reindex(index=from_order, columns=order)
        .fillna(0)
    )
    row_share = counts.div(counts.sum(axis=1).where(lambda s: s > 0), axis=0) * 100
    existing = df[df["from_segment"] != _NEW_CUSTOMER]
    stayed = existing.loc[existing["is_same_segment"], "customers"].sum()
    moved = existing[~existing["is_same_segment"]]
    new = df.loc[df["from_segment"] == _NEW_CUSTOMER, "customers"].sum()
    from_month, to_month = df["from_month"].iloc[0], df["to_month"].iloc[0]
    takeaway = (
        f"From the end of {_month(from_month)} to the end of {_month(to_month)}, "
        f"{_pct(stayed / existing['customers'].sum() if len(existing) else 0, 0)} "
        "of customers stayed in their segment"
    )
    if not moved.empty:
        biggest = moved.loc[moved["customers"].idxmax()]
        takeaway += (
            f"; the largest move was {_num(biggest['customers'])} customers from "
            f"{biggest['from_segment']} to {biggest['to_segment']}"
        )
    takeaway += f"; {_num(new)} new customers joined." if new else "."
    fig = go.Figure(
        go.Heatmap(
            z=row_share.values,
            x=list(counts.columns),
            y=list(counts.index),
            customdata=counts.values,
            colorscale=_HEATMAP,
            zmin=0,
            zmax=100,
            text=counts.astype(int).astype(str).where(counts > 0, "").values,
            texttemplate="%{text}",
            textfont={"size": 10},
            hovertemplate=(
                "%{y} \u2192 %{x}<br>%{customdata:,} customers "
                "(%{z:.1f}% of %{y})<extra></extra>"
            ),
            colorbar={"title": {"text": "% of row"}, "ticksuffix": "%"},
            xgap=1,
            ygap=1,
        )
    )
    _style(
        fig,
        max(340, 30 * len(from_order) + 150),
        xaxis={
            "title": f"Segment at the end of {_short_month(to_month)}",
            "tickangle": -35,
            "automargin": True,
        },
        yaxis={
            "title": f"Segment at the end of {_short_month(from_month)}",
            "autorange": "reversed",
            "automargin": True,
        },
        margin={"l": 150, "r": 24, "t": 16, "b": 110},
    )
    return _Section(
        id="migration",
        title=title,
        intro=(
            "Where each segment's customers were one month later: numbers are "
            "customers, colour is the share of the row."
        ),
        charts=[_chart(fig, "migration", takeaway)],
    )


def _cluster_section(wh: _Warehouse, ctx: _Context) -> _Section:
    title = "Customer clusters"
    if missing := wh.missing("dim_cluster_profiles"):
        return _missing_section("clusters", title, missing)
    df = wh.df("select * from dim_cluster_profiles order by cluster_id")
    if df.empty:
        return _empty_section("clusters", title, "dim_cluster_profiles has no rows.")
    top = df.loc[df["revenue_share"].idxmax()]
    largest = df.loc[df["customers"].idxmax()]
    takeaway = (
        f"{top['cluster_name']} ({_pct(top['customer_share'])} of customers) bring "
        f"{_pct(top['revenue_share'])} of net revenue"
    )
    if largest["cluster_id"] != top["cluster_id"]:
        takeaway += (
            f"; {largest['cluster_name']}, the largest cluster "
            f"({_pct(largest['customer_share'])}), brings "
            f"{_pct(largest['revenue_share'])}."
        )
    else:
        takeaway += "."
    size = df["customers"].astype(float)
    monetary = df["centroid_monetary"].clip(lower=1)
    fig = go.Figure(
        go.Scatter(
            x=df["centroid_recency_days"],
            y=monetary,
            mode="markers+text",
            text=df["cluster_name"],
            textposition="top center",
            marker={
                "size": size,
                "sizemode": "area",
                "sizeref": 2.0 * size.max() / 70**2,
                "sizemin": 8,
                "color": df["revenue_share"] * 100,
                "colorscale": [[0, "#dbeafe"], [1, "#1e3a8a"]],
                "cmin": 0,
                "opacity": 0.9,
                "line": {"color": _INK, "width": 1},
                "colorbar": {"title": {"text": "% revenue"}, "ticksuffix": "%"},
            },
            customdata=df[
                ["customers", "customer_share", "centroid_frequency", "revenue_share"]
            ],
            hovertemplate=(
                "%{text}<br>%{customdata[0]:,} customers (%{customdata[1]:.1%})"
                "<br>Mean recency %{x:.0f} days<br>Mean orders %{customdata[2]:.1f}"
                "<br>Mean monetary %{y:,.0f}<br>%{customdata[3]:.1%} of revenue"
                "<extra></extra>"
            ),
        )
    )
    _style(
        fig,
        380,
        xaxis={
            "title": "Mean recency (days since last order)",
            "range": [0, float(df["centroid_recency_days"].max()) * 1.15 + 1],
        },
        yaxis={
            "title": "Mean net revenue (log scale)",
            "type": "log",
            "dtick": 1,
            "tickformat": "~s",
            "range": [
                math.log10(float(monetary.min())) - 0.35,
                math.log10(float(monetary.max())) + 0.45,
            ],
        },
        showlegend=False,
    )
    table = _Table(
        columns=[
            "Cluster",
            "Customers",
            "% customers",
            "Mean recency (days)",
            "Mean orders",
            "Mean monetary",
            "Net revenue",
            "% revenue",
        ],
        rows=[
            [
                f"{int(r['cluster_id'])}. {r['cluster_name']}",
                _num(r["customers"]),
                _pct(r["customer_share"]),
                _num(r["centroid_recency_days"]),
                _num(r["centroid_frequency"], 1),
                _num(r["centroid_monetary"]),
                _num(r["net_revenue"]),
                _pct(r["revenue_share"]),
            ]
            for _, r in df.iterrows()
        ],
        numeric={1, 2, 3, 4, 5, 6, 7},
        caption="Cluster profiles (1 = lowest value)",
    )
    return _Section(
        id="clusters",
        title=title,
        intro=(
            "Behaviour clusters on recency, frequency and monetary value: bubble "
            "area is the number of customers, colour the share of revenue."
        ),
        charts=[_chart(fig, "clusters", takeaway)],
        tables=[table],
    )


def _clv_section(wh: _Warehouse, ctx: _Context, variables: dict[str, Any]) -> _Section:
    title = "Customer lifetime value"
    if missing := wh.missing("fct_customer_clv", "fct_clv_summary"):
        return _missing_section(
            "clv",
            title,
            missing,
            intro="Predicted value of each customer over the coming months.",
        )
    summary = wh.df("select * from fct_clv_summary order by clv_decile")
    stats = wh.df(
        "select count(*) as customers, sum(clv_long) as total, "
        "median(clv_long) as median, max(long_horizon_months) as horizon, "
        "sum(historic_value) as historic, avg(p_alive) as p_alive "
        "from fct_customer_clv"
    ).iloc[0]
    if summary.empty or not stats["customers"]:
        return _empty_section("clv", title, "fct_customer_clv has no rows.")
    horizon = int(stats["horizon"])
    top = summary[summary["clv_decile"] == 1]
    top_share = float(top["predicted_clv_share"].iloc[0]) if len(top) else float("nan")
    takeaway1 = (
        f"The top 10% of customers hold {_pct(top_share, 0)} of the predicted "
        f"{horizon}-month CLV of {_money(stats['total'])}; the median customer is "
        f"worth {_money(stats['median'])}."
    )
    # Histogram on a log10 axis, binned in SQL so a million customers stay cheap.
    hist = wh.df(
        "select floor(log10(clv_long) * 4) / 4 as bin, count(*) as customers "
        "from fct_customer_clv where clv_long >= 1 group by 1 order by 1"
    )
    below_one = int(
        wh.scalar("select count(*) from fct_customer_clv where clv_long < 1") or 0
    )
    fig1 = go.Figure(
        go.Bar(
            x=hist["bin"] + 0.125,
            y=hist["customers"],
            width=0.24,
            marker_color=_BLUE,
            customdata=pd.DataFrame(
                {"lo": 10 ** hist["bin"], "hi": 10 ** (hist["bin"] + 0.25)}
            ),
            hovertemplate=(
                "CLV %{customdata[0]:,.0f} \u2013 %{customdata[1]:,.0f}"
                "<br>%{y:,} customers<extra></extra>"
            ),
        )
    )
    lo = int(math.floor(hist["bin"].min())) if len(hist) else 0
    hi = int(math.ceil(hist["bin"].max() + 0.25)) if len(hist) else 1
    ticks = list(range(lo, hi + 1))
    _style(
        fig1,
        320,
        xaxis={
            "title": f"Predicted {horizon}-month CLV (log scale)"
            + (
                f"; {below_one:,} {'customer' if below_one == 1 else 'customers'} "
                "below 1 not shown"
                if below_one
                else ""
            ),
            "tickvals": ticks,
            "ticktext": [_power_of_ten(t) for t in ticks],
            "range": [lo, hi],
        },
        yaxis={
            "title": "Customers",
            "tickformat": "~s",
            "range": [0, float(hist["customers"].max() if len(hist) else 1) * 1.2],
            "dtick": 1 if len(hist) and hist["customers"].max() <= 5 else None,
        },
        bargap=0,
        showlegend=False,
    )
    if not _is_missing(stats["median"]) and stats["median"] >= 1:
        fig1.add_vline(
            x=math.log10(float(stats["median"])),
            line={"color": _ORANGE, "width": 2, "dash": "dash"},
            annotation_text=f"median {_money(stats['median'])}",
            annotation_position="top right",
            annotation_font_color=_ORANGE,
        )
    at_risk = float(summary["revenue_at_risk"].sum())
    historic = float(summary["historic_revenue"].sum())
    threshold = variables.get("clv_at_risk_p_alive")
    rule = (
        f"P(alive) below {threshold}"
        if threshold is not None
        else "P(alive) below the at-risk threshold (clv_at_risk_p_alive)"
    )
    takeaway2 = (
        f"Revenue at risk: {_money(at_risk)} "
        f"({_pct(at_risk / historic if historic else float('nan'))} of historic "
        f"revenue) comes from customers with {rule}; the average customer is "
        f"{_pct(stats['p_alive'])} likely to still be active."
    )
    labels = [f"D{int(d)}" for d in summary["clv_decile"]]
    fig2 = go.Figure()
    fig2.add_bar(
        x=labels,
        y=summary["predicted_clv"],
        name=f"Predicted {horizon}-month CLV",
        marker_color=_BLUE,
        customdata=summary[["customers", "predicted_clv_share"]],
        hovertemplate=(
            "Decile %{x}: %{customdata[0]:,} customers<br>Predicted CLV %{y:,.0f} "
            "(%{customdata[1]:.1%})<extra></extra>"
        ),
    )
    fig2.add_bar(
        x=labels,
        y=summary["historic_revenue"],
        name="Historic revenue",
        marker_color=_GREY,
        hovertemplate="Decile %{x}<br>Historic revenue %{y:,.0f}<extra></extra>",
    )
    fig2.add_bar(
        x=labels,
        y=summary["revenue_at_risk"],
        name="Revenue at risk",
        marker_color=_RED,
        hovertemplate="Decile %{x}<br>Revenue at risk %{y:,.0f}<extra></extra>",
    )
    fig2.add_scatter(
        x=labels,
        y=summary["cumulative_predicted_clv_share"] * 100,
        name="Cumulative % of predicted CLV",
        yaxis="y2",
        mode="lines+markers",
        line={"color": _ORANGE, "width": 2},
        hovertemplate="Deciles 1\u2013%{x}: %{y:.1f}% of predicted CLV<extra></extra>",
    )
    _style(
        fig2,
        380,
        barmode="group",
        bargap=0.2,
        xaxis={"title": "CLV decile (D1 = top 10%)"},
        yaxis={"title": "Amount", "tickformat": "~s"},
        yaxis2={"title": "Cumulative share (%)", "range": [0, 105], **_PERCENT_AXIS},
    )
    tables = [_top_customers_table(wh, horizon)]
    return _Section(
        id="clv",
        title=title,
        intro=(
            f"Predicted value of each customer over the next {horizon} months "
            "(transaction model x Gamma-Gamma order value, discounted), by "
            "decile of predicted CLV."
        ),
        charts=[
            _chart(fig1, "clv-distribution", takeaway1),
            _chart(fig2, "clv-deciles", takeaway2),
        ],
        tables=tables,
    )


def _top_customers_table(wh: _Warehouse, horizon: int) -> _Table:
    has_dim = "dim_customers" in wh.tables
    extra = (
        "d.rfm_segment, d.cluster_name"
        if has_dim
        else "null as rfm_segment, null as cluster_name"
    )
    join = (
        "left join dim_customers as d on d.customer_id = c.customer_id"
        if has_dim
        else ""
    )
    df = wh.df(
        f"select c.clv_rank, c.customer_id, {extra}, c.p_alive, c.frequency, "
        "c.historic_value, c.expected_purchases_long, c.clv_long "
        f"from fct_customer_clv as c {join} order by c.clv_rank limit 20"
    )
    return _Table(
        columns=[
            "Rank",
            "Customer",
            "RFM segment",
            "Cluster",
            "P(alive)",
            "Repeat purchases",
            "Historic value",
            f"Expected purchases, {horizon} m",
            f"Predicted CLV, {horizon} m",
        ],
        rows=[
            [
                _num(r["clv_rank"]),
                str(r["customer_id"]),
                _text(r["rfm_segment"]) or "-",
                _text(r["cluster_name"]) or "-",
                _pct(r["p_alive"]),
                _num(r["frequency"]),
                _num(r["historic_value"]),
                _num(r["expected_purchases_long"], 1),
                _num(r["clv_long"]),
            ]
            for _, r in df.iterrows()
        ],
        numeric={0, 4, 5, 6, 7, 8},
        caption="Top 20 customers by predicted CLV",
    )


def _validation_section(wh: _Warehouse, ctx: _Context) -> _Section:
    title = "CLV model validation"
    if missing := wh.missing("fct_clv_validation"):
        return _missing_section(
            "clv-validation",
            title,
            missing,
            intro="Predicted against actual repeat purchases on a holdout period.",
        )
    df = wh.df("select * from fct_clv_validation")
    if df.empty:
        return _empty_section(
            "clv-validation", title, "fct_clv_validation has no rows."
        )
    overall = df[df["group_name"] == "all"]
    groups = df[df["group_name"] != "all"].sort_values("calibration_frequency_min")
    if len(overall):
        o = overall.iloc[0]
        days = (
            pd.Timestamp(o["holdout_end"]) - pd.Timestamp(o["calibration_end"])
        ).days
        takeaway = (
            f"Refitted on data up to {_date(o['calibration_end'])} and tested on the "
            f"{days} days to {_date(o['holdout_end'])}, the model predicted "
            f"{_num(o['predicted_repeat_purchases'])} repeat purchases against "
            f"{_num(o['actual_repeat_purchases'])} actual"
        )
        if not _is_missing(o["error_pct"]):
            takeaway += f" ({_signed_pct(float(o['error_pct']))})"
        if not _is_missing(o["correlation"]):
            takeaway += f"; per-customer correlation {float(o['correlation']):.2f}"
        takeaway += "."
    else:
        takeaway = "Predicted against actual repeat purchases by calibration frequency."
    labels = [str(g).replace("frequency ", "") for g in groups["group_name"]]
    groups = groups.assign(label=labels)
    sizable = groups[groups["customers"] >= 30].dropna(subset=["error_pct"])
    if len(sizable):
        worst = sizable.loc[sizable["error_pct"].abs().idxmax()]
        direction = "under" if worst["error_pct"] < 0 else "over"
        noun = "purchase" if worst["label"] == "1" else "purchases"
        takeaway += (
            f" It {direction}-predicts most for customers with {worst['label']} "
            f"repeat {noun} in calibration "
            f"({_signed_pct(float(worst['error_pct']))})."
        )
    top = float(
        groups[["actual_repeat_purchases", "predicted_repeat_purchases"]].max().max()
    )
    fig = go.Figure()
    fig.add_bar(
        x=labels,
        y=groups["actual_repeat_purchases"],
        name="Actual",
        marker_color=_GREY,
        customdata=groups[["customers"]],
        hovertemplate=(
            "Calibration frequency %{x}<br>%{customdata[0]:,} customers"
            "<br>Actual %{y:,.0f}<extra></extra>"
        ),
    )
    fig.add_bar(
        x=labels,
        y=groups["predicted_repeat_purchases"],
        name="Predicted",
        marker_color=_BLUE,
        text=[
            _signed_pct(float(e), 0) if not _is_missing(e) else ""
            for e in groups["error_pct"]
        ],
        textposition="outside",
        cliponaxis=False,
        hovertemplate=(
            "Calibration frequency %{x}<br>Predicted %{y:,.0f}<extra></extra>"
        ),
    )
    _style(
        fig,
        360,
        barmode="group",
        bargap=0.25,
        xaxis={
            "title": "Repeat purchases in the calibration period",
            "type": "category",
        },
        yaxis={
            "title": "Repeat purchases in the holdout",
            "tickformat": "~s",
            "range": [0, top * 1.15 if top > 0 else 1],
        },
    )
    return _Section(
        id="clv-validation",
        title=title,
        intro=(
            "How far to trust the CLV: the model refitted on an earlier period, "
            "its predicted repeat purchases compared with what customers then did "
            "(labels: prediction error)."
        ),
        charts=[_chart(fig, "clv-validation", takeaway)],
    )


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_report(
    warehouse_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str] = DEFAULT_OUT_PATH,
    *,
    run_results_path: str | os.PathLike[str] | None = None,
    title: str = "Customer value report",
) -> Path:
    """Render the customer value report of a warehouse to one HTML file.

    Opens the DuckDB file read-only, queries the marts, builds one plotly
    figure per chart and renders ``templates/report.html.j2`` with plotly.js
    and the stylesheet inlined, so the file needs no network to open.
    Sections whose marts are missing or empty show a note instead.

    Parameters
    ----------
    warehouse_path : str or path-like
        The DuckDB warehouse built by ``dbt build``.
    out_path : str or path-like, default ``reports/customer_value.html``
        Where to write the page; parent folders are created.
    run_results_path : str or path-like, optional
        dbt's ``run_results.json``, read for the input format and path (used
        only when its run wrote to this warehouse). Default
        ``target/run_results.json`` in the working directory.
    title : str, default "Customer value report"
        Page title and heading.

    Returns
    -------
    pathlib.Path
        The path of the written HTML file.

    Raises
    ------
    FileNotFoundError
        If ``warehouse_path`` does not exist.
    """
    warehouse = Path(warehouse_path)
    if not warehouse.exists():
        raise FileNotFoundError(
            f"warehouse not found: {warehouse} (build it with `make build` or "
            "`dbt build`, or pass --warehouse / set CV_WAREHOUSE_PATH)"
        )
    run_results = Path(run_results_path or Path("target") / "run_results.json")
    started = time.perf_counter()
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        wh = _Warehouse(conn, warehouse)
        variables, dbt_run = _read_run_results(run_results, warehouse)
        ctx = _context(wh)
        provenance = _provenance(wh, variables, dbt_run, ctx.as_of)
        builders: list[Callable[[], _Section]] = [
            lambda: _revenue_section(wh, ctx),
            lambda: _customers_section(wh, ctx),
            lambda: _cohort_section(wh, ctx),
            lambda: _weekday_hour_section(wh, ctx),
            lambda: _store_section(wh, ctx),
            lambda: _funnel_section(wh, ctx, provenance.input_format),
            lambda: _segments_section(wh, ctx),
            lambda: _migration_section(wh, ctx),
            lambda: _cluster_section(wh, ctx),
            lambda: _clv_section(wh, ctx, variables),
            lambda: _validation_section(wh, ctx),
        ]
        sections = [build() for build in builders]
        kpis = _kpis(wh)
    html = (
        _environment()
        .get_template("report.html.j2")
        .render(
            title=title,
            provenance=provenance,
            kpis=kpis,
            sections=sections,
            plotly_js=Markup(get_plotlyjs()),
            generated_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            render_seconds=f"{time.perf_counter() - started:.1f}",
        )
    )
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out


# --------------------------------------------------------------------------
# Headless Chromium over the DevTools protocol (pipe transport)
# --------------------------------------------------------------------------


class ReportBrowserError(RuntimeError):
    """Chromium is missing, failed to start, or did not answer in time."""


def find_chromium() -> str | None:
    """Return a Chromium/Chrome binary: ``$CV_CHROMIUM``, else a usual path.

    Returns
    -------
    str or None
        The path of an executable, or None when none is installed.
    """
    candidates = [os.environ.get("CV_CHROMIUM", "")]
    candidates += list(_CHROMIUM_CANDIDATES)
    candidates += [shutil.which(n) or "" for n in ("chromium", "google-chrome")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


class HeadlessChromium:
    """A headless Chromium page driven over the DevTools protocol on a pipe.

    Chromium runs with ``--remote-debugging-pipe``: it reads commands on file
    descriptor 3 and writes replies and events on 4, as NUL-terminated JSON.
    Only the standard library is needed (no chromedriver, no websocket, no
    network port). Console errors, uncaught exceptions, log errors and every
    request to a URL that is not ``file:``, ``data:`` or ``about:`` are
    collected while the page is open.

    Parameters
    ----------
    binary : str, optional
        Chromium executable; default :func:`find_chromium`.
    width, height : int, default 1200 x 900
        Viewport size in CSS pixels.
    timeout : float, default 60
        Seconds to wait for any one answer from the browser.

    Raises
    ------
    ReportBrowserError
        When no Chromium is installed (the message says how to install it).

    Examples
    --------
    >>> with HeadlessChromium() as browser:  # doctest: +SKIP
    ...     browser.open("reports/customer_value.html")
    ...     browser.screenshot("reports/customer_value.png")
    """

    FLAGS = (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-default-apps",
        "--hide-scrollbars",
        "--mute-audio",
        "--remote-debugging-pipe",
    )

    def __init__(
        self,
        binary: str | None = None,
        width: int = 1200,
        height: int = 900,
        timeout: float = 60.0,
    ) -> None:
        found = binary or find_chromium()
        if not found:
            raise ReportBrowserError(f"Chromium not found: {_INSTALL_HINT}")
        self.binary = found
        self.width = width
        self.height = height
        self.timeout = timeout
        self.console_errors: list[str] = []
        self.external_requests: list[str] = []
        self._events: list[dict[str, Any]] = []
        self._buffer = b""
        self._next_id = 0
        self._pid: int | None = None
        self._write_fd: int | None = None
        self._read_fd: int | None = None
        self._session: str | None = None
        self._profile: str | None = None
        self._log: Any = None

    # -- process -----------------------------------------------------------

    def __enter__(self) -> HeadlessChromium:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        """Start Chromium with a fresh profile and open one blank page."""
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        import fcntl  # POSIX only; imported here so the report renders anywhere

        self._profile = tempfile.mkdtemp(prefix="cv-chromium-")
        commands_r, commands_w = os.pipe()  # we write, Chromium reads fd 3
        replies_r, replies_w = os.pipe()  # Chromium writes fd 4, we read
        # Keep the child's ends above 4, so mapping them onto 3 and 4 never
        # overwrites one with the other.
        child_r = fcntl.fcntl(commands_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_w = fcntl.fcntl(replies_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(commands_r)
        os.close(replies_w)
        self._write_fd = commands_w
        self._read_fd = replies_r
        self._log = tempfile.TemporaryFile()
        argv = [
            self.binary,
            *self.FLAGS,
            f"--user-data-dir={self._profile}",
            f"--window-size={self.width},{self.height}",
            "about:blank",
        ]
        try:
            self._pid = os.posix_spawn(
                self.binary,
                argv,
                os.environ,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_DUP2, self._log.fileno(), 1),
                    (os.POSIX_SPAWN_DUP2, self._log.fileno(), 2),
                    (os.POSIX_SPAWN_DUP2, child_r, 3),
                    (os.POSIX_SPAWN_DUP2, child_w, 4),
                ],
                setsid=True,
            )
        finally:
            os.close(child_r)
            os.close(child_w)
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self._send(
            "Target.attachToTarget", {"targetId": target, "flatten": True}
        )["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {
                "width": self.width,
                "height": self.height,
                "deviceScaleFactor": 1,
                "mobile": False,
            },
        )

    def close(self) -> None:
        """Stop Chromium and remove its profile."""
        if self._pid is not None:
            try:
                self._send("Browser.close", timeout=5)
            except (ReportBrowserError, OSError):
                pass
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    if os.waitpid(self._pid, os.WNOHANG) != (0, 0):
                        break
                except ChildProcessError:  # already reaped
                    break
                time.sleep(0.05)
            else:
                try:  # the process group of the browser we started (setsid)
                    os.killpg(self._pid, signal.SIGKILL)
                    os.waitpid(self._pid, 0)
                except (ProcessLookupError, ChildProcessError):
                    pass
            self._pid = None
        for fd in (self._write_fd, self._read_fd):
            if fd is not None:
                os.close(fd)
        self._write_fd = self._read_fd = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    # -- protocol ----------------------------------------------------------

    def _send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method}
        if params:
            message["params"] = params
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self._write_fd, data) :]
        except OSError as error:  # the browser has gone away
            raise ReportBrowserError(f"{method}: {error}{self._log_tail()}") from error
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._receive(deadline, method)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise ReportBrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._on_event(reply)

    def _receive(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._read_fd], [], [], left)[0]:
                raise ReportBrowserError(
                    f"Chromium did not answer {waiting_for} in time{self._log_tail()}"
                )
            chunk = os.read(self._read_fd, 1 << 20)
            if not chunk:
                raise ReportBrowserError(f"Chromium exited{self._log_tail()}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def _log_tail(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        tail = self._log.read().decode(errors="replace").strip().splitlines()[-5:]
        return (": " + " | ".join(tail)) if tail else ""

    def _on_event(self, event: dict[str, Any]) -> None:
        method = event.get("method", "")
        params = event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in (
            "error",
            "assert",
        ):
            text = " ".join(
                str(a.get("value", a.get("description", ""))) for a in params["args"]
            )
            self.console_errors.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            exception = details.get("exception", {})
            self.console_errors.append(
                "uncaught: " + str(exception.get("description", details.get("text")))
            )
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            self.console_errors.append("log: " + params["entry"].get("text", ""))
        elif method == "Network.requestWillBeSent":
            url = params.get("request", {}).get("url", "")
            if not url.startswith(("file:", "data:", "about:", "blob:")):
                self.external_requests.append(url)
        self._events.append(event)

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a DevTools command to the page and return its result.

        Parameters
        ----------
        method : str
            Protocol method, e.g. ``"Page.navigate"``.
        params : dict, optional
            Its parameters.

        Returns
        -------
        dict
            The command's result.
        """
        return self._send(method, params, session=self._session)

    def _drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                self._on_event(self._receive(deadline, "events"))
            except ReportBrowserError:
                return

    def evaluate(self, expression: str) -> Any:
        """Evaluate a JavaScript expression in the page and return its value.

        Parameters
        ----------
        expression : str
            JavaScript; a promise is awaited.

        Returns
        -------
        Any
            The JSON value of the result.
        """
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise ReportBrowserError(f"JavaScript error: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def open(self, path: str | os.PathLike[str], settle: float = 0.5) -> None:
        """Load a local file and wait until it and its charts have rendered.

        Parameters
        ----------
        path : str or path-like
            The HTML file.
        settle : float, default 0.5
            Extra seconds to let late events (console errors) arrive.
        """
        url = Path(path).resolve().as_uri()
        self._events.clear()
        self.send("Page.navigate", {"url": url})
        deadline = time.monotonic() + self.timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self._events):
            self._on_event(self._receive(deadline, "Page.loadEventFired"))
        # Plotly draws each chart right after its <div>; wait until every
        # chart container holds its SVG, or give up at the deadline.
        while time.monotonic() < deadline:
            pending = self.evaluate(
                "Array.from(document.querySelectorAll('.chart')).filter("
                "c => !c.querySelector('svg.main-svg')).length"
            )
            if not pending:
                break
            self._drain(0.2)
        self._drain(settle)

    def screenshot(
        self, png_path: str | os.PathLike[str], full_page: bool = True
    ) -> Path:
        """Save a PNG of the page (the whole page by default).

        Parameters
        ----------
        png_path : str or path-like
            Output file; parent folders are created.
        full_page : bool, default True
            Capture the full scroll height, not only the viewport.

        Returns
        -------
        pathlib.Path
            The PNG written.
        """
        height = self.height
        if full_page:
            height = int(self.evaluate("document.documentElement.scrollHeight"))
            self.send(
                "Emulation.setDeviceMetricsOverride",
                {
                    "width": self.width,
                    "height": height,
                    "deviceScaleFactor": 1,
                    "mobile": False,
                },
            )
            self._drain(0.5)  # let responsive charts settle at the new size
        data = self.send(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": full_page},
        )["data"]
        out = Path(png_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(data))
        if full_page:
            self.send(
                "Emulation.setDeviceMetricsOverride",
                {
                    "width": self.width,
                    "height": self.height,
                    "deviceScaleFactor": 1,
                    "mobile": False,
                },
            )
        return out


def screenshot_report(
    html_path: str | os.PathLike[str],
    png_path: str | os.PathLike[str] | None = None,
    width: int = 1200,
) -> Path:
    """Open a rendered report in headless Chromium and save a full-page PNG.

    Parameters
    ----------
    html_path : str or path-like
        The report written by :func:`render_report`.
    png_path : str or path-like, optional
        Output PNG; default: ``html_path`` with the suffix ``.png``.
    width : int, default 1200
        Page width in CSS pixels.

    Returns
    -------
    pathlib.Path
        The PNG written.

    Raises
    ------
    ReportBrowserError
        If Chromium is not installed or the page shows JavaScript errors.
    """
    png = Path(png_path) if png_path else Path(html_path).with_suffix(".png")
    with HeadlessChromium(width=width) as browser:
        browser.open(html_path)
        browser.screenshot(png)
        if browser.console_errors:
            raise ReportBrowserError(
                "the page logged errors: " + "; ".join(browser.console_errors)
            )
    return png


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: render the report, optionally with a screenshot.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments; default ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit code: 0 on success, 1 on a missing warehouse or browser error.
    """
    parser = argparse.ArgumentParser(
        prog="python -m python_udfs.report",
        description="Render the customer value report (one self-contained HTML file).",
    )
    parser.add_argument(
        "--warehouse",
        default=os.environ.get("CV_WAREHOUSE_PATH", DEFAULT_WAREHOUSE_PATH),
        help="DuckDB warehouse (default: $CV_WAREHOUSE_PATH or %(default)s)",
    )
    parser.add_argument(
        "--out", default=DEFAULT_OUT_PATH, help="output HTML (default: %(default)s)"
    )
    parser.add_argument(
        "--run-results",
        default=None,
        help="dbt run_results.json with the input vars "
        "(default: target/run_results.json)",
    )
    parser.add_argument(
        "--screenshot",
        action="store_true",
        help="also save a full-page PNG beside the HTML with headless Chromium",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        out = render_report(args.warehouse, args.out, run_results_path=args.run_results)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except duckdb.IOException as error:  # e.g. locked by a running dbt build
        print(
            f"error: cannot open {args.warehouse} read-only ({error}); if dbt is "
            "building it, wait for the build to finish",
            file=sys.stderr,
        )
        return 1
    size = out.stat().st_size / 1e6
    print(f"wrote {out} ({size:.1f} MB) in {time.perf_counter() - started:.1f} s")
    if args.screenshot:
        try:
            png = screenshot_report(out)
        except ReportBrowserError as error:
            print(f"error: screenshot: {error}", file=sys.stderr)
            return 1
        print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
