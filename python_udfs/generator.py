"""Deterministic synthetic order lines for the customer_value project.

``cv-generate`` (or ``python -m python_udfs.generator``) writes a file in the
project's canonical ``transactions`` layout, plus ``params.json`` describing
exactly what was written, and optionally a clickstream in the REES46
e-commerce behaviour layout.

Story
-----
Time is measured in **days**; the window is ``[start, end)`` (default
2022-01-01 to 2025-01-01, about three years).

Customers (BG/NBD)
    Each customer has a purchase rate ``lambda ~ Gamma(shape=r, rate=alpha)``
    per day and a dropout probability ``p ~ Beta(a, b)``. The first purchase
    ("birth") is uniform over the window. After each repeat purchase (not
    after the first, exactly as in Fader, Hardie & Lee 2005; dropping out
    right after the first purchase would be the modified BG/NBD) the
    customer drops out with probability ``p``; while alive the waiting times
    between purchases are ``Exponential(lambda)``. Purchases at
    or after ``end`` are not emitted. Defaults ``r=0.25, alpha=4.0, a=0.8,
    b=2.4``: mean rate 0.0625 purchases a day, mean dropout probability 0.25,
    so many customers buy once. The simulation is exact and vectorised: the
    number of repeat purchases before dropout is ``Geometric(p)`` (>= 1), the
    repeat
    purchases a customer would make in the rest of the window if it never
    dropped out form a Poisson process, and the customer keeps the first
    ``min(Geometric(p), Poisson(lambda * remaining))`` of them (their
    times are drawn as ordered uniforms from exponential spacings).

Calendar
    A purchase keeps its BG/NBD day, but the day is then replaced by one of
    the five days ``d-2 .. d+2`` (inside the window), chosen with probability
    proportional to a weekday weight (more Monday to Thursday, fewer on
    Saturday). This moves a purchase by at most two days and so slightly
    perturbs the BG/NBD timing (it can swap two purchases a day apart; orders
    are numbered after the move). The time of day comes from an hour-of-day
    profile (few orders at night, peaks late morning and in the evening) with
    a uniform second inside the hour. Timestamps have seconds resolution and
    are UTC.

Order values (Gamma-Gamma)
    Each customer has ``nu ~ Gamma(shape=q, rate=v)``; each order value is
    ``z ~ Gamma(shape=p, rate=nu)``. Defaults ``p=6.0, q=3.8, v=15.0`` give a
    mean order value ``p * v / (q - 1) = 90 / 2.8 = 32.14`` currency units
    (the mean of per-customer mean order values; it needs ``q > 1``).

Lines
    An order has ``1 + Poisson(1.8)`` lines (capped at 50, which never binds
    in practice), with distinct products drawn by popularity from a fixed
    catalogue of 500 products in 12 categories (``P00001`` .. ``P00500``).
    The order value is split over the lines with Dirichlet(2, .., 2) weights;
    each line has a quantity of 1 to 6 (mostly 1 or 2) and
    ``unit_price = max(round(line_amount / quantity, 2), 0.01)``, so an
    order's total ``sum(quantity * unit_price)`` is the Gamma-Gamma draw up to
    rounding.

Stores
    Six stores (``london``, ``manchester``, ``paris``, ``berlin``, ``madrid``,
    ``online``) with unequal weights. Each customer has a home store; 90 % of
    its orders are placed there and the rest at one of the other five stores.

Return lines
    A share of orders (default 2 %) gets one return line: one of the order's
    lines is returned 1 to 30 calendar days later (time of day from the hour
    profile) with order id ``R`` + the order number, the same customer,
    product, unit price and store, and a quantity of ``-1 .. -quantity``.
    Returns that would fall at or after ``end`` are not emitted.

Dirty rows
    Every emitted sale or return line gets, with the configured shares, at
    most one defective *copy*, written right after it: ``missing_customer_id``
    (customer id null), ``missing_timestamp`` (timestamp null; default share
    0), ``unparseable_timestamp`` (CSV: garbage text such as ``not a date``;
    Parquet's typed column cannot hold text, so these rows are written as
    NULL and counted as ``missing_timestamp``), ``future_timestamp`` (the
    same time of year in 2099), ``zero_quantity``, ``non_positive_price``
    (0 or minus the price) and ``exact_duplicate`` (an identical copy). Each
    copy has exactly one defect, so once every dirty row is rejected what is
    left is exactly the clean data. Dirty rows never change the clean rows:
    ``--clean`` writes the same sales and returns, without the copies.

Determinism
    Customers are simulated in fixed blocks of 5,000; block ``i`` draws from
    ``np.random.SeedSequence(seed, spawn_key=(i,))`` (the ``i``-th child of
    ``SeedSequence(seed).spawn``), itself split into independent streams for
    customers, orders, lines, returns, dirty rows and events. Output is a
    function of the seed and the story's parameters only: the number of
    customers is a prefix (``--customers 10`` is the first ten customers of
    ``--customers 1000``), and neither the write chunk size nor the dirty
    shares nor ``--events`` change the clean rows. Output files are written
    customer by customer, each customer's rows in time order.

Events (``--events``)
    One session per order: a few views (the ordered products and, on average,
    two others), one cart per ordered product, then **one purchase event per
    unit** (a line with quantity 3 gives three purchase events, one second
    apart, at the order's time), which matches the project's reading of that
    schema (one purchase event is one unit, one session is one order). Plus
    browsing-only sessions (default 3 per customer, Poisson, between 30 days
    before its first order and 90 days after its last) with views, some
    carts and some ``remove_from_cart``. Times inside a session are strictly
    increasing, so no two events are identical. ``user_id`` is the number of
    the customer id and ``product_id`` the number of the product id.

Files
    ``order_lines.parquet`` (zstd, one row group per chunk of 50,000
    customers) or ``order_lines.csv`` / ``order_lines.csv.gz`` (header once,
    unquoted, NULL as an empty field, gzip level 3); ``params.json`` with the
    parameters and the exact count of every kind of row written; with
    ``--events`` also ``events.parquet`` (one row group per block) /
    ``events.csv[.gz]``. Files are streamed (memory stays bounded whatever
    the size; a worker thread writes one chunk while the next is simulated),
    written under a ``.partial`` name and renamed when complete.

Safety caps
    A customer makes at most 20,000 repeat purchases and an order has at
    most 50 lines; neither binds with sensible parameters.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gzip
import itertools
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

__all__ = [
    "DEFAULT_DIRTY_SHARES",
    "DIRTY_KINDS",
    "FORMATS",
    "GENERATOR_VERSION",
    "GeneratorConfig",
    "expected_mean_order_value",
    "generate",
    "main",
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
# events
_EXTRA_VIEWS_MEAN = 2.0
_BROWSE_VIEWS_MEAN = 3.0
_BROWSE_CART_SHARE = 0.15
_BROWSE_REMOVE_SHARE = 0.5
_BROWSE_DAYS_BEFORE = 30
_BROWSE_DAYS_AFTER = 90
_EVENT_TYPES = ("view", "cart", "remove_from_cart", "purchase")
_VIEW, _CART, _REMOVE, _PURCHASE = range(4)
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
    """Seed and parameters of the story (see the module docstring).

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


