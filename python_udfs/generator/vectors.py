"""Vectorised helpers of the simulation: ragged groups and categorical draws."""

from __future__ import annotations

import numpy as np

from python_udfs.generator.config import _HOUR_CDF


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
