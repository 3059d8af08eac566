"""The REES46-style clickstream of a block (``--events``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from python_udfs.generator.catalogue import _catalogue
from python_udfs.generator.config import _SECONDS_PER_DAY, _Context
from python_udfs.generator.vectors import (
    _customer_time_key,
    _draw,
    _group_starts,
    _index_in_group,
    _ragged_cumsum,
    _times_of_day,
)

_EXTRA_VIEWS_MEAN = 2.0
_BROWSE_VIEWS_MEAN = 3.0
_BROWSE_CART_SHARE = 0.15
_BROWSE_REMOVE_SHARE = 0.5
_BROWSE_DAYS_BEFORE = 30
_BROWSE_DAYS_AFTER = 90
_EVENT_TYPES = ("view", "cart", "remove_from_cart", "purchase")
_VIEW, _CART, _REMOVE, _PURCHASE = range(4)


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
