"""The customer value report: rendered from a small hand-made warehouse.

The unit tests check the HTML a reader gets (self-contained, every section,
the takeaway sentences computed from the data, notes for what is missing).
The browser tests open the page in headless Chromium, as a person would, and
check that it runs without JavaScript errors, draws every chart and needs no
network; they save a screenshot to ``reports/test_report.png``.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from python_udfs import report
from python_udfs.report import (
    HeadlessChromium,
    ReportBrowserError,
    find_chromium,
    render_report,
)

PROJECT_DIR = Path(__file__).resolve().parents[2]
SCREENSHOT = PROJECT_DIR / "reports" / "test_report.png"
MINUS = "\u2212"

SECTION_TITLES = [
    "What this report is based on",
    "Monthly net revenue",
    "Active, new and returning customers",
    "Cohort retention",
    "When customers buy",
    "Revenue by store",
    "Conversion funnel",
    "RFM segments",
    "Segment migration",
    "Customer clusters",
    "Customer lifetime value",
    "CLV model validation",
]

# Sentences the fixture's numbers imply, worked out by hand.
TAKEAWAYS = [
    "Net revenue grew 25.0% in March 2024, the last full month, to 1,250. "
    "April 2024 is incomplete (data up to 2024-04-15) and drawn lighter.",
    "In March 2024, 10 customers bought: 4 new (40%) and 6 returning; 50% of "
    "the previous month's customers came back.",
    "On average 33% of a cohort buys again the month after its first "
    "purchase; the best cohort, Feb 2024 (5 customers), kept 40%.",
    "Revenue peaks on Thursday 12:00\u201313:00 (50.0% of net revenue); "
    "Thursday is the strongest day (50%); no orders on Wed, Fri, Sat, Sun.",
    "The largest store, north, brings 75.0% of net revenue; the next, south, 25.0%.",
    "Champions are 20.0% of customers and bring 60.0% of net revenue; Loyal is "
    "the largest segment (50.0% of customers, 30.0% of revenue).",
    "From the end of March 2024 to the end of April 2024, 75% of customers "
    "stayed in their segment; the largest move was 2 customers from Loyal to "
    "Lost; 2 new customers joined.",
    "VIP (40.0% of customers) bring 80.0% of net revenue; Lapsed, the largest "
    "cluster (60.0%), brings 20.0%.",
]
CLV_TAKEAWAYS = [
    "The top 10% of customers hold 52% of the predicted 12-month CLV of 9,550; "
    "the median customer is worth 350.",
    "Revenue at risk: 300 (10.0% of historic revenue) comes from customers with "
    "P(alive) below the at-risk threshold (clv_at_risk_p_alive); the average "
    "customer is 80.0% likely to still be active.",
    "Refitted on data up to 2023-10-18 and tested on the 180 days to "
    f"2024-04-15, the model predicted 18 repeat purchases against 20 actual "
    f"({MINUS}10.0%); per-customer correlation 0.90. It over-predicts most for "
    "customers with 1 repeat purchase in calibration (+20.0%).",
]
CLV_TABLES = [
    "fct_clv_model_params",
    "fct_customer_clv",
    "fct_clv_summary",
    "fct_clv_validation",
]


# --------------------------------------------------------------------------
# A small warehouse with every mart the report reads
# --------------------------------------------------------------------------


def _months(*values: str) -> list[dt.date]:
    return [dt.date.fromisoformat(v) for v in values]


def _marts(clv: bool) -> dict[str, pd.DataFrame]:
    months = _months("2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01")
    customers = [f"C{i:02d}" for i in range(1, 11)]
    segments = ["Champions"] * 2 + ["Loyal"] * 5 + ["Lost"] * 3
    clusters = ["VIP"] * 4 + ["Lapsed"] * 6
    marts = {
        "base_input__rows": pd.DataFrame(
            {
                "source_file": ["data/orders.csv"] * 6,
                "source_row_number": range(1, 7),
                "row_status": [
                    "sale",
                    "sale",
                    "sale",
                    "return",
                    "rejected",
                    "rejected",
                ],
                "reject_reason": [None] * 4 + ["missing_customer_id"] * 2,
            }
        ),
        "fct_revenue_monthly": pd.DataFrame(
            {
                "month": months,
                "gross_revenue": [1100.0, 1050.0, 1300.0, 420.0],
                "returns_amount": [100.0, 50.0, 50.0, 20.0],
                "net_revenue": [1000.0, 1000.0, 1250.0, 400.0],
                "orders": [10, 11, 12, 4],
                "units": [30, 33, 36, 12],
                "active_customers": [10, 8, 10, 3],
                "average_order_value": [110.0, 95.5, 108.3, 105.0],
                "net_revenue_growth_pct": [None, 0.0, 25.0, -68.0],
            }
        ),
        "fct_customers_monthly": pd.DataFrame(
            {
                "month": months,
                "active_customers": [10, 8, 10, 3],
                "new_customers": [10, 5, 4, 2],
                "returning_customers": [0, 3, 6, 1],
                "new_customer_ratio": [1.0, 0.625, 0.4, 0.667],
                "retained_customers": [0, 3, 4, 1],
                "retention_rate": [None, 0.3, 0.5, 0.1],
            }
        ),
        "fct_cohort_retention": pd.DataFrame(
            {
                "cohort_month": [months[0]] * 4
                + [months[1]] * 3
                + [months[2]] * 2
                + [months[3]],
                "months_since_first_purchase": [0, 1, 2, 3, 0, 1, 2, 0, 1, 0],
                "month": months + months[1:] + months[2:] + months[3:],
                "cohort_customers": [10] * 4 + [5] * 3 + [4] * 2 + [2],
                "active_customers": [10, 3, 2, 1, 5, 2, 1, 4, 1, 2],
                "retention_rate": [1.0, 0.3, 0.2, 0.1, 1.0, 0.4, 0.2, 1.0, 0.25, 1.0],
                "net_revenue": [500.0] * 10,
                "cumulative_revenue_per_customer": [50.0] * 10,
            }
        ),
        "fct_revenue_by_weekday_hour": pd.DataFrame(
            {
                "iso_weekday": [4, 1, 2],
                "weekday_name": ["Thursday", "Monday", "Tuesday"],
                "hour_of_day": [12, 9, 10],
                "orders": [5, 3, 2],
                "gross_revenue": [550.0, 320.0, 210.0],
                "net_revenue": [500.0, 300.0, 200.0],
                "average_order_value": [110.0, 106.7, 105.0],
            }
        ),
        "fct_revenue_by_store_monthly": pd.DataFrame(
            {
                "month": [months[0], months[1], months[0]],
                "store_id": ["north", "north", "south"],
                "gross_revenue": [1600.0, 1500.0, 1100.0],
                "returns_amount": [50.0, 50.0, 100.0],
                "net_revenue": [1550.0, 1450.0, 1000.0],
                "orders": [8, 7, 6],
                "customers": [5, 4, 3],
                "average_order_value": [200.0, 214.3, 183.3],
            }
        ),
        "dim_customers": pd.DataFrame(
            {
                "customer_id": customers,
                "as_of_date": [dt.date(2024, 4, 16)] * 10,
                "rfm_segment": segments,
                "cluster_name": clusters,
            }
        ),
        "fct_rfm_segment_summary": pd.DataFrame(
            {
                "segment": ["Champions", "Loyal", "Lost"],
                "segment_priority": [1, 2, 11],
                "customers": [2, 5, 3],
                "customer_share": [0.2, 0.5, 0.3],
                "net_revenue": [2190.0, 1095.0, 365.0],
                "revenue_share": [0.6, 0.3, 0.1],
                "avg_recency_days": [5.0, 30.0, 200.0],
                "avg_frequency": [6.0, 3.0, 1.0],
                "avg_monetary": [1095.0, 219.0, 121.7],
                "description": ["Best", "Steady", "Gone"],
                "recommended_action": ["Reward them", "Upsell", "Ignore"],
            }
        ),
        "fct_rfm_segment_transitions": pd.DataFrame(
            {
                "from_month": [months[2]] * 5,
                "to_month": [months[3]] * 5,
                "from_segment": [
                    "Champions",
                    "Loyal",
                    "Loyal",
                    "Lost",
                    "(new customer)",
                ],
                "to_segment": ["Champions", "Loyal", "Lost", "Lost", "Loyal"],
                "is_same_segment": [True, True, False, True, False],
                "customers": [2, 3, 2, 1, 2],
                "share_of_from_segment": [1.0, 0.6, 0.4, 1.0, 1.0],
            }
        ),
        "dim_cluster_profiles": pd.DataFrame(
            {
                "cluster_id": [1, 2],
                "cluster_name": ["Lapsed", "VIP"],
                "customers": [6, 4],
                "customer_share": [0.6, 0.4],
                "centroid_recency_days": [150.0, 10.0],
                "centroid_frequency": [1.2, 6.0],
                "centroid_monetary": [120.0, 800.0],
                "median_recency_days": [140.0, 8.0],
                "median_frequency": [1.0, 5.0],
                "median_monetary": [100.0, 700.0],
                "net_revenue": [730.0, 2920.0],
                "revenue_share": [0.2, 0.8],
            }
        ),
    }
    if clv:
        clv_long = [5000.0, 2000.0, 1000.0, 500.0, 400.0, 300.0, 200.0, 100.0, 50.0]
        clv_long.append(0.4)
        p_alive = [0.95, 0.9, 0.9, 0.85, 0.8, 0.8, 0.75, 0.7, 0.7, 0.65]
        marts["fct_customer_clv"] = pd.DataFrame(
            {
                "customer_id": customers,
                "frequency": [9, 7, 5, 4, 3, 2, 2, 1, 1, 0],
                "recency": [50.0] * 10,
                "T": [60.0] * 10,
                "monetary_value": [300.0] * 10,
                "p_alive": p_alive,
                "churn_probability": [1 - p for p in p_alive],
                "expected_purchases_short": [1.0] * 10,
                "expected_purchases_long": [4.0] * 10,
                "clv_short": [v / 4 for v in clv_long],
                "clv_long": clv_long,
                "short_horizon_months": [3] * 10,
                "long_horizon_months": [12] * 10,
                "expected_average_order_value": [300.0] * 10,
                "historic_value": [300.0] * 10,
                "discount_rate": [0.01] * 10,
                "clv_rank": range(1, 11),
                "clv_decile": range(1, 11),
            }
        )
        total = sum(clv_long)
        cumulative = pd.Series(clv_long).cumsum() / total
        marts["fct_clv_summary"] = pd.DataFrame(
            {
                "clv_decile": range(1, 11),
                "customers": [1] * 10,
                "predicted_clv": clv_long,
                "predicted_clv_share": [v / total for v in clv_long],
                "cumulative_predicted_clv_share": cumulative,
                "historic_revenue": [300.0] * 10,
                "revenue_at_risk": [0.0] * 8 + [100.0, 200.0],
                "avg_p_alive": p_alive,
            }
        )
        marts["fct_clv_model_params"] = pd.DataFrame(
            {
                "model": ["bgnbd"] * 4 + ["gamma_gamma"] * 3,
                "parameter": ["r", "alpha", "a", "b", "p", "q", "v"],
                "value": [0.83, 9.9, 0.2, 2.6, 2.1, 3.4, 480.0],
                "standard_error": [0.03, 0.4, 0.01, 0.2, 0.1, 0.1, 40.0],
                "customers_fitted": [10] * 4 + [9] * 3,
                "log_likelihood": [-120.5] * 4 + [-80.25] * 3,
                "converged": [True] * 7,
                "iterations": [36] * 4 + [21] * 3,
                "time_unit": ["week"] * 7,
                "observation_end": [dt.date(2024, 4, 16)] * 7,
                "penalizer": [0.0] * 7,
                "fitted_at": [dt.datetime(2024, 4, 17, 2, 0)] * 7,
            }
        )
        marts["fct_clv_validation"] = pd.DataFrame(
            {
                "group_name": ["all", "frequency 0", "frequency 1"],
                "calibration_frequency_min": [None, 0, 1],
                "customers": [75, 40, 35],
                "actual_repeat_purchases": [20.0, 10.0, 10.0],
                "predicted_repeat_purchases": [18.0, 9.0, 12.0],
                "error_pct": [-10.0, -10.0, 20.0],
                "mae": [0.5, 0.4, 0.6],
                "rmse": [0.7, 0.6, 0.8],
                "correlation": [0.9, 0.5, 0.6],
                "actual_mean_order_value": [300.0, 280.0, 320.0],
                "predicted_mean_order_value": [290.0, 270.0, 310.0],
                "calibration_end": [dt.date(2023, 10, 18)] * 3,
                "holdout_end": [dt.date(2024, 4, 15)] * 3,
            }
        )
    return marts


def build_warehouse(path: Path, clv: bool = True) -> Path:
    """Write the fixture marts to a DuckDB file; the funnel mart is empty."""
    with duckdb.connect(str(path)) as conn:
        for name, frame in _marts(clv).items():
            conn.register("frame", frame)
            conn.execute(f"create table {name} as select * from frame")
            conn.unregister("frame")
        conn.execute(
            "create table fct_funnel_daily (event_date date, sessions bigint, "
            "users bigint, users_viewed bigint, users_carted bigint, "
            "users_purchased bigint, views bigint, carts bigint, removals bigint, "
            "purchases bigint, view_to_cart_rate double, "
            "cart_to_purchase_rate double, view_to_purchase_rate double, "
            "revenue double)"
        )
    return path


def page_text(path: Path) -> str:
    """The page with tags removed and entities decoded: what a reader sees."""
    markup = path.read_text(encoding="utf-8")
    body = markup[markup.index("<body>") :]
    body = re.sub(r"<script\b.*?</script>", " ", body, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", body))
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return build_warehouse(tmp_path / "shop.duckdb")


@pytest.fixture
def warehouse_without_clv(tmp_path: Path) -> Path:
    return build_warehouse(tmp_path / "shop.duckdb", clv=False)


@pytest.fixture
def no_run_results(tmp_path: Path) -> Path:
    return tmp_path / "absent_run_results.json"


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


def test_input_falls_back_to_int_run_metadata(warehouse, tmp_path, no_run_results):
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(
            "create table int_run_metadata as select 'cdnow' as input_format, "
            "'CDNOW_master.txt' as input_path"
        )
    text = page_text(
        render_report(warehouse, tmp_path / "r.html", run_results_path=no_run_results)
    )
    assert "Input format cdnow (from int_run_metadata)" in text
    assert "Input path CDNOW_master.txt" in text


def test_warehouse_is_opened_read_only(warehouse, tmp_path, no_run_results):
    # A read-only open coexists with another read-only connection; a writer
    # in this process would make duckdb refuse the second configuration.
    with duckdb.connect(str(warehouse), read_only=True):
        render_report(warehouse, tmp_path / "r.html", run_results_path=no_run_results)


def test_missing_warehouse_fails_with_a_hint(tmp_path):
    with pytest.raises(FileNotFoundError, match="CV_WAREHOUSE_PATH"):
        render_report(tmp_path / "nope.duckdb", tmp_path / "r.html")
    assert report.main(["--warehouse", str(tmp_path / "nope.duckdb")]) == 1


def test_cli_reads_the_warehouse_from_the_environment(
    warehouse, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)  # no target/run_results.json here
    monkeypatch.setenv("CV_WAREHOUSE_PATH", str(warehouse))

    assert report.main([]) == 0

    out = tmp_path / "reports" / "customer_value.html"
    assert out.exists()
    assert f"wrote {Path('reports') / 'customer_value.html'}" in capsys.readouterr().out
    assert "Monthly net revenue" in page_text(out)


# --------------------------------------------------------------------------
# In a real browser
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if find_chromium() is None:
        pytest.skip(
            "headless Chromium not installed: run `make browser` "
            "(scripts/install_browser.sh: apt-get install -y chromium), "
            "or set CV_CHROMIUM to a Chromium/Chrome binary"
        )
    try:
        with HeadlessChromium(width=1200, height=900) as chromium:
            yield chromium
    except ReportBrowserError as error:  # pragma: no cover - broken install
        pytest.fail(f"Chromium is installed but did not start: {error}")


CHART_STATE = """
Array.from(document.querySelectorAll('.chart')).map(chart => {
  const svg = chart.querySelector('svg.main-svg');
  const box = chart.getBoundingClientRect();
  return {
    id: chart.querySelector('.plotly-graph-div').id,
    svg: !!svg,
    elements: svg ? svg.querySelectorAll('*').length : 0,
    // bars, lines, funnels: g.trace; heatmaps: an <image> in g.hm
    traces: chart.querySelectorAll('.trace, g.hm > image').length,
    width: box.width,
    height: box.height,
  };
})
"""


def _check_page(browser: HeadlessChromium, page: Path, charts: int) -> None:
    browser.console_errors.clear()
    browser.external_requests.clear()
    browser.open(page)

    assert browser.console_errors == []
    assert browser.external_requests == []
    state = browser.evaluate(CHART_STATE)
    assert len(state) == charts
    for chart in state:
        assert chart["svg"] and chart["elements"] > 20, chart
        assert chart["traces"] >= 1, chart
        assert chart["width"] > 600 and chart["height"] > 200, chart
    takeaways = browser.evaluate(
        "Array.from(document.querySelectorAll('.takeaway')).map(p => p.innerText)"
    )
    assert len(takeaways) == charts and all(takeaways)


def test_browser_renders_every_chart_without_errors(
    browser, warehouse, tmp_path, no_run_results
):
    page = render_report(
        warehouse, tmp_path / "customer_value.html", run_results_path=no_run_results
    )
    _check_page(browser, page, charts=11)

    png = browser.screenshot(SCREENSHOT)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = (
        int.from_bytes(data[16:20], "big"),
        int.from_bytes(data[20:24], "big"),
    )
    assert width == 1200 and height > 3000  # the whole page, not the viewport
    assert len(data) > 100_000


def test_browser_page_without_clv_marts(
    browser, warehouse_without_clv, tmp_path, no_run_results
):
    page = render_report(
        warehouse_without_clv, tmp_path / "r.html", run_results_path=no_run_results
    )
    _check_page(browser, page, charts=8)
    notes = browser.evaluate(
        "Array.from(document.querySelectorAll('.note.missing')).length"
    )
    assert notes == 3  # model parameters, CLV, CLV validation


def test_cli_screenshot_writes_a_png_beside_the_html(
    browser, warehouse, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "site" / "report.html"

    assert (
        report.main(["--warehouse", str(warehouse), "--out", str(out), "--screenshot"])
        == 0
    )

    png = out.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
