"""Command line of ``cv-generate`` (and ``python -m python_udfs.generator``)."""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Sequence
from pathlib import Path

from python_udfs.generator.config import (
    _DEFAULT_CHUNK_CUSTOMERS,
    DEFAULT_DIRTY_SHARES,
    DIRTY_KINDS,
    FORMATS,
    GeneratorConfig,
)
from python_udfs.generator.run import generate

__all__ = ["main"]


def _dirty_share_argument(text: str) -> tuple[str, float]:
    """Parse ``KIND=FRACTION``."""
    kind, sep, value = text.partition("=")
    kind = kind.strip()
    if not sep or kind not in DIRTY_KINDS:
        raise argparse.ArgumentTypeError(
            f"expected KIND=FRACTION with KIND one of {', '.join(DIRTY_KINDS)}"
        )
    try:
        share = float(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from exc
    if not 0.0 <= share <= 1.0:
        raise argparse.ArgumentTypeError(f"fraction must be in [0, 1]: {share}")
    return kind, share


def _date_argument(text: str) -> str:
    """Validate an ISO date argument."""
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text}") from exc


def _positive_int(text: str) -> int:
    """Parse a positive integer (underscores allowed: 1_000_000)."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1: {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    """Command-line parser of ``cv-generate``."""
    defaults = GeneratorConfig()
    parser = argparse.ArgumentParser(
        prog="cv-generate",
        description="Write deterministic synthetic order lines (BG/NBD purchases, "
        "Gamma-Gamma order values) plus params.json with exact counts.",
    )
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--customers",
        type=_positive_int,
        help="number of customers (default 10000 when --lines is not given)",
    )
    size.add_argument(
        "--lines",
        type=_positive_int,
        help="generate customers until at least N rows are written",
    )
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--format", choices=FORMATS, default="parquet", dest="fmt")
    parser.add_argument("--start", type=_date_argument, default=defaults.start)
    parser.add_argument(
        "--end", type=_date_argument, default=defaults.end, help="exclusive"
    )
    model = parser.add_argument_group("model (time unit: days)")
    for name, text in (
        ("r", "BG/NBD: purchase rate ~ Gamma(shape=r, rate=alpha)"),
        ("alpha", "BG/NBD rate parameter of the purchase-rate Gamma"),
        ("a", "BG/NBD: dropout probability ~ Beta(a, b)"),
        ("b", "BG/NBD dropout Beta's second shape"),
        ("p", "Gamma-Gamma: order value ~ Gamma(shape=p, rate=nu)"),
        ("q", "Gamma-Gamma: nu ~ Gamma(shape=q, rate=v)"),
        ("v", "Gamma-Gamma rate parameter of nu"),
    ):
        default = getattr(defaults, name)
        model.add_argument(
            f"--{name}", type=float, default=default, help=f"{text} ({default})"
        )
    model.add_argument(
        "--return-share",
        type=float,
        default=defaults.return_share,
        help="share of orders with a return line (%(default)s)",
    )
    parser.add_argument(
        "--dirty-share",
        action="append",
        type=_dirty_share_argument,
        default=[],
        metavar="KIND=FRACTION",
        help="share of lines getting a dirty copy of KIND (repeatable); kinds: "
        + ", ".join(f"{k} ({v})" for k, v in DEFAULT_DIRTY_SHARES.items()),
    )
    parser.add_argument(
        "--clean",
        action="store_true",
        help="set every dirty share to 0 (before applying --dirty-share)",
    )
    parser.add_argument(
        "--events",
        action="store_true",
        help="also write events.<format> in the REES46 behaviour layout",
    )
    parser.add_argument(
        "--browse-sessions",
        type=float,
        default=defaults.browse_sessions,
        help="mean browsing-only sessions per customer with --events (%(default)s)",
    )
    parser.add_argument(
        "--chunk-customers",
        type=_positive_int,
        default=_DEFAULT_CHUNK_CUSTOMERS,
        help=argparse.SUPPRESS,
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``cv-generate``.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        Process exit status (0 on success).
    """
    parser = _parser()
    args = parser.parse_args(argv)
    shares = dict(DEFAULT_DIRTY_SHARES)
    if args.clean:
        shares = dict.fromkeys(DIRTY_KINDS, 0.0)
    shares.update(dict(args.dirty_share))
    config = GeneratorConfig(
        seed=args.seed,
        start=args.start,
        end=args.end,
        r=args.r,
        alpha=args.alpha,
        a=args.a,
        b=args.b,
        p=args.p,
        q=args.q,
        v=args.v,
        return_share=args.return_share,
        dirty_shares=shares,
        browse_sessions=args.browse_sessions,
    )
    try:
        config.validate()
    except ValueError as exc:
        parser.error(str(exc))
    began = time.perf_counter()
    params = generate(
        args.out,
        customers=args.customers,
        lines=args.lines,
        fmt=args.fmt,
        config=config,
        events=args.events,
        chunk_customers=args.chunk_customers,
    )
    elapsed = time.perf_counter() - began
    summary = (
        f"wrote {params['lines_written']:,} lines "
        f"({params['sales_lines']:,} sales, {params['return_lines']:,} returns, "
        f"{params['dirty_lines']:,} dirty) for {params['n_customers']:,} customers "
        f"to {args.out / params['files']['order_lines']}"
    )
    if params["events"] is not None:
        summary += f" and {params['events']['events_written']:,} events"
    print(f"{summary} in {elapsed:.1f} s")
    return 0
