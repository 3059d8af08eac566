"""Formatting of numbers, amounts, shares and dates for the report's text."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


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
