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

Modules
    ``config`` (GeneratorConfig, constants, calendar), ``catalogue`` (the
    fixed products), ``vectors`` (ragged-array and drawing helpers),
    ``simulate`` (a block's orders, lines, returns and dirty rows),
    ``events`` (a block's clickstream), ``write`` (Arrow tables, file
    sinks, background writer), ``run`` (:func:`generate`, ``params.json``)
    and ``cli`` (``cv-generate``).
"""

from python_udfs.generator.cli import main
from python_udfs.generator.config import (
    DEFAULT_DIRTY_SHARES,
    DIRTY_KINDS,
    EVENT_COLUMNS,
    FORMATS,
    GENERATOR_VERSION,
    ORDER_LINE_COLUMNS,
    GeneratorConfig,
    expected_mean_order_value,
)
from python_udfs.generator.run import generate

__all__ = [
    "DEFAULT_DIRTY_SHARES",
    "DIRTY_KINDS",
    "EVENT_COLUMNS",
    "FORMATS",
    "GENERATOR_VERSION",
    "ORDER_LINE_COLUMNS",
    "GeneratorConfig",
    "expected_mean_order_value",
    "generate",
    "main",
]
