"""Simulated customer summaries for the CLV tests (moved from python_udfs.clv).

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "Counting Your
   Customers the Easy Way: An Alternative to the Pareto/NBD Model",
   Marketing Science 24(2), 275-284.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def simulate_bgnbd(
    n: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    T_min: float,
    T_max: float,
    seed: int,
    period: float | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    r"""Simulate customer summaries from the BG/NBD generative model ([1]_ §3).

    Each customer draws :math:`\lambda \sim \mathrm{Gamma}(r, 1/\alpha)`,
    :math:`p \sim \mathrm{Beta}(a, b)` and an age :math:`T \sim U(T_{min},
    T_{max})`; purchases follow a Poisson(:math:`\lambda`) process and the
    customer dies right after each *repeat* purchase with probability
    :math:`p`, i.e. after :math:`K \sim \mathrm{Geometric}(p)` repeats. With
    :math:`N \sim \mathrm{Poisson}(\lambda T)` events in :math:`(0, T]`, the
    observed repeats are the first :math:`\min(N, K)` of :math:`N` uniform
    order statistics, generated exactly through exponential spacings
    (:math:`U_{(k)} = S_k / S_{N+1}`), so the cost is proportional to the
    observed purchases.

    ``period=None`` returns continuous times (exactly the model). With
    ``period`` (e.g. 1.0 for days), the data look like lifetimes'
    ``summary_data_from_transaction_data``: the age is a whole number of
    periods drawn uniformly between ``T_min`` and ``T_max``, the first
    purchase falls uniformly inside its period, the whole last period is
    observed, purchases are floored to their period and same-period
    purchases merge into one (so ``frequency`` counts distinct later
    periods and ``recency``/``T`` are multiples of ``period``). This
    discretisation biases the fit slightly, as it does on real data.

    Parameters
    ----------
    n : int
        Number of customers.
    r, alpha, a, b : float
        True BG/NBD parameters (``alpha`` in the simulated time unit).
    T_min, T_max : float
        Range of customer ages.
    seed : int
        Seed of the ``numpy.random.Generator``.
    period : float, optional
        Flooring period, see above.

    Returns
    -------
    frequency, recency, T : tuple of numpy.ndarray
        Customer summaries (float64).

    References
    ----------
    .. [1] Fader, Hardie & Lee (2005), Marketing Science 24(2), section 3.
    """
    rng = np.random.default_rng(seed)
    lam = rng.gamma(shape=r, scale=1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    if period is None:
        age = rng.uniform(T_min, T_max, size=n)
        offset = np.zeros(n)
        window = age
    else:
        lo, hi = int(np.ceil(T_min / period)), int(np.floor(T_max / period))
        periods = rng.integers(lo, hi + 1, size=n)
        age = periods * period
        offset = rng.uniform(0.0, period, size=n)  # first purchase inside period 0
        window = (periods + 1) * period - offset  # whole last period observed
    n_events = rng.poisson(lam * window)
    lives = rng.geometric(np.clip(p, 1e-300, 1.0))
    observed = np.minimum(n_events, lives)
    owner = np.repeat(np.arange(n), observed)
    total = observed.sum()
    starts = np.cumsum(observed) - observed
    spacing = rng.exponential(size=total)
    cum = np.cumsum(spacing)
    base = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    cum -= np.repeat(base, observed)  # S_k within customer
    last = np.zeros(n)
    has = observed > 0
    last[has] = cum[starts[has] + observed[has] - 1]
    rest = rng.gamma(np.maximum(n_events - observed + 1, 1).astype(float))
    norm = last + rest  # S_{N+1}
    times = window[owner] * cum / norm[owner]
    if period is None:
        frequency = observed.astype(np.float64)
        recency = np.zeros(n)
        recency[has] = times[starts[has] + observed[has] - 1]
        return frequency, recency, age
    index = np.floor((offset[owner] + times) / period)
    index = np.minimum(index, periods[owner])  # guard the closing edge
    within = np.arange(total) - starts[owner]
    prev = np.where(within > 0, index[np.maximum(np.arange(total) - 1, 0)], 0.0)
    distinct = (index > prev) & (index > 0)
    frequency = np.bincount(owner[distinct], minlength=n).astype(np.float64)
    recency = np.zeros(n)
    np.maximum.at(recency, owner, index * period)
    recency[frequency == 0] = 0.0
    return frequency, recency, age.astype(np.float64)