# --- catalogue ----------------------------------------------------------------
_CATEGORIES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("apparel", 25.0, ("T-Shirt", "Hoodie", "Jeans", "Jacket", "Dress", "Sweater")),
    ("footwear", 60.0, ("Sneakers", "Boots", "Sandals", "Loafers", "Slippers")),
    (
        "electronics",
        45.0,
        ("Headphones", "Charger", "Speaker", "Smartwatch", "Keyboard", "Mouse"),
    ),
    ("home", 20.0, ("Cushion", "Lamp", "Throw", "Candle", "Frame", "Rug")),
    (
        "kitchen",
        18.0,
        ("Mug", "Kettle", "Pan", "Knife Set", "Teapot", "Cutting Board"),
    ),
    ("beauty", 15.0, ("Face Cream", "Shampoo", "Lipstick", "Perfume", "Serum")),
    ("toys", 20.0, ("Puzzle", "Building Set", "Plush Bear", "Board Game", "Kite")),
    (
        "sports",
        22.0,
        ("Yoga Mat", "Water Bottle", "Dumbbell", "Tennis Balls", "Running Belt"),
    ),
    ("books", 12.0, ("Novel", "Cookbook", "Travel Guide", "Notebook", "Atlas")),
    (
        "garden",
        16.0,
        ("Plant Pot", "Seed Kit", "Watering Can", "Pruner", "Bird Feeder"),
    ),
    ("grocery", 8.0, ("Coffee Beans", "Olive Oil", "Tea Box", "Chocolate", "Honey")),
    (
        "accessories",
        28.0,
        ("Wallet", "Backpack", "Sunglasses", "Scarf", "Watch Strap"),
    ),
)
_ADJECTIVES = (
    "Classic",
    "Urban",
    "Eco",
    "Premium",
    "Vintage",
    "Nordic",
    "Compact",
    "Deluxe",
    "Everyday",
    "Studio",
    "Coastal",
    "Alpine",
)
_BRANDS = (
    "auren", "belvo", "corla", "dastra", "elmira", "fenno", "galvi", "harlo",
    "istra", "jovik", "kelda", "lumeo", "marvo", "norda", "orvik", "pesta",
    "quillo", "rovan", "solte", "truva", "ulmo", "vestra", "wenda", "xylo",
)  # fmt: skip
_N_PRODUCTS = 500
_NO_CATEGORY_CODE = frozenset({"grocery", "garden"})  # REES46 leaves some empty
_EMPTY_BRAND_SHARE = 0.12
_CATALOGUE_SEED = 20220101  # the catalogue does not depend on --seed


@dataclass(frozen=True)
class _Catalogue:
    """Fixed product catalogue, indexed by product position 0..499."""

    product_id: pa.Array
    product_name: pa.Array
    product_category: pa.Array
    number: np.ndarray  # numeric part of product_id (events' product_id)
    popularity_cdf: np.ndarray
    list_price: np.ndarray
    category_id: np.ndarray
    category_code: pa.Array
    brand: pa.Array


