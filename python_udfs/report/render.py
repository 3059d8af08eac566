"""Render the report: query the marts, build the sections, fill the template."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import jinja2
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from python_udfs.report.header import _context, _kpis, _provenance, _read_run_results
from python_udfs.report.page import _Section
from python_udfs.report.sections_clusters import _cluster_section
from python_udfs.report.sections_clv import _clv_section, _validation_section
from python_udfs.report.sections_customers import (
    _cohort_section,
    _customers_section,
    _funnel_section,
)
from python_udfs.report.sections_revenue import (
    _revenue_section,
    _store_section,
    _weekday_hour_section,
)
from python_udfs.report.sections_rfm import _migration_section, _segments_section
from python_udfs.report.warehouse import _Warehouse

__all__ = ["DEFAULT_OUT_PATH", "DEFAULT_WAREHOUSE_PATH", "render_report"]

#: Default working warehouse, relative to the working directory (as in the dbt
#: profile); the report reads its serving snapshot (python_udfs.serving).
DEFAULT_WAREHOUSE_PATH = "warehouse/customer_value.duckdb"
#: Default output file, relative to the working directory.
DEFAULT_OUT_PATH = "reports/customer_value.html"

_TEMPLATES = Path(__file__).resolve().parent / "templates"


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
            f"warehouse not found: {warehouse} (a `dbt build` or `make build` "
            "that ends without errors publishes the marts there; or pass "
            "--warehouse, or set CV_SERVING_PATH / CV_WAREHOUSE_PATH)"
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
