"""The customer value report: rendered from a small hand-made warehouse.

The tests check the HTML a reader gets (self-contained, every section, the
takeaway sentences computed from the data, notes for what is missing). The
browser tests are in test_report_browser.py; the warehouse and the
sentences in report_warehouse.py.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from report_warehouse import (
    CLV_TAKEAWAYS,
    SECTION_TITLES,
    TAKEAWAYS,
    page_text,
)

from python_udfs import report
from python_udfs.report import render_report
from python_udfs.report.warehouse import _QUERIES, _Warehouse

PROJECT_DIR = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------
# The HTML
# --------------------------------------------------------------------------

EXTERNAL_REFERENCE = re.compile(
    r"<(?:script|link|img|iframe|source|video|audio)\b[^>]*?"
    r"\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//",
    re.I,
)


def test_report_is_one_self_contained_file(warehouse, tmp_path, no_run_results):
    out = render_report(
        warehouse, tmp_path / "out" / "r.html", run_results_path=no_run_results
    )

    assert out == tmp_path / "out" / "r.html"
    markup = out.read_text(encoding="utf-8")
    assert not EXTERNAL_REFERENCE.search(markup)
    assert not re.search(r"@import\s+url\(\s*[\"']?https?:", markup)
    # plotly.js is inlined exactly once (in <head>); no script has a src.
    assert len(re.findall(r"\* plotly\.js v\d", markup)) == 1
    assert not re.search(r"<script\b[^>]*\bsrc\s*=", markup, re.I)
    assert markup.index("plotly.js v") < markup.index("</head>")
    # 11 charts: the funnel mart is empty, so its section is a note.
    assert markup.count('class="plotly-graph-div"') == 11
    assert "cdn.plot.ly" not in re.sub(r"<script\b.*?</script>", "", markup, flags=re.S)


def test_report_has_every_section_and_takeaway(warehouse, tmp_path, no_run_results):
    out = render_report(warehouse, tmp_path / "r.html", run_results_path=no_run_results)
    text = page_text(out)

    positions = [text.find(title) for title in SECTION_TITLES]
    assert -1 not in positions, [
        t for t, p in zip(SECTION_TITLES, positions, strict=True) if p < 0
    ]
    assert positions == sorted(positions)
    for sentence in TAKEAWAYS + CLV_TAKEAWAYS:
        assert sentence in text
    assert "The input has no clickstream events" in text
    assert "Not built in this warehouse" not in text


def test_header_says_what_the_report_is_based_on(warehouse, tmp_path, no_run_results):
    text = page_text(
        render_report(warehouse, tmp_path / "r.html", run_results_path=no_run_results)
    )

    assert "As of 2024-04-16" in text
    assert "6 read; 4 accepted (3 sales, 1 return); 2 rejected (33.3%)" in text
    assert "missing_customer_id : 2" in text
    assert "data/orders.csv" in text  # the file actually read
    assert "Input format unknown" in text
    assert "r = 0.83 \u00b1 0.03" in text and "v = 480 \u00b1 40" in text
    assert "BG/NBD" in text and "Gamma-Gamma" in text


def test_tables_top_customers_and_segments(warehouse, tmp_path, no_run_results):
    text = page_text(
        render_report(warehouse, tmp_path / "r.html", run_results_path=no_run_results)
    )

    assert "Top 20 customers by predicted CLV" in text
    # Rank 1 joined to dim_customers for its segment and cluster.
    assert "1 C01 Champions VIP 95.0% 9 300 4.0 5,000" in text
    assert "RFM segment summary, in priority order" in text
    assert "Champions Best 2 20.0% 2,190 60.0%" in text
    assert "Reward them" in text


def test_missing_clv_marts_render_a_note(
    warehouse_without_clv, tmp_path, no_run_results
):
    out = render_report(
        warehouse_without_clv, tmp_path / "r.html", run_results_path=no_run_results
    )
    text = page_text(out)

    for title in SECTION_TITLES:
        assert title in text
    for sentence in TAKEAWAYS:
        assert sentence in text
    assert (
        "Not built in this warehouse: fct_customer_clv and fct_clv_summary are "
        "missing." in text
    )
    assert "Not built in this warehouse: fct_clv_validation is missing." in text
    assert "fct_clv_model_params is missing" in text
    assert out.read_text().count('class="plotly-graph-div"') == 8


def test_input_comes_from_dbt_run_results_of_this_warehouse(warehouse, tmp_path):
    def run_results(database: str) -> Path:
        path = tmp_path / f"run_results_{database}.json"
        path.write_text(
            json.dumps(
                {
                    "metadata": {
                        "dbt_version": "1.11.0",
                        "generated_at": "2024-04-17T02:00:00Z",
                    },
                    "args": {
                        "which": "build",
                        "vars": {
                            "input_format": "online_retail",
                            "input_path": "exports/retail.csv",
                            "clv_at_risk_p_alive": 0.4,
                        },
                    },
                    "results": [
                        {"relation_name": f'"{database}"."main"."fct_revenue_monthly"'}
                    ],
                }
            )
        )
        return path

    text = page_text(
        render_report(
            warehouse, tmp_path / "a.html", run_results_path=run_results("shop")
        )
    )
    assert "Input format online_retail (from dbt target/run_results.json)" in text
    assert "Input path exports/retail.csv" in text
    assert "customers with P(alive) below 0.4;" in text
    assert "last dbt 1.11.0 build at 2024-04-17 02:00:00 UTC" in text

    # A run that wrote to another warehouse says nothing about this one.
    text = page_text(
        render_report(
            warehouse, tmp_path / "b.html", run_results_path=run_results("other")
        )
    )
    assert "Input format unknown" in text and "online_retail" not in text


def test_input_comes_from_fct_input_summary(warehouse, tmp_path):
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(
            "update fct_input_summary set input_format = 'cdnow', "
            "input_path = 'CDNOW_master.txt'"
        )
    # The warehouse's own record of its build wins over dbt's last command.
    run_results = tmp_path / "run_results.json"
    run_results.write_text(
        json.dumps(
            {
                "args": {"vars": {"input_format": "events"}},
                "results": [{"relation_name": '"shop"."main"."fct_revenue_monthly"'}],
            }
        )
    )
    text = page_text(
        render_report(warehouse, tmp_path / "r.html", run_results_path=run_results)
    )
    assert "Input format cdnow (from fct_input_summary)" in text
    assert "Input path CDNOW_master.txt" in text
    assert "online_retail" not in text


def test_report_reads_marts_only(warehouse, tmp_path, no_run_results):
    # A warehouse built before fct_input_summary existed: the report does not
    # fall back to the staging and intermediate tables it has.
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("drop table fct_input_summary")
        conn.execute(
            "create table base_input__rows as select 'data/orders.csv' as "
            "source_file, 'sale' as row_status, null as reject_reason"
        )
        conn.execute(
            "create table int_run_metadata as select 'cdnow' as input_format, "
            "'CDNOW_master.txt' as input_path"
        )
    text = page_text(
        render_report(warehouse, tmp_path / "r.html", run_results_path=no_run_results)
    )
    assert "Input rows unknown (fct_input_summary is missing)" in text
    assert "Input format unknown" in text and "cdnow" not in text
    assert "data/orders.csv" not in text
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        wh = _Warehouse(conn, warehouse)
        assert "base_input__rows" not in wh.tables
        assert "int_run_metadata" not in wh.tables
        assert "fct_revenue_monthly" in wh.tables


def _tables_read(sql: str) -> set[str]:
    return set(duckdb.get_table_names(sql))


def test_every_query_reads_marts_only():
    read = {name: _tables_read(sql) for name, sql in _QUERIES.items()}
    assert all(read.values())
    assert {
        name: tables
        for name, tables in read.items()
        if not all(t.startswith(("fct_", "dim_")) for t in tables)
    } == {}


def _exposure_refs(name: str) -> set[str]:
    path = PROJECT_DIR / "models" / "marts" / "_marts__exposures.yml"
    exposures = yaml.safe_load(path.read_text())["exposures"]
    (exposure,) = [e for e in exposures if e["name"] == name]
    return set(re.findall(r"ref\('(\w+)'\)", " ".join(exposure["depends_on"])))


def test_exposure_lists_every_mart_the_report_reads(warehouse, tmp_path, monkeypatch):
    """The dbt exposure customer_value_report depends on exactly the marts
    the report's queries read, and a render runs no other query."""
    named = set().union(*(_tables_read(sql) for sql in _QUERIES.values()))
    assert _exposure_refs("customer_value_report") == named
    assert len(named) == 16

    queried: set[str] = set()
    execute = _Warehouse._execute

    def recording(self, query, params=None):
        queried.update(_tables_read(_QUERIES[query]))
        return execute(self, query, params)

    monkeypatch.setattr(_Warehouse, "_execute", recording)
    render_report(warehouse, tmp_path / "r.html", run_results_path=tmp_path / "none")
    # fct_customer_rfm and fct_input_summary are read for the as-of date only
    # without dim_customers, fct_input_summary always for the header.
    assert queried == named - {"fct_customer_rfm"}