@functools.cache
def _catalogue() -> _Catalogue:
    """Build the deterministic catalogue of 500 products in 12 categories."""
    rng = np.random.default_rng(_CATALOGUE_SEED)
    per_category = np.full(len(_CATEGORIES), _N_PRODUCTS // len(_CATEGORIES))
    per_category[: _N_PRODUCTS - per_category.sum()] += 1
    names, categories, codes, brands, category_ids, prices = [], [], [], [], [], []
    for (category, base_price, nouns), count in zip(
        _CATEGORIES, per_category, strict=True
    ):
        pairs = [(adj, noun) for noun in nouns for adj in _ADJECTIVES]
        chosen = rng.permutation(len(pairs))[:count]
        noun_ids = rng.integers(10**17, 9 * 10**17, size=len(nouns))
        category_brands = rng.choice(len(_BRANDS), size=4, replace=False)
        for index in chosen:
            adj, noun = pairs[index]
            noun_index = nouns.index(noun)
            names.append(f"{adj} {noun}")
            categories.append(category)
            slug = noun.lower().replace(" ", "_").replace("-", "")
            codes.append(
                None if category in _NO_CATEGORY_CODE else f"{category}.{slug}"
            )
            category_ids.append(2 * 10**18 + int(noun_ids[noun_index]))
            empty = rng.random() < _EMPTY_BRAND_SHARE
            brands.append(None if empty else _BRANDS[rng.choice(category_brands)])
            prices.append(round(float(base_price * rng.lognormal(0.0, 0.5)), 2))
    order = rng.permutation(_N_PRODUCTS)  # interleave categories over the ids

    def arrange(values: list) -> list:
        return [values[i] for i in order]

    popularity = 1.0 / (rng.permutation(_N_PRODUCTS) + 8.0)
    return _Catalogue(
        product_id=pa.array([f"P{i:05d}" for i in range(1, _N_PRODUCTS + 1)]),
        product_name=pa.array(arrange(names), pa.string()),
        product_category=pa.array(arrange(categories), pa.string()),
        number=np.arange(1, _N_PRODUCTS + 1, dtype=np.int64),
        popularity_cdf=_cdf(popularity),
        list_price=np.array(arrange(prices), dtype=np.float64),
        category_id=np.array(arrange(category_ids), dtype=np.int64),
        category_code=pa.array(arrange(codes), pa.string()),
        brand=pa.array(arrange(brands), pa.string()),
    )


# --- vectorised helpers -------------------------------------------------------
def _group_starts(counts: np.ndarray) -> np.ndarray:
    """Offset of each contiguous group given the group sizes."""
    return np.cumsum(counts) - counts


def _index_in_group(counts: np.ndarray) -> np.ndarray:
    """0, 1, .. within each contiguous group of the given sizes."""
    total = int(counts.sum())
    return np.arange(total) - np.repeat(_group_starts(counts), counts)


def _ragged_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sum of ``values`` restarting at each contiguous group."""
    cumulative = np.cumsum(values)
    before = np.concatenate((np.zeros(1, cumulative.dtype), cumulative))
    return cumulative - np.repeat(before[_group_starts(counts)], counts)


def _draw(rng: np.random.Generator, cdf: np.ndarray, size: int) -> np.ndarray:
    """Draw indices from a categorical distribution given by its cdf."""
    return np.searchsorted(cdf, rng.random(size), side="right")


def _times_of_day(rng: np.random.Generator, size: int) -> np.ndarray:
    """Seconds after midnight: hour from the hour profile, uniform second."""
    hours = _draw(rng, _HOUR_CDF, size)
    return hours * 3600 + rng.integers(0, 3600, size)


def _distinct_products(
    rng: np.random.Generator, order_of_line: np.ndarray, cdf: np.ndarray
) -> np.ndarray:
    """Products by popularity, redrawn until no order holds one twice."""
    product = _draw(rng, cdf, order_of_line.size)
    n_products = cdf.size
    while True:
        key = order_of_line * n_products + product
        by_key = np.argsort(key, kind="stable")
        sorted_key = key[by_key]
        repeated = by_key[1:][sorted_key[1:] == sorted_key[:-1]]
        if repeated.size == 0:
            return product
        product[repeated] = _draw(rng, cdf, repeated.size)


def _customer_time_key(customer: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Integer sort key ordering rows by block-local customer, then time."""
    return (customer.astype(np.int64) << 36) + seconds


def _string_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded ``numbers`` as an Arrow string array."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _timestamp_text(seconds: np.ndarray) -> pa.Array:
    """``YYYY-MM-DD HH:MM:SS`` text of epoch seconds."""
    return pc.cast(pa.array(seconds.astype("datetime64[s]")), pa.string())


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_UUID_HEX_POSITIONS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


def _uuid_text(raw: np.ndarray) -> pa.Array:
    """Version-4 style UUID text from an ``(n, 16)`` uint8 array of bytes."""
    raw = raw.copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    n = raw.shape[0]
    hex_digits = _HEX[np.stack((raw >> 4, raw & 0x0F), axis=2).reshape(n, 32)]
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    text[:, _UUID_HEX_POSITIONS] = hex_digits
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int64)
    return pa.Array.from_buffers(
        pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(text)]
    ).cast(pa.string())


# --- simulation ---------------------------------------------------------------
@dataclass(frozen=True)
class _Context:
    """Everything a block needs besides its index."""

    config: GeneratorConfig
    start_day: int
    end_day: int
    dirty_cdf: np.ndarray  # cumulative dirty shares in DIRTY_KINDS order
    typed_timestamps: bool  # Parquet: unparseable timestamps become NULL
    events: bool


@dataclass
class _Events:
    """Events of one block, sorted by customer then time."""

    customer: np.ndarray
    seconds: np.ndarray
    event_type: np.ndarray
    product: np.ndarray
    price: np.ndarray
    session: np.ndarray  # block-local session index of each event
    session_uuid: np.ndarray  # (n_sessions, 16) uint8, all sessions of the block
    sessions_per_customer: np.ndarray

    def head(self, n_customers: int) -> _Events:
        """Events of the first ``n_customers`` customers of the block."""
        stop = int(np.searchsorted(self.customer, n_customers, side="left"))
        return _Events(
            customer=self.customer[:stop],
            seconds=self.seconds[:stop],
            event_type=self.event_type[:stop],
            product=self.product[:stop],
            price=self.price[:stop],
            session=self.session[:stop],
            session_uuid=self.session_uuid,
            sessions_per_customer=self.sessions_per_customer[:n_customers],
        )


@dataclass
class _Block:
    """Output rows of one block of customers, grouped by customer."""

    first_customer: int  # global index of the block's first customer
    customer: np.ndarray  # block-local customer index of each row
    order_number: np.ndarray
    is_return: np.ndarray
    seconds: np.ndarray
    product: np.ndarray
    quantity: np.ndarray
    unit_price: np.ndarray
    store: np.ndarray
    kind: np.ndarray  # -1 clean, else index into DIRTY_KINDS
    garbage: np.ndarray  # which garbage text an unparseable row shows
    rows_per_customer: np.ndarray
    orders_per_customer: np.ndarray
    events: _Events | None

    @property
    def n_customers(self) -> int:
        """Number of customers in the block."""
        return int(self.rows_per_customer.size)

    def head(self, n_customers: int) -> _Block:
        """Rows of the first ``n_customers`` customers of the block."""
        if n_customers >= self.n_customers:
            return self
        stop = int(np.searchsorted(self.customer, n_customers, side="left"))
        rows = slice(0, stop)
        return _Block(
            first_customer=self.first_customer,
            customer=self.customer[rows],
            order_number=self.order_number[rows],
            is_return=self.is_return[rows],
            seconds=self.seconds[rows],
            product=self.product[rows],
            quantity=self.quantity[rows],
            unit_price=self.unit_price[rows],
            store=self.store[rows],
            kind=self.kind[rows],
            garbage=self.garbage[rows],
            rows_per_customer=self.rows_per_customer[:n_customers],
            orders_per_customer=self.orders_per_customer[:n_customers],
            events=None if self.events is None else self.events.head(n_customers),
        )


