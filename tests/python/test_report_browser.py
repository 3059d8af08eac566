"""The customer value report in a real browser.

The tests open the page in headless Chromium, as a person would, and check
that it runs without JavaScript errors, draws every chart and needs no
network; they save a screenshot to ``reports/test_report.png``. They skip,
saying how to install it, when there is no Chromium.
"""

from __future__ import annotations

from pathlib import Path

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