def test_warehouse_is_opened_read_only(warehouse, tmp_path, no_run_results):
    # A read-only open coexists with another read-only connection; a writer
    # in this process would make duckdb refuse the second configuration.
    with duckdb.connect(str(warehouse), read_only=True):
        render_report(warehouse, tmp_path / "r.html", run_results_path=no_run_results)


def test_missing_warehouse_fails_with_a_hint(tmp_path):
    with pytest.raises(FileNotFoundError, match="CV_WAREHOUSE_PATH"):
        render_report(tmp_path / "nope.duckdb", tmp_path / "r.html")
    assert report.main(["--warehouse", str(tmp_path / "nope.duckdb")]) == 1


@pytest.mark.parametrize("variable", ["CV_WAREHOUSE_PATH", "CV_SERVING_PATH"])
def test_cli_reads_the_serving_snapshot_from_the_environment(
    warehouse, tmp_path, monkeypatch, capsys, variable
):
    """By default the report reads the serving snapshot: CV_SERVING_PATH, or
    the file beside the working warehouse CV_WAREHOUSE_PATH names."""
    monkeypatch.chdir(tmp_path)  # no target/run_results.json here
    monkeypatch.delenv("CV_SERVING_PATH", raising=False)
    served = tmp_path / "w_serving.duckdb"
    shutil.copy(warehouse, served)
    if variable == "CV_WAREHOUSE_PATH":
        monkeypatch.setenv(variable, str(tmp_path / "w.duckdb"))
    else:
        monkeypatch.setenv(variable, str(served))

    assert report.main([]) == 0

    out = tmp_path / "reports" / "customer_value.html"
    assert out.exists()
    assert f"wrote {Path('reports') / 'customer_value.html'}" in capsys.readouterr().out
    assert "Monthly net revenue" in page_text(out)