def _block_streams(seed: int, block_index: int) -> list[np.random.Generator]:
    """Independent generators of one block, derived from (seed, block)."""
    block_seed = np.random.SeedSequence(seed, spawn_key=(block_index,))
    return [np.random.default_rng(child) for child in block_seed.spawn(_N_STREAMS)]


def _simulate_block(ctx: _Context, block_index: int, first_order: int) -> _Block:
    """Simulate one full block of customers.

    ``first_order`` is the number of the block's first order. The whole block
    is always simulated, so a truncated last block equals the start of the
    full one.
    """
    cfg = ctx.config
    cat = _catalogue()
    rng_c, rng_o, rng_l, rng_r, rng_d, rng_e = _block_streams(cfg.seed, block_index)
    n = _BLOCK_CUSTOMERS
    window = float(ctx.end_day - ctx.start_day)

    # Customers: BG/NBD and Gamma-Gamma latent parameters.
    rate = rng_c.gamma(cfg.r, 1.0 / cfg.alpha, n)
    dropout = np.clip(rng_c.beta(cfg.a, cfg.b, n), 1e-12, 1.0)
    nu = rng_c.gamma(cfg.q, 1.0 / cfg.v, n)
    birth = rng_c.random(n) * window
    home = _draw(rng_c, _STORE_CDF, n)
    # BG/NBD: dropout only after a repeat purchase, after the J-th one.
    repeats_before_dropout = rng_c.geometric(dropout)
    arrivals = rng_c.poisson(np.minimum(rate * (window - birth), 1e12))
    repeats = np.minimum(
        np.minimum(repeats_before_dropout, arrivals), _MAX_REPEATS_PER_CUSTOMER
    )

    # Repeat purchase times: the first `repeats` of `arrivals` ordered uniforms
    # on (birth, end), from exponential spacings: 1 - U(k) = exp(-sum E_j/(M-j)).
    repeat_customer = np.repeat(np.arange(n), repeats)
    rank = _index_in_group(repeats)
    spacing = rng_o.standard_exponential(rank.size)
    spacing /= arrivals[repeat_customer] - rank
    fraction = -np.expm1(-_ragged_cumsum(spacing, repeats))
    remaining = window - birth[repeat_customer]
    repeat_time = birth[repeat_customer] + remaining * fraction

    orders_per_customer = 1 + repeats
    order_customer = np.repeat(np.arange(n), orders_per_customer)
    n_orders = order_customer.size
    first_of_customer = _group_starts(orders_per_customer)
    is_first = np.zeros(n_orders, dtype=bool)
    is_first[first_of_customer] = True
    when = np.empty(n_orders)
    when[is_first] = birth
    when[~is_first] = repeat_time

    # Calendar: weekday move of at most two days, then time of day.
    last_day = ctx.end_day - 1
    day = np.minimum(ctx.start_day + np.floor(when).astype(np.int64), last_day)
    candidates = day[:, None] + np.arange(-2, 3)
    inside = (candidates >= ctx.start_day) & (candidates <= last_day)
    weights = _WEEKDAY_WEIGHTS[(candidates + _EPOCH_WEEKDAY) % 7] * inside
    cumulative = np.cumsum(weights, axis=1)
    pick = rng_o.random(n_orders) * cumulative[:, -1]
    choice = np.minimum((cumulative <= pick[:, None]).sum(axis=1), 4)
    day = np.clip(candidates[np.arange(n_orders), choice], ctx.start_day, last_day)
    seconds = day * _SECONDS_PER_DAY + _times_of_day(rng_o, n_orders)
    seconds = seconds[np.argsort(_customer_time_key(order_customer, seconds))]
    order_number = first_order + np.arange(n_orders, dtype=np.int64)

    # Order values (Gamma-Gamma) and stores.
    value = rng_o.gamma(cfg.p, 1.0 / nu[order_customer])
    at_home = rng_o.random(n_orders) < _HOME_STORE_SHARE
    other = (home[order_customer] + 1 + rng_o.integers(0, 5, n_orders)) % 6
    store = np.where(at_home, home[order_customer], other).astype(np.int8)

    # Lines.
    lines_per_order = np.minimum(
        1 + rng_l.poisson(_LINES_POISSON_MEAN, n_orders), _MAX_LINES_PER_ORDER
    )
    line_order = np.repeat(np.arange(n_orders), lines_per_order)
    line_start = _group_starts(lines_per_order)
    product = _distinct_products(rng_l, line_order, cat.popularity_cdf)
    share = rng_l.gamma(_DIRICHLET_ALPHA, 1.0, line_order.size)
    share /= np.bincount(line_order, weights=share, minlength=n_orders)[line_order]
    quantity = (_draw(rng_l, _QUANTITY_CDF, line_order.size) + 1).astype(np.int32)
    unit_price = np.maximum(np.round(value[line_order] * share / quantity, 2), 0.01)

    # Returns: one line of a returned order, 1..30 days later.
    returned = np.flatnonzero(rng_r.random(n_orders) < cfg.return_share)
    returned_line = line_start[returned] + np.floor(
        rng_r.random(returned.size) * lines_per_order[returned]
    ).astype(np.int64)
    return_quantity = -rng_r.integers(1, quantity[returned_line] + 1).astype(np.int32)
    return_day = seconds[returned] // _SECONDS_PER_DAY + rng_r.integers(
        1, _RETURN_MAX_DAYS + 1, returned.size
    )
    return_seconds = return_day * _SECONDS_PER_DAY + _times_of_day(rng_r, returned.size)
    kept = return_seconds < ctx.end_day * _SECONDS_PER_DAY
    returned, returned_line = returned[kept], returned_line[kept]
    return_quantity, return_seconds = return_quantity[kept], return_seconds[kept]

    # Clean rows (sales then returns), grouped by customer in time order.
    base_customer = np.concatenate(
        (order_customer[line_order], order_customer[returned])
    )
    base_seconds = np.concatenate((seconds[line_order], return_seconds))
    base_order = np.concatenate((line_order, returned))
    base_is_return = np.concatenate(
        (np.zeros(line_order.size, bool), np.ones(returned.size, bool))
    )
    base_product = np.concatenate((product, product[returned_line]))
    base_quantity = np.concatenate((quantity, return_quantity))
    base_price = np.concatenate((unit_price, unit_price[returned_line]))
    base_store = np.concatenate((store[line_order], store[returned]))
    # Sales are already in (customer, time, order, line) order; a stable sort
    # on (customer, time) slots the returns in after them.
    ordering = np.argsort(
        _customer_time_key(base_customer, base_seconds), kind="stable"
    )

    # Dirty copies: at most one per clean row, written right after it.
    n_base = ordering.size
    kind_of_base = np.searchsorted(ctx.dirty_cdf, rng_d.random(n_base), side="right")
    garbage_of_base = rng_d.integers(0, len(_GARBAGE_TIMESTAMPS), n_base)
    negative_of_base = rng_d.random(n_base) < 0.5
    has_copy = kind_of_base < len(DIRTY_KINDS)
    copies = 1 + has_copy
    source = ordering[np.repeat(np.arange(n_base), copies)]
    kind = np.full(source.size, _CLEAN, dtype=np.int8)
    copy_rows = np.cumsum(copies)[has_copy] - 1
    kind[copy_rows] = kind_of_base[has_copy]
    base_rank = np.repeat(np.arange(n_base), copies)  # per-row draws below
    if ctx.typed_timestamps:
        kind[kind == _KIND["unparseable_timestamp"]] = _KIND["missing_timestamp"]

    row_customer = base_customer[source]
    row_seconds = base_seconds[source].copy()
    row_quantity = base_quantity[source].copy()
    row_price = base_price[source].copy()
    future = kind == _KIND["future_timestamp"]
    if future.any():
        instant = row_seconds[future].astype("datetime64[s]")
        year_start = instant.astype("datetime64[Y]").astype("datetime64[s]")
        into_year = (instant - year_start).astype(np.int64)
        into_year = np.minimum(into_year, 365 * _SECONDS_PER_DAY - 1)
        future_start = _day_number(dt.date(_FUTURE_YEAR, 1, 1)) * _SECONDS_PER_DAY
        row_seconds[future] = future_start + into_year
    row_quantity[kind == _KIND["zero_quantity"]] = 0
    bad_price = kind == _KIND["non_positive_price"]
    row_price[bad_price] = np.where(
        negative_of_base[base_rank[bad_price]], -row_price[bad_price], 0.0
    )

    events = None
    if ctx.events:
        events = _simulate_events(
            rng_e,
            ctx,
            order_customer=order_customer,
            order_seconds=seconds,
            line_order=line_order,
            line_product=product,
            line_price=unit_price,
            line_quantity=quantity,
            orders_per_customer=orders_per_customer,
        )
    return _Block(
        first_customer=block_index * n,
        customer=row_customer,
        order_number=order_number[base_order[source]],
        is_return=base_is_return[source],
        seconds=row_seconds,
        product=base_product[source].astype(np.int32),
        quantity=row_quantity,
        unit_price=row_price,
        store=base_store[source],
        kind=kind,
        garbage=garbage_of_base[base_rank].astype(np.int8),
        rows_per_customer=np.bincount(row_customer, minlength=n),
        orders_per_customer=orders_per_customer,
        events=events,
    )


