"""Seed, parameters and fixed constants of the generator's story.

The public constants (formats, dirty kinds, column names), the fixed parts
of the story, :class:`GeneratorConfig` and the calendar helpers; the story
itself is described in the package docstring (:mod:`python_udfs.generator`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "DEFAULT_DIRTY_SHARES",
    "DIRTY_KINDS",
    "EVENT_COLUMNS",
    "FORMATS",
    "GENERATOR_VERSION",
    "ORDER_LINE_COLUMNS",
    "GeneratorConfig",
    "expected_mean_order_value",
]

GENERATOR_VERSION = "1.1.0"
"""Version of the story and of the random streams; bump when output changes."""

FORMATS = ("parquet", "csv", "csv.gz")
"""Output formats accepted by :func:`generate` and ``--format``."""

DIRTY_KINDS = (
    "missing_customer_id",
    "missing_timestamp",
    "unparseable_timestamp",
    "future_timestamp",
    "zero_quantity",
    "non_positive_price",
    "exact_duplicate",
)
"""Kinds of dirty rows, named after the reject reasons of the dbt project."""

DEFAULT_DIRTY_SHARES: Mapping[str, float] = {
    "missing_customer_id": 0.004,
    "missing_timestamp": 0.0,
    "unparseable_timestamp": 0.002,
    "future_timestamp": 0.002,
    "zero_quantity": 0.002,
    "non_positive_price": 0.003,
    "exact_duplicate": 0.005,
}
"""Default share of emitted sale and return lines that get each dirty copy."""

ORDER_LINE_COLUMNS = (
    "order_id",
    "customer_id",
    "ordered_at",
    "product_id",
    "product_name",
    "product_category",
    "quantity",
    "unit_price",
    "store_id",
)
EVENT_COLUMNS = (
    "event_time",
    "event_type",
    "product_id",
    "category_id",
    "category_code",
    "brand",
    "price",
    "user_id",
    "user_session",
)

# --- fixed parts of the story -------------------------------------------------
_BLOCK_CUSTOMERS = 5_000  # customers per random block: part of the streams
_DEFAULT_CHUNK_CUSTOMERS = 50_000  # customers per row group / write
_SECONDS_PER_DAY = 86_400
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)
_LINES_POISSON_MEAN = 1.8
_MAX_LINES_PER_ORDER = 50
_MAX_REPEATS_PER_CUSTOMER = 20_000  # safety cap; never binds for sane params
_DIRICHLET_ALPHA = 2.0
_HOME_STORE_SHARE = 0.9
_RETURN_MAX_DAYS = 30
_FUTURE_YEAR = 2099
_QUANTITY_WEIGHTS = np.array([0.46, 0.27, 0.12, 0.08, 0.04, 0.03])
_STORES = ("london", "manchester", "paris", "berlin", "madrid", "online")
_STORE_WEIGHTS = np.array([0.24, 0.10, 0.16, 0.12, 0.08, 0.30])
_WEEKDAY_WEIGHTS = np.array([1.15, 1.10, 1.10, 1.05, 0.95, 0.70, 0.85])  # Mon..Sun
_HOUR_WEIGHTS = np.array(
    [0.6, 0.35, 0.2, 0.15, 0.15, 0.3, 0.8, 1.6, 2.6, 3.8, 5.2, 6.0]
    + [5.6, 5.0, 4.6, 4.5, 4.8, 5.4, 6.2, 6.6, 6.0, 4.6, 3.0, 1.6]
)
_GARBAGE_TIMESTAMPS = (
    "not a date",
    "2023-13-45 99:00:00",
    "0000-00-00 00:00:00",
    "31/02/2023 25:61",
    "2023-02-30 10:00:00",
    "TBD",
)

_N_STREAMS = 6  # customers, orders, lines, returns, dirty, events

_KIND = {name: code for code, name in enumerate(DIRTY_KINDS)}
_CLEAN = -1


def _cdf(weights: np.ndarray) -> np.ndarray:
    """Cumulative distribution of ``weights`` whose last value is exactly 1."""
    cdf = np.cumsum(weights, dtype=np.float64)
    cdf /= cdf[-1]
    cdf[-1] = 1.0
    return cdf


_QUANTITY_CDF = _cdf(_QUANTITY_WEIGHTS)
_STORE_CDF = _cdf(_STORE_WEIGHTS)
_HOUR_CDF = _cdf(_HOUR_WEIGHTS)


@dataclass(frozen=True)
class GeneratorConfig:
    """Seed and parameters of the story (see the package docstring).

    Parameters
    ----------
    seed : int
        Non-negative seed of all random streams.
    start, end : str
        Window ``[start, end)`` as ISO dates (``YYYY-MM-DD``).
    r, alpha : float
        BG/NBD purchase rate ``lambda ~ Gamma(shape=r, rate=alpha)`` per day.
    a, b : float
        BG/NBD dropout probability ``p ~ Beta(a, b)``.
    p, q, v : float
        Gamma-Gamma order values: ``nu ~ Gamma(shape=q, rate=v)``, order value
        ``z ~ Gamma(shape=p, rate=nu)``.
    return_share : float
        Share of orders that get one return line.
    dirty_shares : Mapping[str, float]
        Share of emitted sale and return lines that get a defective copy, by
        kind (:data:`DIRTY_KINDS`); missing kinds are 0. Must sum to <= 1.
    browse_sessions : float
        Mean number of browsing-only event sessions per customer.
    """

    seed: int = 42
    start: str = "2022-01-01"
    end: str = "2025-01-01"
    r: float = 0.25
    alpha: float = 4.0
    a: float = 0.8
    b: float = 2.4
    p: float = 6.0
    q: float = 3.8
    v: float = 15.0
    return_share: float = 0.02
    dirty_shares: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_DIRTY_SHARES)
    )
    browse_sessions: float = 3.0

    def validate(self) -> None:
        """Raise ``ValueError`` when a parameter is out of range."""
        if not isinstance(self.seed, int | np.integer) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        start, end = _parse_day(self.start), _parse_day(self.end)
        if start >= end:
            raise ValueError(f"start ({self.start}) must be before end ({self.end})")
        if start < 0:
            raise ValueError("start must not be before 1970-01-01")
        if end > _day_number(dt.date(_FUTURE_YEAR, 1, 1)):
            raise ValueError(f"end must not be after {_FUTURE_YEAR}-01-01")
        for name in ("r", "alpha", "a", "b", "p", "q", "v"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if not 0.0 <= self.return_share <= 1.0:
            raise ValueError("return_share must be between 0 and 1")
        if not (np.isfinite(self.browse_sessions) and self.browse_sessions >= 0):
            raise ValueError("browse_sessions must be >= 0")
        unknown = set(self.dirty_shares) - set(DIRTY_KINDS)
        if unknown:
            raise ValueError(
                f"unknown dirty kind(s) {sorted(unknown)}; use {list(DIRTY_KINDS)}"
            )
        shares = list(self.dirty_shares.values())
        if any(not 0.0 <= share <= 1.0 for share in shares):
            raise ValueError("dirty shares must be between 0 and 1")
        if sum(shares) > 1.0 + 1e-12:
            raise ValueError("dirty shares must sum to at most 1")

    def dirty_share_vector(self) -> np.ndarray:
        """Return the dirty shares in :data:`DIRTY_KINDS` order."""
        return np.array([float(self.dirty_shares.get(k, 0.0)) for k in DIRTY_KINDS])


def expected_mean_order_value(p: float, q: float, v: float) -> float:
    """Mean order value of the Gamma-Gamma model.

    Parameters
    ----------
    p, q, v : float
        Gamma-Gamma parameters: ``nu ~ Gamma(q, rate=v)``, ``z ~ Gamma(p,
        rate=nu)``.

    Returns
    -------
    float
        ``p * v / (q - 1)``, the expectation of a customer's mean order value
        (``inf`` when ``q <= 1``).
    """
    return p * v / (q - 1.0) if q > 1.0 else float("inf")


# --- calendar helpers ---------------------------------------------------------
def _day_number(day: dt.date) -> int:
    """Days since 1970-01-01."""
    return (day - dt.date(1970, 1, 1)).days


def _parse_day(text: str) -> int:
    """Day number of an ISO date ``YYYY-MM-DD``."""
    try:
        return _day_number(dt.date.fromisoformat(str(text)))
    except ValueError as exc:
        raise ValueError(f"not an ISO date (YYYY-MM-DD): {text!r}") from exc


# --- what a block needs -------------------------------------------------------
@dataclass(frozen=True)
class _Context:
    """Everything a block needs besides its index."""

    config: GeneratorConfig
    start_day: int
    end_day: int
    dirty_cdf: np.ndarray  # cumulative dirty shares in DIRTY_KINDS order
    typed_timestamps: bool  # Parquet: unparseable timestamps become NULL
    events: bool
