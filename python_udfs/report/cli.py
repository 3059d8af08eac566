"""Command line: ``python -m python_udfs.report [--warehouse PATH] [--out FILE]``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

import duckdb

from python_udfs.report.browser import ReportBrowserError, screenshot_report
from python_udfs.report.render import (
    DEFAULT_OUT_PATH,
    DEFAULT_WAREHOUSE_PATH,
    render_report,
)
from python_udfs.serving import serving_path

__all__ = ["main"]


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
        default=str(
            serving_path(os.environ.get("CV_WAREHOUSE_PATH", DEFAULT_WAREHOUSE_PATH))
        ),
        help="DuckDB file with the marts (default: the serving snapshot of the "
        "build, $CV_SERVING_PATH or beside $CV_WAREHOUSE_PATH: %(default)s)",
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
    except duckdb.IOException as error:  # e.g. the working file, locked by dbt
        print(
            f"error: cannot open {args.warehouse} read-only ({error}); read the "
            "serving snapshot a build publishes, not the warehouse it writes",
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