def _simulate_events(
    rng: np.random.Generator,
    ctx: _Context,
    *,
    order_customer: np.ndarray,
    order_seconds: np.ndarray,
    line_order: np.ndarray,
    line_product: np.ndarray,
    line_price: np.ndarray,
    line_quantity: np.ndarray,
    orders_per_customer: np.ndarray,
) -> _Events:
    """Clickstream of one block: order sessions and browsing sessions."""
    cat = _catalogue()
    n_customers = orders_per_customer.size
    n_orders = order_seconds.size
    n_lines = line_order.size

    # Order sessions: views (ordered products in random order among extra
    # views), carts of the ordered products, strictly increasing times
    # ending shortly before the order; then one purchase per unit.
    extra = rng.poisson(_EXTRA_VIEWS_MEAN, n_orders)
    extra_order = np.repeat(np.arange(n_orders), extra)
    extra_product = _draw(rng, cat.popularity_cdf, extra_order.size)
    pre_session = np.concatenate((extra_order, line_order, line_order))
    pre_phase = np.concatenate(
        (np.zeros(extra_order.size + n_lines, np.int8), np.ones(n_lines, np.int8))
    )
    pre_type = np.concatenate(
        (
            np.full(extra_order.size + n_lines, _VIEW, np.int8),
            np.full(n_lines, _CART, np.int8),
        )
    )
    pre_product = np.concatenate((extra_product, line_product, line_product))
    pre_price = np.concatenate((cat.list_price[extra_product], line_price, line_price))
    shuffle = rng.integers(0, 1 << 20, pre_session.size)
    ordering = np.argsort(
        (pre_session << 21) | (pre_phase.astype(np.int64) << 20) | shuffle,
        kind="stable",
    )
    pre_session, pre_phase = pre_session[ordering], pre_phase[ordering]
    pre_type, pre_product = pre_type[ordering], pre_product[ordering]
    pre_price = pre_price[ordering]
    gap = np.where(
        pre_phase == 0,
        rng.integers(10, 241, pre_session.size),
        rng.integers(5, 61, pre_session.size),
    )
    per_session = np.bincount(pre_session, minlength=n_orders)
    elapsed = _ragged_cumsum(gap, per_session)
    total = elapsed[np.cumsum(per_session) - 1]
    tail = rng.integers(5, 61, n_orders)
    pre_seconds = (
        order_seconds[pre_session] - tail[pre_session] - (total[pre_session] - elapsed)
    )
    unit_line = np.repeat(np.arange(n_lines), line_quantity)
    buy_session = line_order[unit_line]
    buy_seconds = order_seconds[buy_session] + _index_in_group(line_quantity)

    # Browsing-only sessions between 30 days before the first order and 90
    # days after the last one (inside the window).
    order_day = order_seconds // _SECONDS_PER_DAY
    first_day = order_day[_group_starts(orders_per_customer)]
    last_day = order_day[np.cumsum(orders_per_customer) - 1]
    low = np.maximum(ctx.start_day, first_day - _BROWSE_DAYS_BEFORE)
    high = np.minimum(ctx.end_day, last_day + _BROWSE_DAYS_AFTER + 1)
    browse_per_customer = rng.poisson(ctx.config.browse_sessions, n_customers)
    browse_customer = np.repeat(np.arange(n_customers), browse_per_customer)
    n_browse = browse_customer.size
    browse_day = low[browse_customer] + np.floor(
        rng.random(n_browse) * (high - low)[browse_customer]
    ).astype(np.int64)
    browse_start = browse_day * _SECONDS_PER_DAY + _times_of_day(rng, n_browse)
    views = 1 + rng.poisson(_BROWSE_VIEWS_MEAN, n_browse)
    view_session = np.repeat(np.arange(n_browse), views)
    view_rank = _index_in_group(views)
    view_product = _draw(rng, cat.popularity_cdf, view_session.size)
    carted = rng.random(view_session.size) < _BROWSE_CART_SHARE
    removed = carted & (rng.random(view_session.size) < _BROWSE_REMOVE_SHARE)
    b_session = np.concatenate(
        (view_session, view_session[carted], view_session[removed])
    )
    b_phase = np.concatenate(
        (
            np.zeros(view_session.size + int(carted.sum()), np.int8),
            np.ones(int(removed.sum()), np.int8),
        )
    )
    b_position = np.concatenate(
        (2 * view_rank, 2 * view_rank[carted] + 1, view_rank[removed])
    )
    b_type = np.concatenate(
        (
            np.full(view_session.size, _VIEW, np.int8),
            np.full(int(carted.sum()), _CART, np.int8),
            np.full(int(removed.sum()), _REMOVE, np.int8),
        )
    )
    b_product = np.concatenate(
        (view_product, view_product[carted], view_product[removed])
    )
    ordering = np.argsort(
        (b_session << 32) | (b_phase.astype(np.int64) << 31) | b_position,
        kind="stable",
    )
    b_session, b_type, b_product = (
        b_session[ordering],
        b_type[ordering],
        b_product[ordering],
    )
    b_counts = np.bincount(b_session, minlength=n_browse)
    b_seconds = browse_start[b_session] + _ragged_cumsum(
        rng.integers(5, 241, b_session.size), b_counts
    )

    # Session ids: order sessions 0..n_orders-1, then browsing sessions.
    session_uuid = rng.integers(0, 256, (n_orders + n_browse, 16), dtype=np.uint8)
    session = np.concatenate((pre_session, buy_session, n_orders + b_session))
    customer = np.concatenate(
        (
            order_customer[pre_session],
            order_customer[buy_session],
            browse_customer[b_session],
        )
    )
    event_seconds = np.concatenate((pre_seconds, buy_seconds, b_seconds))
    ordering = np.argsort(_customer_time_key(customer, event_seconds), kind="stable")
    return _Events(
        customer=customer[ordering],
        seconds=event_seconds[ordering],
        event_type=np.concatenate(
            (pre_type, np.full(unit_line.size, _PURCHASE, np.int8), b_type)
        )[ordering],
        product=np.concatenate((pre_product, line_product[unit_line], b_product))[
            ordering
        ],
        price=np.concatenate(
            (pre_price, line_price[unit_line], cat.list_price[b_product])
        )[ordering],
        session=session[ordering],
        session_uuid=session_uuid,
        sessions_per_customer=orders_per_customer + browse_per_customer,
    )


