"""Simulation of one block of customers: orders, lines, returns, dirty rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from python_udfs.generator.catalogue import _catalogue
from python_udfs.generator.config import (
    _BLOCK_CUSTOMERS,
    _CLEAN,
    _DIRICHLET_ALPHA,
    _EPOCH_WEEKDAY,
    _FUTURE_YEAR,
    _GARBAGE_TIMESTAMPS,
    _HOME_STORE_SHARE,
    _KIND,
    _LINES_POISSON_MEAN,
    _MAX_LINES_PER_ORDER,
    _MAX_REPEATS_PER_CUSTOMER,
    _N_STREAMS,
    _QUANTITY_CDF,
    _RETURN_MAX_DAYS,
    _SECONDS_PER_DAY,
    _STORE_CDF,
    _WEEKDAY_WEIGHTS,
    DIRTY_KINDS,
    _Context,
    _day_number,
)
from python_udfs.generator.events import _Events, _simulate_events
from python_udfs.generator.vectors import (
    _customer_time_key,
    _distinct_products,
    _draw,
    _group_starts,
    _index_in_group,
    _ragged_cumsum,
    _times_of_day,
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
