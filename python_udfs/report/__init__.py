r"""Customer value report: one self-contained HTML page from the warehouse marts.

``python -m python_udfs.report [--warehouse PATH] [--out PATH] [--screenshot]``
reads the marts of a built warehouse (DuckDB, opened read-only), computes a
one-line takeaway for every chart from the data, and renders
``reports/customer_value.html`` with the Jinja2 templates in
``python_udfs/report/templates/``. :func:`render_report` does the same from
Python.

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
the mart ``fct_input_summary``, else from dbt's ``target/run_results.json``
when its last run wrote to this warehouse and was given the input vars, else
"unknown"), the files actually read and the accepted/rejected row counts
(``fct_input_summary``), the as-of date and the fitted CLV model parameters
(``fct_clv_model_params``).

The report reads marts only (tables ``fct_*`` and ``dim_*``); the dbt
exposure ``customer_value_report`` (``models/marts/_marts__exposures.yml``)
lists them.

:class:`HeadlessChromium` drives a local headless Chromium over the Chrome
DevTools Protocol on a pipe (standard library only, no driver and no
network), to take the ``--screenshot`` and to let the tests check the page in
a real browser.

Modules
-------
``formatting`` (numbers and dates in sentences), ``warehouse`` (read-only
access, every query), ``page`` (what the template receives), ``charts``
(plotly styling and the figure helpers the sections share), ``header``
(input, row counts, KPIs, model parameters), ``sections_revenue``,
``sections_customers``, ``sections_rfm``, ``sections_clusters``,
``sections_clv`` (the chart sections), ``render`` (Jinja2,
:func:`render_report`), ``browser`` (:class:`HeadlessChromium`) and ``cli``
(:func:`main`).

This package reads the warehouse itself, so unlike the other ``python_udfs``
modules (pure functions; only ``duckdb_plugin`` imports duckdb) it imports
duckdb: a report is the one place that has to.
"""

from python_udfs.report.browser import (
    HeadlessChromium,
    ReportBrowserError,
    find_chromium,
    screenshot_report,
)
from python_udfs.report.cli import main
from python_udfs.report.render import (
    DEFAULT_OUT_PATH,
    DEFAULT_WAREHOUSE_PATH,
    render_report,
)

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