# --- Arrow tables -------------------------------------------------------------
def _order_lines_schema(typed_timestamps: bool) -> pa.Schema:
    """Return the order lines schema (CSV keeps ``ordered_at`` as text)."""
    return pa.schema(
        [
            ("order_id", pa.string()),
            ("customer_id", pa.string()),
            ("ordered_at", pa.timestamp("us") if typed_timestamps else pa.string()),
            ("product_id", pa.string()),
            ("product_name", pa.string()),
            ("product_category", pa.string()),
            ("quantity", pa.int32()),
            ("unit_price", pa.float64()),
            ("store_id", pa.string()),
        ]
    )


_EVENTS_SCHEMA = pa.schema(
    [
        ("event_time", pa.string()),
        ("event_type", pa.string()),
        ("product_id", pa.int64()),
        ("category_id", pa.int64()),
        ("category_code", pa.string()),
        ("brand", pa.string()),
        ("price", pa.float64()),
        ("user_id", pa.int64()),
        ("user_session", pa.string()),
    ]
)
_NULL_STRING = pa.scalar(None, pa.string())


def _order_lines_table(block: _Block, typed_timestamps: bool) -> pa.Table:
    """Arrow table of a block's rows in the canonical transactions layout."""
    cat = _catalogue()
    kind = block.kind
    prefix = pc.take(pa.array(["O", "R"]), pa.array(block.is_return.view(np.int8)))
    digits = pc.utf8_lpad(pc.cast(pa.array(block.order_number), pa.string()), 9, "0")
    order_id = pc.binary_join_element_wise(prefix, digits, "")
    customer_id = _string_ids("C", block.customer + block.first_customer + 1, 7)
    customer_id = pc.if_else(
        pa.array(kind == _KIND["missing_customer_id"]), _NULL_STRING, customer_id
    )
    no_time = kind == _KIND["missing_timestamp"]
    if typed_timestamps:
        ordered_at = pa.array(
            block.seconds.astype("datetime64[s]").astype("datetime64[us]"),
            mask=no_time,
        )
    else:
        ordered_at = _timestamp_text(block.seconds)
        garbage = pc.take(pa.array(_GARBAGE_TIMESTAMPS), pa.array(block.garbage))
        ordered_at = pc.if_else(
            pa.array(kind == _KIND["unparseable_timestamp"]), garbage, ordered_at
        )
        ordered_at = pc.if_else(pa.array(no_time), _NULL_STRING, ordered_at)
    product = pa.array(block.product)
    return pa.Table.from_arrays(
        [
            order_id,
            customer_id,
            ordered_at,
            pc.take(cat.product_id, product),
            pc.take(cat.product_name, product),
            pc.take(cat.product_category, product),
            pa.array(block.quantity, pa.int32()),
            pa.array(block.unit_price, pa.float64()),
            pc.take(pa.array(_STORES), pa.array(block.store)),
        ],
        schema=_order_lines_schema(typed_timestamps),
    )


def _events_table(events: _Events, first_customer: int) -> pa.Table:
    """Arrow table of a block's events in the REES46 layout."""
    cat = _catalogue()
    product = pa.array(events.product)
    return pa.Table.from_arrays(
        [
            pc.binary_join_element_wise(_timestamp_text(events.seconds), " UTC", ""),
            pc.take(pa.array(_EVENT_TYPES), pa.array(events.event_type)),
            pa.array(cat.number[events.product]),
            pa.array(cat.category_id[events.product]),
            pc.take(cat.category_code, product),
            pc.take(cat.brand, product),
            pa.array(events.price),
            pa.array(events.customer.astype(np.int64) + first_customer + 1),
            pc.take(_uuid_text(events.session_uuid), pa.array(events.session)),
        ],
        schema=_EVENTS_SCHEMA,
    )


# --- writing ------------------------------------------------------------------
_GZIP_LEVEL = 3  # zlib level 3: ~4x faster than 9, files ~30 % larger
_LINES_DICTIONARY = ["product_id", "product_name", "product_category", "store_id"]
_EVENTS_DICTIONARY = ["event_type", "product_id", "category_code", "brand"]


class _TableSink:
    """Streams tables into one Parquet, CSV or gzipped CSV file."""

    def __init__(
        self, path: Path, schema: pa.Schema, fmt: str, dictionary: list[str]
    ) -> None:
        self.path = path
        self._partial = path.with_name(path.name + ".partial")
        self._format = fmt
        self._streams: list[Any] = []
        if fmt == "parquet":
            self._writer: Any = pq.ParquetWriter(
                self._partial, schema, compression="zstd", use_dictionary=dictionary
            )
            return
        if fmt == "csv.gz":
            raw = open(self._partial, "wb")  # closed in _close_all()
            # No file name and mtime 0 in the header: same bytes every time.
            stream: Any = gzip.GzipFile(
                filename="", mode="wb", fileobj=raw, compresslevel=_GZIP_LEVEL, mtime=0
            )
            self._streams = [stream, raw]
        else:
            stream = pa.OSFile(str(self._partial), "wb")
            self._streams = [stream]
        stream.write((",".join(schema.names) + "\n").encode())
        options = pacsv.WriteOptions(include_header=False, quoting_style="none")
        self._writer = pacsv.CSVWriter(stream, schema, write_options=options)

    def write(self, table: pa.Table) -> None:
        """Append ``table`` (as one Parquet row group)."""
        if self._format == "parquet":
            self._writer.write_table(table, row_group_size=max(table.num_rows, 1))
        else:
            self._writer.write_table(table)

    def _close_all(self) -> None:
        """Close the writer, then the streams under it."""
        self._writer.close()
        for stream in self._streams:
            stream.close()

    def close(self) -> None:
        """Finish the file and move it to its final name."""
        self._close_all()
        os.replace(self._partial, self.path)

    def abort(self) -> None:
        """Close and delete the unfinished file."""
        try:
            self._close_all()
        finally:
            self._partial.unlink(missing_ok=True)


class _BackgroundWriter:
    """Runs writes on one worker thread, at most one at a time.

    Arrow's Parquet and CSV writers and zlib release the GIL, so writing a
    chunk overlaps with simulating the next one; waiting for the previous
    write before queueing the next bounds memory to about two chunks.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="cv-generate-writer")
        self._busy: Future[None] | None = None

    def submit(self, jobs: list[tuple[_TableSink, pa.Table]]) -> None:
        """Write each ``(sink, table)`` in order, after the previous writes."""
        self.wait()
        if jobs:
            self._busy = self._pool.submit(_write_all, jobs)

    def wait(self) -> None:
        """Wait for the write in flight; re-raise its error."""
        busy, self._busy = self._busy, None
        if busy is not None:
            busy.result()

    def close(self) -> None:
        """Wait for the last write and stop the worker."""
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)


def _write_all(jobs: list[tuple[_TableSink, pa.Table]]) -> None:
    """Write tables to their sinks (worker thread)."""
    for sink, table in jobs:
        sink.write(table)


def _file_name(stem: str, fmt: str) -> str:
    """File name of an output file in the given format."""
    return f"{stem}.{fmt}"


def generate(
    out_dir: str | os.PathLike[str],
    *,
    customers: int | None = None,
    lines: int | None = None,
    fmt: str = "parquet",
    config: GeneratorConfig | None = None,
    events: bool = False,
    chunk_customers: int = _DEFAULT_CHUNK_CUSTOMERS,
) -> dict[str, Any]:
    """Write synthetic order lines (and optionally events) to ``out_dir``.

    Parameters
    ----------
    out_dir : path-like
        Output directory, created if needed. Existing output files are
        replaced.
    customers : int, optional
        Number of customers to generate. Exclusive with ``lines``; when both
        are None, 10,000 customers.
    lines : int, optional
        Generate customers until at least this many rows (sales, returns and
        dirty rows) are written, stopping after the customer that reaches it.
    fmt : {"parquet", "csv", "csv.gz"}
        Output format.
    config : GeneratorConfig, optional
        Seed and story parameters; defaults to ``GeneratorConfig()``.
    events : bool
        Also write ``events.<fmt>`` in the REES46 behaviour layout.
    chunk_customers : int
        Customers per write (and per Parquet row group). Tuning knob only:
        it never changes the data.

    Returns
    -------
    dict
        The content written to ``params.json`` (parameters and exact counts).
    """
    config = config or GeneratorConfig()
    config.validate()
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    if customers is not None and lines is not None:
        raise ValueError("give customers or lines, not both")
    if customers is None and lines is None:
        customers = 10_000
    if customers is not None and customers < 1:
        raise ValueError("customers must be >= 1")
    if lines is not None and lines < 1:
        raise ValueError("lines must be >= 1")
    if chunk_customers < 1:
        raise ValueError("chunk_customers must be >= 1")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    typed = fmt == "parquet"
    ctx = _Context(
        config=config,
        start_day=_parse_day(config.start),
        end_day=_parse_day(config.end),
        dirty_cdf=np.cumsum(config.dirty_share_vector()),
        typed_timestamps=typed,
        events=events,
    )
    lines_path = out / _file_name("order_lines", fmt)
    events_path = out / _file_name("events", fmt) if events else None
    sinks = [_TableSink(lines_path, _order_lines_schema(typed), fmt, _LINES_DICTIONARY)]
    if events_path is not None:
        sinks.append(_TableSink(events_path, _EVENTS_SCHEMA, fmt, _EVENTS_DICTIONARY))
    writer = _BackgroundWriter()

    counts = {
        "n_customers": 0,
        "n_orders": 0,
        "lines_written": 0,
        "sales_lines": 0,
        "return_lines": 0,
    }
    dirty_counts = np.zeros(len(DIRTY_KINDS), dtype=np.int64)
    event_counts = np.zeros(len(_EVENT_TYPES), dtype=np.int64)
    n_sessions = 0
    pending: list[pa.Table] = []  # order lines of the current chunk
    pending_customers = 0
    next_order = 1
    try:
        for block_index in itertools.count():
            block = _simulate_block(ctx, block_index, next_order)
            next_order += int(block.orders_per_customer.sum())
            keep, done = block.n_customers, False
            if customers is not None:
                keep = min(keep, customers - block.first_customer)
                done = block.first_customer + keep >= customers
            else:
                reached = counts["lines_written"] + np.cumsum(block.rows_per_customer)
                crossing = int(np.searchsorted(reached, lines, side="left"))
                if crossing < block.n_customers:
                    keep, done = crossing + 1, True
            block = block.head(keep)

            clean = block.kind == _CLEAN
            counts["n_customers"] += keep
            counts["n_orders"] += int(block.orders_per_customer.sum())
            counts["lines_written"] += int(block.kind.size)
            counts["sales_lines"] += int(np.count_nonzero(clean & ~block.is_return))
            counts["return_lines"] += int(np.count_nonzero(clean & block.is_return))
            dirty_counts += np.bincount(block.kind[~clean], minlength=len(DIRTY_KINDS))
            jobs: list[tuple[_TableSink, pa.Table]] = []
            if block.events is not None:
                # Events are ~5x the lines: one row group per block.
                event_counts += np.bincount(
                    block.events.event_type, minlength=len(_EVENT_TYPES)
                )
                n_sessions += int(block.events.sessions_per_customer.sum())
                jobs.append(
                    (sinks[1], _events_table(block.events, block.first_customer))
                )
            pending.append(_order_lines_table(block, typed))
            pending_customers += keep
            if done or pending_customers >= chunk_customers:
                jobs.insert(0, (sinks[0], pa.concat_tables(pending)))
                pending, pending_customers = [], 0
            writer.submit(jobs)
            if done:
                break
        writer.close()
    except BaseException:
        writer.close()
        for sink in sinks:
            sink.abort()
        raise
    for sink in sinks:
        sink.close()

    params = _params(
        config,
        fmt=fmt,
        requested={"customers": customers, "lines": lines},
        counts=counts,
        dirty_counts=dirty_counts,
        files={
            "order_lines": lines_path.name,
            "events": None if events_path is None else events_path.name,
        },
        events=None
        if events_path is None
        else {
            "events_written": int(event_counts.sum()),
            "by_type": {
                name: int(count)
                for name, count in zip(_EVENT_TYPES, event_counts, strict=True)
            },
            "sessions": n_sessions,
            "purchase_rule": "one purchase event per unit sold (clean sale lines)",
            "browse_sessions_per_customer": config.browse_sessions,
        },
    )
    partial = out / "params.json.partial"
    partial.write_text(json.dumps(params, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, out / "params.json")
    return params


def _params(
    config: GeneratorConfig,
    *,
    fmt: str,
    requested: dict[str, int | None],
    counts: dict[str, int],
    dirty_counts: np.ndarray,
    files: dict[str, str | None],
    events: dict[str, Any] | None,
) -> dict[str, Any]:
    """Content of ``params.json``."""
    dirty = {
        name: int(count) for name, count in zip(DIRTY_KINDS, dirty_counts, strict=True)
    }
    total = counts["sales_lines"] + counts["return_lines"] + sum(dirty.values())
    if total != counts["lines_written"]:  # pragma: no cover - internal invariant
        raise AssertionError("row counts do not add up")
    mean = expected_mean_order_value(config.p, config.q, config.v)
    return {
        "generator": "python_udfs.generator",
        "generator_version": GENERATOR_VERSION,
        "numpy_version": np.__version__,
        "format": fmt,
        "files": files,
        "seed": int(config.seed),
        "time_unit": "days",
        "start": config.start,
        "end": config.end,
        "parameters": {
            "bgnbd": {
                "r": config.r,
                "alpha": config.alpha,
                "a": config.a,
                "b": config.b,
            },
            "gamma_gamma": {"p": config.p, "q": config.q, "v": config.v},
            "lines_per_order": f"1 + Poisson({_LINES_POISSON_MEAN})",
            "return_share": config.return_share,
            "home_store_share": _HOME_STORE_SHARE,
            "block_customers": _BLOCK_CUSTOMERS,
        },
        "expected_mean_order_value": None if np.isinf(mean) else round(mean, 6),
        "requested": requested,
        **counts,
        "dirty_share": {k: float(config.dirty_shares.get(k, 0.0)) for k in DIRTY_KINDS},
        "dirty_counts": dirty,
        "dirty_lines": int(sum(dirty.values())),
        "unparseable_timestamp_written_as": "NULL (counted as missing_timestamp)"
        if fmt == "parquet"
        else "garbage text",
        "events": events,
    }


# --- command line -------------------------------------------------------------
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


if __name__ == "__main__":
    sys.exit(main())
