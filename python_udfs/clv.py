r"""Customer lifetime value: BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma.

Pure numpy/scipy re-implementation of the fitters and closed forms of
``lifetimes`` 0.11.3, built for parity with it and for speed:

* the fitters reproduce lifetimes' objective exactly (time scaling, log
  parameters, L2 penalizer on the *scaled* parameters, weights), but use a
  vectorised log-likelihood with an analytic gradient and L-BFGS-B, so they
  land on the same optimum (to ~1e-6 relative, lifetimes' BFGS tolerance)
  about 5-6 times faster (CDNOW: 9 ms vs 55 ms; 1M customers: 1.4 s vs 9 s);
* the closed forms use numerically stable (Euler-transformed) brackets, so
  they stay finite where lifetimes returns ``inf`` or ``NaN`` (large
  frequency, long horizons).

Notation: :math:`x` frequency (repeat purchases), :math:`t_x` recency (time of
the last repeat purchase since the first one), :math:`T` age (time since the
first purchase), :math:`m` mean repeat spend, :math:`w` row weight. All times
are in one *model time unit* (``clv_time_unit``, e.g. weeks); the
``alpha``/``beta`` parameters are reported in that unit.

The module never imports dbt or duckdb; ``python_udfs.duckdb_plugin`` wraps the
closed forms as DuckDB UDFs.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "Counting Your
   Customers the Easy Way: An Alternative to the Pareto/NBD Model",
   Marketing Science 24(2), 275-284.
.. [2] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2008), "Computing
   P(alive) Using the BG/NBD Model", http://brucehardie.com/notes/021/.
.. [3] Batislam, E. P., Denizel, M. & Filiztekin, A. (2007), "Empirical
   validation and comparison of models for customer base analysis",
   IJRM 24(3), 201-209; Wagner, U. & Hoppe, D. (2008), "Erratum on the
   MBG/NBD Model", IJRM 25(3), 225-226.
.. [4] Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987), "Counting
   Your Customers: Who Are They and What Will They Do Next?", Management
   Science 33(1), 1-24; Fader, P. S. & Hardie, B. G. S. (2005), "A Note on
   Deriving the Pareto/NBD Model and Related Expressions",
   http://brucehardie.com/notes/009/.
.. [5] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "RFM and CLV:
   Using Iso-Value Curves for Customer Base Analysis", JMR 42(4), 415-430;
   Fader, P. S. & Hardie, B. G. S. (2013), "The Gamma-Gamma Model of
   Monetary Value", http://brucehardie.com/notes/025/.
.. [6] Davidson-Pilon, C. et al., ``lifetimes`` 0.11.3,
   https://github.com/CamDavidsonPilon/lifetimes (parity target).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import OptimizeResult, minimize
from scipy.special import digamma, expit, gammaln, hyp2f1

try:  # optional (ships with scikit-learn); see _single_threaded_blas
    from threadpoolctl import threadpool_limits as _threadpool_limits
except ImportError:  # pragma: no cover - fits still work, only slower
    _threadpool_limits = None

__all__ = [
    "PERIODS_PER_MONTH",
    "ClvFitError",
    "FitResult",
    "Forecast",
    "bgnbd_conditional_expected_purchases",
    "bgnbd_expected_purchases_new",
    "bgnbd_p_alive",
    "discounted_clv",
    "fit_bgnbd",
    "fit_clv_params_table",
    "fit_gamma_gamma",
    "fit_mbgnbd",
    "fit_pareto_nbd",
    "forecast_horizons",
    "frequency_monetary_correlation",
    "gamma_gamma_expected_spend",
    "group_triples",
    "mbgnbd_conditional_expected_purchases",
    "mbgnbd_expected_purchases_new",
    "mbgnbd_p_alive",
    "pareto_nbd_conditional_expected_purchases",
    "pareto_nbd_expected_purchases_new",
    "pareto_nbd_p_alive",
    "simulate_bgnbd",
]

FloatArray = NDArray[np.float64]

#: Model time units per month, as in lifetimes' ``customer_lifetime_value``
#: (``freq`` argument): weekly models use 4.345 periods per month.
PERIODS_PER_MONTH: dict[str, float] = {"W": 4.345, "M": 1.0, "D": 30.0, "H": 720.0}

_THETA0 = 0.1  # lifetimes' start: log-parameters all 0.1
_LBFGS_OPTIONS = {"ftol": 1e-14, "gtol": 1e-10}
# L-BFGS-B may stop with an "abnormal line search" once f cannot decrease in
# floating point; accept that as converged when the gradient is this small.
_GRAD_ACCEPT = 1e-6
_FIX_HINT = (
    "Try a larger `penalizer` (e.g. 0.001-0.1) or a different `clv_time_unit` "
    "(weeks usually fit better than days)."
)
_GG_FIX_HINT = (
    "Try a larger `penalizer` (e.g. 0.001-0.1) and check that `monetary_value` "
    "varies across repeat customers."
)


class ClvFitError(ValueError):
    """A CLV model cannot be fitted to the given data; the message says why."""


@dataclass(frozen=True)
class FitResult:
    r"""Outcome of a CLV model fit.

    Attributes
    ----------
    model : str
        ``"bgnbd"``, ``"mbgnbd"``, ``"pareto_nbd"`` or ``"gamma_gamma"``.
    params : dict[str, float]
        Fitted parameters in original time units (``r, alpha, a, b``;
        ``r, alpha, s, beta``; ``p, q, v``).
    log_likelihood : float
        Unpenalised total log-likelihood :math:`\sum_i w_i \ell_i` in the
        original time unit of ``recency``/``T``.
    mean_neg_log_likelihood : float
        lifetimes' ``_negative_log_likelihood_`` convention: the objective at
        the optimum in scaled time, :math:`-\sum w\ell/\sum w + \lambda\sum
        p_k^2`. For Pareto/NBD lifetimes reports a total (it divides by the
        mean weight); here it is the same per-customer mean as the others,
        lifetimes' number is ``n_rows * (mean - penalty) + penalty``.
    n_customers : float
        Sum of the weights of the rows used.
    iterations : int
        Optimizer iterations.
    converged : bool
        Whether the optimizer reported convergence (always True for a
        returned result: failures raise :class:`ClvFitError`).
    message : str
        Optimizer message.
    standard_errors : dict[str, float] | None
        Standard errors as lifetimes computes them (inverse Hessian of the
        penalised mean objective, delta method from log parameters); ``None``
        for Pareto/NBD, where lifetimes has none either.
    """

    model: str
    params: dict[str, float]
    log_likelihood: float
    mean_neg_log_likelihood: float
    n_customers: float
    iterations: int
    converged: bool
    message: str
    standard_errors: dict[str, float] | None


# ---------------------------------------------------------------------------
# Input handling
# ---------------------------------------------------------------------------


def _dot(left: ArrayLike, right: ArrayLike) -> float:
    """Sum of an elementwise product without BLAS.

    ``np.dot`` on long vectors wakes OpenBLAS threads, which costs more than
    the product itself at these sizes (10x slower fits on a busy 2-core box);
    ``np.sum`` uses pairwise summation, which is also more accurate.
    """
    return float(np.sum(np.multiply(left, right)))


def _to_float(values: ArrayLike, name: str) -> FloatArray:
    """Return ``values`` as a 1-d float64 array (missing values become NaN)."""
    if hasattr(values, "to_numpy"):
        arr = values.to_numpy(dtype=np.float64, na_value=np.nan)  # pandas
    else:
        try:
            arr = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ClvFitError(
                f"`{name}` is not numeric ({exc}); pass numbers only."
            ) from exc
    return np.atleast_1d(arr)


def _check_columns(columns: Mapping[str, FloatArray], nonnegative: bool = True) -> None:
    """Raise :class:`ClvFitError` on length mismatch, NaN/inf or negatives."""
    lengths = {name: arr.shape for name, arr in columns.items()}
    if len(set(lengths.values())) != 1 or any(len(s) != 1 for s in lengths.values()):
        raise ClvFitError(
            f"Inputs must be 1-d arrays of equal length, got shapes {lengths}."
        )
    for name, arr in columns.items():
        bad = ~np.isfinite(arr)
        if bad.any():
            raise ClvFitError(
                f"`{name}` has {int(bad.sum())} NaN/infinite value(s); drop or "
                "fill those customers before fitting."
            )
        if nonnegative and (arr < 0).any():
            raise ClvFitError(
                f"`{name}` has {int((arr < 0).sum())} negative value(s); CLV "
                "inputs are counts, durations and amounts, which cannot be "
                "negative. Check the summary query (e.g. first purchase after "
                "the observation end)."
            )


def _check_frequency(frequency: FloatArray) -> None:
    """Frequencies must be whole numbers."""
    if np.any(frequency != np.floor(frequency)):
        raise ClvFitError(
            "`frequency` has non-integer values; it counts repeat purchase "
            "periods, pass whole numbers."
        )


def _validate_rfm(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Validate and convert (frequency, recency, T, weights); inputs untouched."""
    x = _to_float(frequency, "frequency")
    tx = _to_float(recency, "recency")
    age = _to_float(T, "T")
    if x.size == 0 or tx.size == 0 or age.size == 0:
        raise ClvFitError(
            "Empty input: no customers to fit. Check the upstream filter and "
            "the observation end date."
        )
    w = np.ones_like(x) if weights is None else _to_float(weights, "weights")
    _check_columns({"frequency": x, "recency": tx, "T": age, "weights": w})
    _check_frequency(x)
    if np.any(tx > age):
        raise ClvFitError(
            f"recency > T for {int((tx > age).sum())} customer(s); both must be "
            "measured from the first purchase, in the same time unit, up to the "
            "same observation end."
        )
    if np.any((x == 0) & (tx != 0)):
        raise ClvFitError(
            "recency must be 0 for customers with frequency 0 "
            f"({int(((x == 0) & (tx != 0)).sum())} violate it)."
        )
    return x, tx, age, w


def _check_sample(x: FloatArray, w: FloatArray, min_customers: int) -> float:
    """Check weights/size/repeat purchases; return the weight total."""
    total = float(w.sum())
    if total <= 0:
        raise ClvFitError("All weights are zero; pass positive customer counts.")
    if total < min_customers:
        raise ClvFitError(
            f"Only {total:g} customers, fewer than min_customers="
            f"{min_customers}; the model cannot be estimated reliably. Widen "
            "the cohort or lower `min_customers` deliberately."
        )
    if float(w[x > 0].sum()) == 0.0:
        raise ClvFitError(
            "No repeat customers (every frequency is 0): purchase rate and "
            "dropout cannot be identified. Extend the observation window or use "
            "a finer `clv_time_unit`."
        )
    return total


def group_triples(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, NDArray[np.int64]]:
    r"""Collapse customers to distinct ``(frequency, recency, T)`` triples.

    The BG/NBD, MBG/NBD and Pareto/NBD likelihoods depend on a customer only
    through :math:`(x, t_x, T)`, so fitting the distinct triples with
    ``weights`` = counts gives the same optimum (same :math:`\sum w`, same
    :math:`\max T`), much faster on day- or week-grained data ([1]_, §7).

    Parameters
    ----------
    frequency, recency, T : array_like
        Per-customer summary columns (1-d, equal length, finite).

    Returns
    -------
    x, tx, T, weights : tuple of numpy.ndarray
        Distinct triples sorted lexicographically by (x, tx, T) and their
        counts (int64); deterministic for a given input multiset.

    References
    ----------
    .. [1] Fader, Hardie & Lee (2005), Marketing Science 24(2), section 7.
    """
    x = _to_float(frequency, "frequency")
    tx = _to_float(recency, "recency")
    age = _to_float(T, "T")
    _check_columns({"frequency": x, "recency": tx, "T": age}, nonnegative=False)
    if x.size == 0:
        empty = np.empty(0)
        return empty, empty, empty, np.empty(0, dtype=np.int64)
    gx, gtx, gage, counts = _group(x, tx, age, np.ones(x.size, dtype=np.int64))
    return gx, gtx, gage, counts


def _group(
    x: FloatArray, tx: FloatArray, age: FloatArray, w: NDArray[Any]
) -> tuple[FloatArray, FloatArray, FloatArray, NDArray[Any]]:
    """Distinct (x, tx, T) rows in lexicographic order with summed weights."""
    order = np.lexsort((age, tx, x))
    xs, ts, ags = x[order], tx[order], age[order]
    new = np.empty(xs.size, dtype=bool)
    new[0] = True
    new[1:] = (xs[1:] != xs[:-1]) | (ts[1:] != ts[:-1]) | (ags[1:] != ags[:-1])
    starts = np.flatnonzero(new)
    return xs[starts], ts[starts], ags[starts], np.add.reduceat(w[order], starts)


# ---------------------------------------------------------------------------
# Optimisation helpers
# ---------------------------------------------------------------------------


def _single_threaded_blas() -> contextlib.AbstractContextManager[Any]:
    """Limit BLAS to one thread while optimising.

    scipy's L-BFGS-B does small (20 x 20) BLAS/LAPACK operations each
    iteration; multi-threaded OpenBLAS spends more time waking its threads
    than computing (a CDNOW fit: 150 ms instead of 6 ms on 2 busy cores). The
    likelihoods themselves are numpy ufuncs, unaffected by the limit.
    """
    if _threadpool_limits is None:  # pragma: no cover
        return contextlib.nullcontext()
    return _threadpool_limits(limits=1, user_api="blas")


def _run_lbfgs(
    objective: Callable[[FloatArray], tuple[float, FloatArray]],
    n_params: int,
    max_iterations: int,
) -> tuple[OptimizeResult, bool]:
    """Minimise ``objective`` (value, gradient) from lifetimes' start 0.1."""
    theta0 = np.full(n_params, _THETA0)
    with np.errstate(all="ignore"), _single_threaded_blas():
        res = minimize(
            objective,
            theta0,
            jac=True,
            method="L-BFGS-B",
            options={**_LBFGS_OPTIONS, "maxiter": max_iterations},
        )
    grad_ok = (
        bool(np.all(np.isfinite(res.jac)))
        and float(np.max(np.abs(res.jac))) < _GRAD_ACCEPT
    )
    converged = bool(res.success) or (grad_ok and res.nit < max_iterations)
    return res, converged


def _raise_if_failed(
    model: str, res: OptimizeResult, converged: bool, hint: str = _FIX_HINT
) -> None:
    """Raise :class:`ClvFitError` on non-convergence or a non-finite optimum."""
    if not (np.all(np.isfinite(res.x)) and np.isfinite(res.fun)):
        raise ClvFitError(
            f"{model} fit produced a non-finite result (log-params {res.x}, "
            f"objective {res.fun}). {hint}"
        )
    if np.any(np.abs(res.x) > 700):
        raise ClvFitError(
            f"{model} fit diverged: a parameter under/overflows "
            f"(log-params {res.x}). {hint}"
        )
    if not converged:
        raise ClvFitError(
            f"{model} fit did not converge after {res.nit} iterations "
            f"({res.message}). {hint}"
        )


def _standard_errors(
    objective: Callable[[FloatArray], tuple[float, FloatArray]],
    theta: FloatArray,
    params: FloatArray,
    total_weight: float,
    names: tuple[str, ...],
) -> dict[str, float]:
    r"""Compute lifetimes-style standard errors from a finite-difference Hessian.

    :math:`H` is the central-difference Jacobian of the analytic gradient of
    the penalised mean objective in log-parameters; then
    :math:`se(p_k) = p_k\sqrt{[H^{-1}]_{kk}/\sum w}` (delta method), as in
    ``BaseFitter._compute_variance_matrix``. Entries are NaN when :math:`H`
    is singular or not positive definite.
    """
    k = theta.size
    hess = np.empty((k, k))
    for j in range(k):
        step = 1e-5 * max(1.0, abs(theta[j]))
        up, down = theta.copy(), theta.copy()
        up[j] += step
        down[j] -= step
        hess[:, j] = (objective(up)[1] - objective(down)[1]) / (2.0 * step)
    hess = 0.5 * (hess + hess.T)
    try:
        with _single_threaded_blas():
            diag = np.diag(np.linalg.inv(hess))
    except np.linalg.LinAlgError:
        diag = np.full(k, np.nan)
    with np.errstate(invalid="ignore"):
        se = params * np.sqrt(np.where(diag > 0, diag, np.nan) / total_weight)
    return {name: float(val) for name, val in zip(names, se, strict=True)}


@dataclass(frozen=True)
class _RfmPrepared:
    """Data prepared once per fit (§6 of the formula sheet)."""

    scale: float
    total_weight: float
    sum_wx: float
    x_unique: FloatArray  # distinct frequencies, incl. 0
    w_unique: FloatArray  # weight per distinct frequency
    w0: FloatArray  # x == 0 rows
    T0: FloatArray
    x1: FloatArray  # x > 0 rows
    tx1: FloatArray
    T1: FloatArray
    w1: FloatArray


def _prepare(
    x: FloatArray, tx: FloatArray, age: FloatArray, w: FloatArray
) -> _RfmPrepared:
    """Scale time by 1/max T as lifetimes does and split rows by x == 0."""
    max_age = float(age.max())
    if max_age <= 0:
        raise ClvFitError(
            "max(T) is 0: every customer first purchased at the observation "
            "end. Move the observation end later."
        )
    scale = 1.0 / max_age
    x_unique, inverse = np.unique(x, return_inverse=True)
    w_unique = np.bincount(inverse, weights=w)
    zero = x == 0
    pos = ~zero
    return _RfmPrepared(
        scale=scale,
        total_weight=float(w.sum()),
        sum_wx=_dot(w, x),
        x_unique=x_unique,
        w_unique=w_unique,
        w0=w[zero],
        T0=age[zero] * scale,
        x1=x[pos],
        tx1=tx[pos] * scale,
        T1=age[pos] * scale,
        w1=w[pos],
    )


# ---------------------------------------------------------------------------
# BG/NBD and MBG/NBD fitting
# ---------------------------------------------------------------------------


def _bgnbd_objective(
    data: _RfmPrepared, penalizer: float
) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    r"""Penalised mean negative log-likelihood of BG/NBD and its gradient.

    [1]_ eq. (6) in the numerically stable form of lifetimes:

    .. math::

        \ell = A_1 + A_2 + \log\left(e^{A_3} + \delta_{x>0} e^{A_4}\right)

    with :math:`A_1 = \ln\Gamma(r+x) - \ln\Gamma(r) + r\ln\alpha`,
    :math:`A_2 = \ln B(a, b+x) - \ln B(a, b)`,
    :math:`A_3 = -(r+x)\ln(\alpha+T)`,
    :math:`A_4 = \ln a - \ln(b+x-1) - (r+x)\ln(\alpha+t_x)`.
    """
    xu, wu = data.x_unique, data.w_unique
    pos_u = xu > 0
    xu1, wu1 = xu[pos_u], wu[pos_u]
    x1, tx1, T1, w1 = data.x1, data.tx1, data.T1, data.w1
    w0, T0 = data.w0, data.T0
    sw = data.total_weight
    log_bx_index = np.searchsorted(xu1, x1)  # x1 -> position in xu1

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        params = np.exp(theta)
        r, alpha, a, b = params
        log_alpha = np.log(alpha)
        # Per distinct x: Gamma/Beta terms (A1, A2) once each.
        ll = _dot(wu, gammaln(r + xu)) - sw * gammaln(r) + sw * r * log_alpha
        ll += _dot(
            wu1,
            gammaln(a + b) + gammaln(b + xu1) - gammaln(b) - gammaln(a + b + xu1),
        )
        d_r = _dot(wu, digamma(r + xu)) - sw * digamma(r) + sw * log_alpha
        d_alpha = sw * r / alpha
        d_a = _dot(wu1, digamma(a + b) - digamma(a + b + xu1))
        d_b = _dot(
            wu1,
            digamma(a + b) + digamma(b + xu1) - digamma(b) - digamma(a + b + xu1),
        )
        # x == 0 rows: A3 only.
        if w0.size:
            log_a_t0 = np.log(alpha + T0)
            ll -= r * _dot(w0, log_a_t0)
            d_r -= _dot(w0, log_a_t0)
            d_alpha -= r * _dot(w0, 1.0 / (alpha + T0))
        # x > 0 rows: log(e^A3 + e^A4).
        rx = r + x1
        log_a_t = np.log(alpha + T1)
        log_a_tx = np.log(alpha + tx1)
        log_b_x1 = np.log(b + xu1 - 1.0)[log_bx_index]
        a3 = -rx * log_a_t
        a4 = np.log(a) - log_b_x1 - rx * log_a_tx
        ll += _dot(w1, np.logaddexp(a3, a4))
        alive = expit(a3 - a4)  # P(alive | x, t_x, T), [2]_
        dead = 1.0 - alive
        w_dead = w1 * dead
        d_r -= _dot(w1, alive * log_a_t) + _dot(w_dead, log_a_tx)
        d_alpha -= _dot(w1 * rx, alive / (alpha + T1) + dead / (alpha + tx1))
        d_a += float(w_dead.sum()) / a
        d_b -= _dot(w_dead, 1.0 / (b + x1 - 1.0))
        grad_ll = np.array([d_r, d_alpha, d_a, d_b])
        value = -ll / sw + penalizer * float(np.sum(params**2))
        grad = -params * grad_ll / sw + 2.0 * penalizer * params**2
        return value, grad

    return objective


def _mbgnbd_objective(
    data: _RfmPrepared, penalizer: float
) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    r"""Penalised mean negative log-likelihood of MBG/NBD and its gradient.

    [3]_ (Batislam et al. 2007, eq. 3; Wagner & Hoppe 2008 erratum), in
    lifetimes' form:

    .. math::

        \ell = A_1 + \ln B(a, b+x+1) - \ln B(a, b) - (r+x)\ln(\alpha+T)
               + \log(1 + e^{B}),\quad
        B = \ln a - \ln(b+x) + (r+x)\ln\frac{\alpha+T}{\alpha+t_x}
    """
    xu, wu = data.x_unique, data.w_unique
    sw = data.total_weight
    x = np.concatenate([np.zeros(data.w0.size), data.x1])
    tx = np.concatenate([np.zeros(data.w0.size), data.tx1])
    age = np.concatenate([data.T0, data.T1])
    w = np.concatenate([data.w0, data.w1])
    x_index = np.searchsorted(xu, x)

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        params = np.exp(theta)
        r, alpha, a, b = params
        log_alpha = np.log(alpha)
        ll = _dot(
            wu,
            gammaln(r + xu) + gammaln(b + xu + 1.0) - gammaln(a + b + xu + 1.0),
        ) + sw * (-gammaln(r) + r * log_alpha + gammaln(a + b) - gammaln(b))
        d_r = _dot(wu, digamma(r + xu)) + sw * (log_alpha - digamma(r))
        d_alpha = sw * r / alpha
        d_a = sw * digamma(a + b) - _dot(wu, digamma(a + b + xu + 1.0))
        d_b = _dot(wu, digamma(b + xu + 1.0) - digamma(a + b + xu + 1.0)) + sw * (
            digamma(a + b) - digamma(b)
        )
        rx = r + x
        log_a_t = np.log(alpha + age)
        log_a_tx = np.log(alpha + tx)
        log_b_x = np.log(b + xu)[x_index]
        big_b = np.log(a) - log_b_x + rx * (log_a_t - log_a_tx)
        ll += _dot(w, np.logaddexp(big_b, 0.0) - rx * log_a_t)
        dead = expit(big_b)  # 1 - P(alive)
        w_dead = w * dead
        d_r += _dot(w, -log_a_t) + _dot(w_dead, log_a_t - log_a_tx)
        d_alpha += _dot(
            w * rx,
            -1.0 / (alpha + age) + dead * (1.0 / (alpha + age) - 1.0 / (alpha + tx)),
        )
        d_a += float(w_dead.sum()) / a
        d_b -= _dot(w_dead, 1.0 / (b + x))
        grad_ll = np.array([d_r, d_alpha, d_a, d_b])
        value = -ll / sw + penalizer * float(np.sum(params**2))
        grad = -params * grad_ll / sw + 2.0 * penalizer * params**2
        return value, grad

    return objective


def _fit_beta_geo(
    model: str,
    make_objective: Callable[[_RfmPrepared, float], Any],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None,
    penalizer: float,
    min_customers: int,
    max_iterations: int,
) -> FitResult:
    """Shared driver of the BG/NBD and MBG/NBD fits."""
    x, tx, age, w = _validate_rfm(frequency, recency, T, weights)
    _check_penalizer(penalizer)
    total = _check_sample(x, w, min_customers)
    data = _prepare(x, tx, age, w)
    objective = make_objective(data, penalizer)
    res, converged = _run_lbfgs(objective, 4, max_iterations)
    _raise_if_failed(model, res, converged)
    scaled = np.exp(res.x)
    params = scaled.copy()
    params[1] /= data.scale  # alpha back to original time units
    penalty = penalizer * float(np.sum(scaled**2))
    log_lik = -(float(res.fun) - penalty) * total + np.log(data.scale) * data.sum_wx
    names = ("r", "alpha", "a", "b")
    ses = _standard_errors(objective, res.x, params, total, names)
    return FitResult(
        model=model,
        params={k: float(v) for k, v in zip(names, params, strict=True)},
        log_likelihood=float(log_lik),
        mean_neg_log_likelihood=float(res.fun),
        n_customers=total,
        iterations=int(res.nit),
        converged=converged,
        message=str(res.message),
        standard_errors=ses,
    )


def _check_penalizer(penalizer: float) -> None:
    if not (np.isfinite(penalizer) and penalizer >= 0):
        raise ClvFitError(f"`penalizer` must be a finite number >= 0, got {penalizer}.")


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
    min_customers: int = 10,
    max_iterations: int = 1000,
) -> FitResult:
    r"""Fit the BG/NBD model by maximum likelihood, matching lifetimes.

    Reproduces ``lifetimes.BetaGeoFitter(penalizer_coef=penalizer).fit``:
    times are scaled by :math:`s = 1/\max T`, the objective is

    .. math::

        f(\theta) = -\frac{\sum_i w_i \ell_i}{\sum_i w_i}
                    + \lambda \left(r^2 + (\alpha s)^2 + a^2 + b^2\right),
        \qquad \theta = \ln(r, \alpha s, a, b),

    (the penalty hits the *scaled* :math:`\alpha` and is not divided by
    :math:`\sum w`), started at :math:`\theta_0 = 0.1`. The log-likelihood
    ([1]_ eq. 6) is vectorised with its analytic gradient and minimised with
    L-BFGS-B (``ftol=1e-14, gtol=1e-10``) instead of autograd + BFGS; the
    optimum equals lifetimes' to ~1e-6 relative (lifetimes stops at BFGS
    ``tol=1e-7``).

    Parameters
    ----------
    frequency : array_like
        Repeat purchase count :math:`x` (whole numbers).
    recency : array_like
        Time of the last repeat purchase since the first, :math:`t_x`
        (0 when :math:`x = 0`).
    T : array_like
        Age: time from the first purchase to the observation end.
    weights : array_like, optional
        Number of identical customers per row (e.g. from
        :func:`group_triples`); default 1 each.
    penalizer : float, default 0.0
        lifetimes' ``penalizer_coef`` (L2 on the scaled parameters).
    min_customers : int, default 10
        Fewer customers (sum of weights) raises :class:`ClvFitError`.
    max_iterations : int, default 1000
        L-BFGS-B iteration cap.

    Returns
    -------
    FitResult
        ``params`` with keys ``r, alpha, a, b`` (``alpha`` in the time unit of
        ``recency``/``T``), log-likelihood, standard errors and diagnostics.

    Raises
    ------
    ClvFitError
        Empty input, fewer than ``min_customers``, no repeat customers,
        negative/NaN values, ``recency > T``, non-convergence or a non-finite
        optimum.

    References
    ----------
    .. [1] Fader, Hardie & Lee (2005), Marketing Science 24(2), eq. (6).
    .. [2] Fader, Hardie & Lee (2008), "Computing P(alive) Using the BG/NBD
       Model" (the posterior weight in the gradient).
    """
    return _fit_beta_geo(
        "bgnbd",
        _bgnbd_objective,
        frequency,
        recency,
        T,
        weights,
        penalizer,
        min_customers,
        max_iterations,
    )


def fit_mbgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
    min_customers: int = 10,
    max_iterations: int = 1000,
) -> FitResult:
    r"""Fit the modified BG/NBD (MBG/NBD) model, matching lifetimes.

    Same scaling, parameterisation, penalizer and optimizer as
    :func:`fit_bgnbd` (``lifetimes.ModifiedBetaGeoFitter``), with the MBG/NBD
    likelihood in which customers may also drop out right after their first
    purchase ([3]_):

    .. math::

        \ell = \ln\frac{\Gamma(r+x)\alpha^r}{\Gamma(r)}
             + \ln\frac{B(a, b+x+1)}{B(a, b)}
             - (r+x)\ln(\alpha+T)
             + \ln\left(1 + \frac{a}{b+x}
               \left(\frac{\alpha+T}{\alpha+t_x}\right)^{r+x}\right)

    Parameters
    ----------
    frequency, recency, T : array_like
        As in :func:`fit_bgnbd`.
    weights : array_like, optional
        Number of identical customers per row.
    penalizer : float, default 0.0
        lifetimes' ``penalizer_coef``.
    min_customers : int, default 10
        Minimum sum of weights.
    max_iterations : int, default 1000
        L-BFGS-B iteration cap.

    Returns
    -------
    FitResult
        ``params`` with keys ``r, alpha, a, b``.

    Raises
    ------
    ClvFitError
        As :func:`fit_bgnbd`.

    References
    ----------
    .. [3] Batislam, Denizel & Filiztekin (2007), IJRM 24(3), eq. (3);
       Wagner & Hoppe (2008), IJRM 25(3) (erratum).
    """
    return _fit_beta_geo(
        "mbgnbd",
        _mbgnbd_objective,
        frequency,
        recency,
        T,
        weights,
        penalizer,
        min_customers,
        max_iterations,
    )


# ---------------------------------------------------------------------------
# Pareto/NBD
# ---------------------------------------------------------------------------


def _pareto_log_a0(
    r: ArrayLike,
    alpha: ArrayLike,
    s: ArrayLike,
    beta: ArrayLike,
    x: ArrayLike,
    tx: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    r"""Log of :math:`A_0` in the Pareto/NBD likelihood (note 009, eq. 19-20).

    .. math::

        A_0 = g(t_x) - g(T),\qquad
        g(y) = \frac{{}_2F_1(k, c; k+1; |\alpha-\beta|/(\mu+y))}{(\mu+y)^{k}}

    with :math:`k = r+s+x` and :math:`(\mu, c) = (\alpha, s+1)` if
    :math:`\alpha \ge \beta` else :math:`(\beta, r+x)`; the difference is
    taken in log space (``log(-expm1(.))``), so :math:`t_x = T` gives
    :math:`-\infty`.
    """
    r, alpha, s, beta, x, tx, T = np.broadcast_arrays(r, alpha, s, beta, x, tx, T)
    k = r + s + x
    a_ge_b = alpha >= beta
    mu = np.where(a_ge_b, alpha, beta)
    c = np.where(a_ge_b, s + 1.0, r + x)
    diff = np.abs(alpha - beta)
    log_g_tx = np.log(hyp2f1(k, c, k + 1.0, diff / (mu + tx))) - k * np.log(mu + tx)
    log_g_t = np.log(hyp2f1(k, c, k + 1.0, diff / (mu + T))) - k * np.log(mu + T)
    gap = np.minimum(log_g_t - log_g_tx, 0.0)
    with np.errstate(divide="ignore"):
        return log_g_tx + np.log(-np.expm1(gap))


def _pareto_log_likelihood(
    r: ArrayLike,
    alpha: ArrayLike,
    s: ArrayLike,
    beta: ArrayLike,
    x: ArrayLike,
    tx: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    r"""Per-customer Pareto/NBD log-likelihood ([4]_, note 009 eq. 18).

    .. math::

        \ell = \ln\frac{\Gamma(r+x)\alpha^r\beta^s}{\Gamma(r)}
             + \ln\left[\frac{1}{(\alpha+T)^{r+x}(\beta+T)^s}
             + \frac{s}{r+s+x} A_0\right]
    """
    r, alpha, s, beta, x, tx, T = np.broadcast_arrays(r, alpha, s, beta, x, tx, T)
    log_a0 = _pareto_log_a0(r, alpha, s, beta, x, tx, T)
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    died = np.log(s) + log_a0 - np.log(r + s + x)
    return head + np.logaddexp(alive, died)


def fit_pareto_nbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
    min_customers: int = 10,
    max_iterations: int = 5000,
) -> FitResult:
    r"""Fit the Pareto/NBD model with lifetimes' objective, deterministically.

    lifetimes' ``ParetoNBDFitter`` scales times by :math:`s = 1/\max T` and
    minimises the *total* (not mean)

    .. math::

        f(p) = -\frac{\sum_i w_i \ell_i}{\bar w}
               + \lambda\left(r^2 + (\alpha s)^2 + s_{\mathrm{shape}}^2
               + (\beta s)^2\right)

    with Nelder-Mead from a random start :math:`p_0 \sim N(1, 0.05)`, so its
    parameters move ~5e-4 relative with the numpy seed, and provides no
    standard errors. Here the same objective (same penalty, same division by
    the mean weight of the rows passed, so with ``penalizer > 0`` the
    penalty's relative weight depends on the number of rows, and a fit on
    grouped triples differs slightly from one on raw rows, as in lifetimes)
    is minimised over :math:`\ln p` from the deterministic start
    :math:`p_0 = 1` by L-BFGS-B with a central finite-difference gradient
    (the gradient of :math:`{}_2F_1` in its parameters has no closed form),
    falling back to Nelder-Mead from that point if L-BFGS-B stops early.
    The likelihood is evaluated once per distinct :math:`(x, t_x, T)` (exact).
    Results agree with lifetimes to ~1e-3 relative (its own seed noise; the
    objective value is at least as good) and are reproducible.

    Parameters
    ----------
    frequency, recency, T : array_like
        As in :func:`fit_bgnbd`.
    weights : array_like, optional
        Number of identical customers per row.
    penalizer : float, default 0.0
        lifetimes' ``penalizer_coef``.
    min_customers : int, default 10
        Minimum sum of weights.
    max_iterations : int, default 5000
        Iteration cap of each optimizer run.

    Returns
    -------
    FitResult
        ``params`` with keys ``r, alpha, s, beta`` (``alpha``/``beta`` in the
        time unit of ``recency``/``T``); ``standard_errors`` is None.

    Raises
    ------
    ClvFitError
        As :func:`fit_bgnbd`.

    References
    ----------
    .. [4] Schmittlein, Morrison & Colombo (1987), Management Science 33(1);
       Fader & Hardie (2005), note 009, eq. (18)-(20).
    """
    x, tx, age, w = _validate_rfm(frequency, recency, T, weights)
    _check_penalizer(penalizer)
    total = _check_sample(x, w, min_customers)
    max_age = float(age.max())
    if max_age <= 0:
        raise ClvFitError(
            "max(T) is 0: every customer first purchased at the observation "
            "end. Move the observation end later."
        )
    scale = 1.0 / max_age
    mean_w = total / x.size  # lifetimes divides by the mean weight of the rows
    # The likelihood depends on (x, t_x, T) only: evaluate it once per distinct
    # triple (exact, the row count stays in `mean_w`).
    gx, gtx, gage, gw = _group(x, tx, age, w)
    gtx_s, gage_s = gtx * scale, gage * scale

    n_rows = x.size

    def objective(theta: FloatArray) -> float:
        # lifetimes' total objective divided by the row count: same optimum,
        # but a per-customer scale so the tolerances do not depend on n.
        params = np.exp(theta)
        with np.errstate(all="ignore"):
            ll = _pareto_log_likelihood(*params, gx, gtx_s, gage_s)
        value = -_dot(gw, ll) / mean_w + penalizer * float(np.sum(params**2))
        return value / n_rows if np.isfinite(value) else np.inf

    with np.errstate(all="ignore"), _single_threaded_blas():
        res = minimize(
            objective,
            np.zeros(4),
            jac="3-point",
            method="L-BFGS-B",
            options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": max_iterations},
        )
        iterations, converged = int(res.nit), bool(res.success)
        if not converged:  # polish with the derivative-free method lifetimes uses
            res = minimize(
                objective,
                res.x,
                method="Nelder-Mead",
                options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": max_iterations},
            )
            iterations += int(res.nit)
            converged = bool(res.success)
    theta, best, message = res.x, float(res.fun) * n_rows, str(res.message)
    res = OptimizeResult(x=theta, fun=best, nit=iterations, message=message)
    _raise_if_failed("pareto_nbd", res, converged)
    scaled = np.exp(theta)
    params = scaled.copy()
    params[[1, 3]] /= scale
    penalty = penalizer * float(np.sum(scaled**2))
    mean_nll = (best - penalty) * mean_w / total + penalty
    log_lik = -(best - penalty) * mean_w + np.log(scale) * _dot(w, x)
    names = ("r", "alpha", "s", "beta")
    return FitResult(
        model="pareto_nbd",
        params={k: float(v) for k, v in zip(names, params, strict=True)},
        log_likelihood=float(log_lik),
        mean_neg_log_likelihood=float(mean_nll),
        n_customers=total,
        iterations=iterations,
        converged=converged,
        message=message,
        standard_errors=None,
    )


# ---------------------------------------------------------------------------
# Gamma-Gamma
# ---------------------------------------------------------------------------


def fit_gamma_gamma(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
    min_customers: int = 10,
    max_iterations: int = 1000,
) -> FitResult:
    r"""Fit the Gamma-Gamma spend model, matching lifetimes.

    Only repeat customers with positive spend (:math:`x > 0`, :math:`m > 0`)
    enter; the others are dropped here (lifetimes expects the caller to drop
    them and raises on :math:`m \le 0`). The per-customer log-likelihood of
    the mean repeat spend :math:`m` ([5]_, note 025 eq. 1):

    .. math::

        \ell = \ln\Gamma(px+q) - \ln\Gamma(px) - \ln\Gamma(q) + q\ln v
             + (px-1)\ln m + px\ln x - (px+q)\ln(v+xm)

    is minimised as :math:`-\sum w\ell/\sum w + \lambda(p^2+q^2+v^2)` over
    :math:`\theta = \ln(p, q, v)` from :math:`\theta_0 = 0.1` (no time
    scaling), with analytic gradient and L-BFGS-B.

    Parameters
    ----------
    frequency : array_like
        Repeat purchase count :math:`x`.
    monetary_value : array_like
        Mean spend per repeat purchase :math:`m`.
    weights : array_like, optional
        Number of identical customers per row.
    penalizer : float, default 0.0
        lifetimes' ``penalizer_coef``.
    min_customers : int, default 10
        Minimum sum of weights among the repeat customers used.
    max_iterations : int, default 1000
        L-BFGS-B iteration cap.

    Returns
    -------
    FitResult
        ``params`` with keys ``p, q, v``; ``n_customers`` counts the repeat
        customers used.

    Raises
    ------
    ClvFitError
        Empty input, negative/NaN values, no customer with :math:`x > 0` and
        :math:`m > 0`, fewer than ``min_customers`` of them,
        non-convergence or a non-finite optimum.

    References
    ----------
    .. [5] Fader, Hardie & Lee (2005), JMR 42(4), 415-430; Fader & Hardie
       (2013), "The Gamma-Gamma Model of Monetary Value", note 025.
    """
    x = _to_float(frequency, "frequency")
    m = _to_float(monetary_value, "monetary_value")
    if x.size == 0 or m.size == 0:
        raise ClvFitError(
            "Empty input: no customers to fit. Check the upstream filter and "
            "the observation end date."
        )
    w = np.ones_like(x) if weights is None else _to_float(weights, "weights")
    _check_columns({"frequency": x, "monetary_value": m, "weights": w})
    _check_frequency(x)
    _check_penalizer(penalizer)
    keep = (x > 0) & (m > 0) & (w > 0)
    if not keep.any():
        raise ClvFitError(
            "Gamma-Gamma needs repeat customers with positive spend "
            "(frequency > 0 and monetary_value > 0); there are none. Extend the "
            "observation window or check the monetary column."
        )
    x, m, w = x[keep], m[keep], w[keep]
    total = float(w.sum())
    if total < min_customers:
        raise ClvFitError(
            f"Only {total:g} repeat customers with positive spend, fewer than "
            f"min_customers={min_customers}; widen the cohort or lower "
            "`min_customers` deliberately."
        )
    log_m, log_x = np.log(m), np.log(x)
    wx = w * x
    const_x = _dot(wx, log_m + log_x)
    sum_log_m = _dot(w, log_m)
    # The Gamma-function terms depend on x alone, and customers share a
    # handful of frequencies: evaluate them once per distinct x and gather
    # (the same values as evaluating them per customer, at a fraction of
    # the cost).
    distinct_x, which = np.unique(x, return_inverse=True)

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        params = np.exp(theta)
        p, q, v = params
        px = p * x
        p_distinct = p * distinct_x
        psi_pxq_distinct = digamma(p_distinct + q)
        log_vxm = np.log(v + x * m)
        ll = (
            _dot(
                w,
                (gammaln(p_distinct + q) - gammaln(p_distinct))[which]
                - (px + q) * log_vxm,
            )
            + total * (q * np.log(v) - gammaln(q))
            + p * const_x
            - sum_log_m
        )
        psi_pxq = psi_pxq_distinct[which]
        d_p = _dot(wx, psi_pxq - digamma(p_distinct)[which] - log_vxm) + const_x
        d_q = _dot(w, psi_pxq - log_vxm) + total * (np.log(v) - digamma(q))
        d_v = total * q / v - _dot(w, (px + q) / (v + x * m))
        grad_ll = np.array([d_p, d_q, d_v])
        value = -ll / total + penalizer * float(np.sum(params**2))
        grad = -params * grad_ll / total + 2.0 * penalizer * params**2
        return value, grad

    res, converged = _run_lbfgs(objective, 3, max_iterations)
    _raise_if_failed("gamma_gamma", res, converged, _GG_FIX_HINT)
    params = np.exp(res.x)
    penalty = penalizer * float(np.sum(params**2))
    names = ("p", "q", "v")
    return FitResult(
        model="gamma_gamma",
        params={k: float(v) for k, v in zip(names, params, strict=True)},
        log_likelihood=float(-(float(res.fun) - penalty) * total),
        mean_neg_log_likelihood=float(res.fun),
        n_customers=total,
        iterations=int(res.nit),
        converged=converged,
        message=str(res.message),
        standard_errors=_standard_errors(objective, res.x, params, total, names),
    )


# ---------------------------------------------------------------------------
# Closed forms
# ---------------------------------------------------------------------------


def _arrays(*values: ArrayLike) -> list[FloatArray]:
    """Broadcast inputs to float64 arrays (NaN for missing pandas values)."""
    converted = [
        v.to_numpy(dtype=np.float64, na_value=np.nan)
        if hasattr(v, "to_numpy")
        else np.asarray(v, dtype=np.float64)
        for v in values
    ]
    return list(np.broadcast_arrays(*converted))


def _one_minus_pow_over(ratio: FloatArray, exponent: FloatArray) -> FloatArray:
    r"""Return :math:`(1 - u^e)/e` for :math:`0 < u \le 1` (:math:`-\ln u` at e=0)."""
    log_u = np.log(ratio)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = -np.expm1(exponent * log_u) / exponent
    return np.where(exponent == 0, -log_u, out)


def bgnbd_p_alive(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    r: ArrayLike,
    alpha: ArrayLike,
    a: ArrayLike,
    b: ArrayLike,
) -> FloatArray:
    r"""BG/NBD probability that a customer is still alive ([2]_ eq. 2).

    .. math::

        P(\text{alive}\mid x, t_x, T) = \left[1 + \delta_{x>0}\frac{a}{b+x-1}
        \left(\frac{\alpha+T}{\alpha+t_x}\right)^{r+x}\right]^{-1}

    computed as ``expit`` of the negated log odds (1 for :math:`x = 0`).

    Parameters
    ----------
    frequency, recency, T : array_like
        Customer summaries in the model time unit.
    r, alpha, a, b : array_like
        BG/NBD parameters (scalars, or arrays broadcastable to the data).

    Returns
    -------
    numpy.ndarray
        P(alive), broadcast shape of the inputs.

    References
    ----------
    .. [2] Fader, Hardie & Lee (2008), "Computing P(alive) Using the BG/NBD
       Model", note 021, eq. (2).
    """
    x, tx, age, r, alpha, a, b = _arrays(frequency, recency, T, r, alpha, a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds = (
            np.log(a)
            - np.log(b + np.maximum(x, 1.0) - 1.0)
            + (r + x) * (np.log(alpha + age) - np.log(alpha + tx))
        )
    return np.where(x == 0, 1.0, expit(-log_odds))


def _beta_geo_bracket(
    t: FloatArray,
    x: FloatArray,
    age: FloatArray,
    r: FloatArray,
    alpha: FloatArray,
    a: FloatArray,
    b: FloatArray,
    c_offset: float,
) -> FloatArray:
    r"""Euler-transformed bracket shared by the BG/NBD and MBG/NBD forecasts.

    .. math::

        1 - (1-z)^{a-1}\,{}_2F_1(c-r-x,\; a-1;\; c;\; z),\qquad
        z = \frac{t}{\alpha+T+t},\; c = a+b+x+c_{\mathrm{off}}

    (Euler's transformation of :math:`1-(1-z)^{r+x}{}_2F_1(r+x, c-a+1; c; z)`):
    never overflows for large :math:`x` or :math:`t`; :math:`1-z` is formed
    as :math:`(\alpha+T)/(\alpha+T+t)`.
    """
    denom = alpha + age + t
    z = t / denom
    one_minus_z = (alpha + age) / denom
    c = a + b + x + c_offset
    hyp = hyp2f1(c - r - x, a - 1.0, c, z)
    return 1.0 - one_minus_z ** (a - 1.0) * hyp


def bgnbd_conditional_expected_purchases(
    t: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    r: ArrayLike,
    alpha: ArrayLike,
    a: ArrayLike,
    b: ArrayLike,
) -> FloatArray:
    r"""BG/NBD expected repeat purchases in :math:`(T, T+t]` ([1]_ eq. 10).

    .. math::

        E[Y(t)\mid x, t_x, T] = \frac{a+b+x-1}{a-1}
          \left[1 - (1-z)^{a-1}{}_2F_1(a+b-1-r,\, a-1;\, a+b+x-1;\, z)\right]
          P(\text{alive}),\quad z = \frac{t}{\alpha+T+t}

    i.e. eq. (10) with Euler's transformation applied to the
    hypergeometric term: equal to lifetimes'
    ``conditional_expected_number_of_purchases_up_to_time`` (~1e-11
    relative) and finite where its direct form overflows (e.g.
    :math:`x = 200, t = 10^4`). Loses accuracy as :math:`a \to 1`
    (relative error ~ eps/|a-1|), and needs :math:`a+b+x-1 > 0`.

    Parameters
    ----------
    t : array_like
        Forecast horizon in the model time unit.
    frequency, recency, T : array_like
        Customer summaries.
    r, alpha, a, b : array_like
        BG/NBD parameters.

    Returns
    -------
    numpy.ndarray
        Expected number of purchases.

    References
    ----------
    .. [1] Fader, Hardie & Lee (2005), Marketing Science 24(2), eq. (10).
    """
    t, x, tx, age, r, alpha, a, b = _arrays(t, frequency, recency, T, r, alpha, a, b)
    return _forecaster("bgnbd", x, tx, age, r, alpha, a, b)[1](t)


def bgnbd_expected_purchases_new(
    t: ArrayLike, r: ArrayLike, alpha: ArrayLike, a: ArrayLike, b: ArrayLike
) -> FloatArray:
    r"""BG/NBD expected repeat purchases of a new customer in :math:`(0, t]`.

    .. math::

        E[X(t)] = \frac{a+b-1}{a-1}\left[1 - \left(\frac{\alpha}{\alpha+t}
        \right)^{r} {}_2F_1\!\left(r, b; a+b-1; \frac{t}{\alpha+t}\right)
        \right]

    evaluated as the conditional form at :math:`x = t_x = T = 0` (the same
    Euler-transformed bracket), equal to lifetimes'
    ``expected_number_of_purchases_up_to_time``.

    Parameters
    ----------
    t : array_like
        Horizon in the model time unit.
    r, alpha, a, b : array_like
        BG/NBD parameters.

    Returns
    -------
    numpy.ndarray
        Expected number of repeat purchases.

    References
    ----------
    .. [1] Fader, Hardie & Lee (2005), Marketing Science 24(2), eq. (9).
    """
    return bgnbd_conditional_expected_purchases(t, 0.0, 0.0, 0.0, r, alpha, a, b)


def mbgnbd_p_alive(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    r: ArrayLike,
    alpha: ArrayLike,
    a: ArrayLike,
    b: ArrayLike,
) -> FloatArray:
    r"""MBG/NBD probability alive ([3]_, Batislam et al. 2007, appendix eq. 5).

    .. math::

        P(\text{alive}) = \left[1 + \frac{a}{b+x}
        \left(\frac{\alpha+T}{\alpha+t_x}\right)^{r+x}\right]^{-1}

    (below 1 also for :math:`x = 0`: MBG/NBD customers may drop out right
    after the first purchase).

    Parameters
    ----------
    frequency, recency, T : array_like
        Customer summaries.
    r, alpha, a, b : array_like
        MBG/NBD parameters.

    Returns
    -------
    numpy.ndarray
        P(alive).

    References
    ----------
    .. [3] Batislam, Denizel & Filiztekin (2007), IJRM 24(3), appendix A.
    """
    x, tx, age, r, alpha, a, b = _arrays(frequency, recency, T, r, alpha, a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds = (
            np.log(a)
            - np.log(b + x)
            + (r + x) * (np.log(alpha + age) - np.log(alpha + tx))
        )
    return expit(-log_odds)


def mbgnbd_conditional_expected_purchases(
    t: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    r: ArrayLike,
    alpha: ArrayLike,
    a: ArrayLike,
    b: ArrayLike,
) -> FloatArray:
    r"""MBG/NBD expected repeat purchases in :math:`(T, T+t]` ([3]_).

    .. math::

        E[Y(t)\mid x, t_x, T] = \frac{a+b+x}{a-1}
          \left[1 - (1-z)^{a-1}{}_2F_1(a+b-r,\, a-1;\, a+b+x;\, z)\right]
          P(\text{alive}),\quad z = \frac{t}{\alpha+T+t}

    (Euler transform of lifetimes' :math:`(1-z)^{r+x}{}_2F_1(r+x, b+x+1;
    a+b+x; z)`, which is NaN at e.g. :math:`x = 200, t = 10^4`).

    Parameters
    ----------
    t : array_like
        Forecast horizon in the model time unit.
    frequency, recency, T : array_like
        Customer summaries.
    r, alpha, a, b : array_like
        MBG/NBD parameters.

    Returns
    -------
    numpy.ndarray
        Expected number of purchases.

    References
    ----------
    .. [3] Wagner & Hoppe (2008), "Erratum on the MBG/NBD Model", IJRM 25(3).
    """
    t, x, tx, age, r, alpha, a, b = _arrays(t, frequency, recency, T, r, alpha, a, b)
    return _forecaster("mbgnbd", x, tx, age, r, alpha, a, b)[1](t)


def mbgnbd_expected_purchases_new(
    t: ArrayLike, r: ArrayLike, alpha: ArrayLike, a: ArrayLike, b: ArrayLike
) -> FloatArray:
    r"""MBG/NBD expected repeat purchases of a new customer in :math:`(0, t]`.

    .. math::

        E[X(t)] = \frac{b}{a-1}\left[1 - \left(\frac{\alpha}{\alpha+t}
        \right)^{r} {}_2F_1\!\left(r, b+1; a+b; \frac{t}{\alpha+t}\right)
        \right]

    evaluated as the conditional form at :math:`x = t_x = T = 0`
    (:math:`P(\text{alive}) = b/(a+b)` there).

    Parameters
    ----------
    t : array_like
        Horizon in the model time unit.
    r, alpha, a, b : array_like
        MBG/NBD parameters.

    Returns
    -------
    numpy.ndarray
        Expected number of repeat purchases.

    References
    ----------
    .. [3] Batislam, Denizel & Filiztekin (2007), IJRM 24(3), eq. (8).
    """
    return mbgnbd_conditional_expected_purchases(t, 0.0, 0.0, 0.0, r, alpha, a, b)


def pareto_nbd_p_alive(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    r: ArrayLike,
    alpha: ArrayLike,
    s: ArrayLike,
    beta: ArrayLike,
) -> FloatArray:
    r"""Pareto/NBD probability alive ([4]_, note 009 eq. 21; SMC 1987 eq. 11).

    .. math::

        P(\text{alive}) = \left[1 + \frac{s}{r+s+x}(\alpha+T)^{r+x}
        (\beta+T)^{s} A_0\right]^{-1}

    with :math:`A_0` from the likelihood, in log space.

    Parameters
    ----------
    frequency, recency, T : array_like
        Customer summaries.
    r, alpha, s, beta : array_like
        Pareto/NBD parameters.

    Returns
    -------
    numpy.ndarray
        P(alive).

    References
    ----------
    .. [4] Fader & Hardie (2005), note 009, eq. (21).
    """
    x, tx, age, r, alpha, s, beta = _arrays(frequency, recency, T, r, alpha, s, beta)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_a0 = _pareto_log_a0(r, alpha, s, beta, x, tx, age)
        log_odds = (
            np.log(s)
            - np.log(r + s + x)
            + (r + x) * np.log(alpha + age)
            + s * np.log(beta + age)
            + log_a0
        )
    return expit(-log_odds)


def pareto_nbd_conditional_expected_purchases(
    t: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    r: ArrayLike,
    alpha: ArrayLike,
    s: ArrayLike,
    beta: ArrayLike,
) -> FloatArray:
    r"""Pareto/NBD expected repeat purchases in :math:`(T, T+t]` ([4]_ eq. 22).

    .. math::

        E[Y(t)\mid x, t_x, T] = P(\text{alive})\,
        \frac{(r+x)(\beta+T)}{(\alpha+T)(s-1)}
        \left[1 - \left(\frac{\beta+T}{\beta+T+t}\right)^{s-1}\right]

    with the limit :math:`\ln(1 + t/(\beta+T))` at :math:`s = 1`.

    Parameters
    ----------
    t : array_like
        Forecast horizon in the model time unit.
    frequency, recency, T : array_like
        Customer summaries.
    r, alpha, s, beta : array_like
        Pareto/NBD parameters.

    Returns
    -------
    numpy.ndarray
        Expected number of purchases.

    References
    ----------
    .. [4] Schmittlein, Morrison & Colombo (1987), eq. (22); Fader & Hardie
       (2005), note 009.
    """
    t, x, tx, age, r, alpha, s, beta = _arrays(
        t, frequency, recency, T, r, alpha, s, beta
    )
    return _forecaster("pareto_nbd", x, tx, age, r, alpha, s, beta)[1](t)


def pareto_nbd_expected_purchases_new(
    t: ArrayLike, r: ArrayLike, alpha: ArrayLike, s: ArrayLike, beta: ArrayLike
) -> FloatArray:
    r"""Pareto/NBD expected repeat purchases of a new customer ([4]_, SMC 1987 eq. 17).

    .. math::

        E[X(t)] = \frac{r\beta}{\alpha(s-1)}
        \left[1 - \left(\frac{\beta}{\beta+t}\right)^{s-1}\right]

    Parameters
    ----------
    t : array_like
        Horizon in the model time unit.
    r, alpha, s, beta : array_like
        Pareto/NBD parameters.

    Returns
    -------
    numpy.ndarray
        Expected number of repeat purchases.

    References
    ----------
    .. [4] Schmittlein, Morrison & Colombo (1987), Management Science 33(1).
    """
    t, r, alpha, s, beta = _arrays(t, r, alpha, s, beta)
    with np.errstate(divide="ignore", invalid="ignore"):
        return r * beta / alpha * _one_minus_pow_over(beta / (beta + t), s - 1.0)


def gamma_gamma_expected_spend(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    p: ArrayLike,
    q: ArrayLike,
    v: ArrayLike,
) -> FloatArray:
    r"""Gamma-Gamma posterior mean spend per transaction ([5]_, note 025 eq. 5).

    .. math::

        E[M\mid x, m] = \frac{p\,(v + x m)}{p x + q - 1}

    a credibility-weighted mix of the customer's mean spend and the
    population mean :math:`pv/(q-1)` (the value for :math:`x = 0`, whatever
    ``monetary_value`` is, as long as it is finite). Equals lifetimes'
    ``conditional_expected_average_profit``.

    Parameters
    ----------
    frequency : array_like
        Repeat purchase count :math:`x`.
    monetary_value : array_like
        Mean repeat spend :math:`m` (0 for :math:`x = 0`).
    p, q, v : array_like
        Gamma-Gamma parameters.

    Returns
    -------
    numpy.ndarray
        Expected spend per future transaction.

    References
    ----------
    .. [5] Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value",
       note 025, eq. (5); Fader, Hardie & Lee (2005), JMR 42(4).
    """
    x, m, p, q, v = _arrays(frequency, monetary_value, p, q, v)
    with np.errstate(divide="ignore", invalid="ignore"):
        return p * (v + x * m) / (p * x + q - 1.0)


_MODEL_PARAMS: dict[str, tuple[str, ...]] = {
    "bgnbd": ("r", "alpha", "a", "b"),
    "mbgnbd": ("r", "alpha", "a", "b"),
    "pareto_nbd": ("r", "alpha", "s", "beta"),
}


def _forecaster(
    model: str,
    x: FloatArray,
    tx: FloatArray,
    age: FloatArray,
    *params: FloatArray,
) -> tuple[FloatArray, Callable[[ArrayLike], FloatArray]]:
    r"""Return P(alive) and :math:`t \mapsto E[Y(t)|x, t_x, T]` (t-free parts once).

    Shared by the public conditional forecasts and :func:`forecast_horizons`
    (which evaluates one horizon per month).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        if model == "pareto_nbd":
            r, alpha, s, beta = params
            alive = pareto_nbd_p_alive(x, tx, age, r, alpha, s, beta)
            lead = alive * (r + x) * (beta + age) / (alpha + age)

            def pareto(t: ArrayLike) -> FloatArray:
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = (beta + age) / (beta + age + t)
                    return lead * _one_minus_pow_over(ratio, s - 1.0)

            return alive, pareto
        r, alpha, a, b = params
        if model == "bgnbd":
            offset = -1.0
            alive = bgnbd_p_alive(x, tx, age, r, alpha, a, b)
        else:
            offset = 0.0
            alive = mbgnbd_p_alive(x, tx, age, r, alpha, a, b)
        lead = (a + b + x + offset) / (a - 1.0) * alive

    def beta_geo(t: ArrayLike) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return lead * _beta_geo_bracket(t, x, age, r, alpha, a, b, offset)

    return alive, beta_geo


def _periods_per_month(periods_per_month: float | str) -> float:
    """Model time units per month from a number or a lifetimes ``freq`` letter."""
    if isinstance(periods_per_month, str):
        if periods_per_month not in PERIODS_PER_MONTH:
            raise ValueError(
                f"periods_per_month must be a number or one of "
                f"{sorted(PERIODS_PER_MONTH)}, got {periods_per_month!r}."
            )
        return PERIODS_PER_MONTH[periods_per_month]
    return float(periods_per_month)


@dataclass(frozen=True)
class Forecast:
    r"""Per-customer forecasts at several horizons (see :func:`forecast_horizons`).

    Attributes
    ----------
    p_alive : numpy.ndarray
        Probability that each customer is alive, shape ``(n,)``.
    expected_purchases : numpy.ndarray
        :math:`E[Y(m u)]` for each horizon ``m`` (rows) and customer
        (columns), shape ``(len(months), n)``.
    discounted_purchases : numpy.ndarray
        :math:`\sum_{k=1}^{K_m} (E[Y(k u)] - E[Y((k-1) u)]) / (1+d)^k`, the
        CLV per unit of expected spend, shape ``(len(months), n)``.
    """

    p_alive: FloatArray
    expected_purchases: FloatArray
    discounted_purchases: FloatArray


def forecast_horizons(
    model: str,
    params: Mapping[str, ArrayLike],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    months: Sequence[float] = (12,),
    discount_rate: ArrayLike = 0.01,
    periods_per_month: float | str = "W",
) -> Forecast:
    r"""P(alive), expected and discounted purchases at several horizons in one pass.

    The monthly grid of :func:`discounted_clv` (lifetimes'
    ``customer_lifetime_value``) is evaluated once, up to the longest
    horizon, and every shorter horizon reads its prefix: a 3- and a
    12-month CLV cost 12 forecasts, not 15, and the expected purchases at
    ``m`` months (:math:`t = m u`) are the grid's value at that point,
    evaluated separately only when ``m u`` is not on the grid. The CLV of a
    horizon is ``expected_spend * discounted_purchases[i]``.

    Parameters
    ----------
    model : {"bgnbd", "mbgnbd", "pareto_nbd"}
        Transaction model.
    params : mapping
        Its parameters (``r, alpha, a, b`` or ``r, alpha, s, beta``); extra
        keys are ignored.
    frequency, recency, T : array_like
        Customer summaries in the model time unit.
    months : sequence of float, default (12,)
        Horizons in months.
    discount_rate : array_like, default 0.01
        Monthly discount rate :math:`d`.
    periods_per_month : float or {"W", "M", "D", "H"}, default "W"
        Model time units per month :math:`u`.

    Returns
    -------
    Forecast
        ``p_alive``, ``expected_purchases`` and ``discounted_purchases``.

    References
    ----------
    .. [5] Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves
       for Customer Base Analysis", JMR 42(4), 415-430.
    """
    if model not in _MODEL_PARAMS:
        raise ValueError(
            f"model must be one of {sorted(_MODEL_PARAMS)}, got {model!r}."
        )
    names = _MODEL_PARAMS[model]
    missing = [n for n in names if n not in params]
    if missing:
        raise ValueError(f"params for {model} lack {missing}.")
    factor = _periods_per_month(periods_per_month)
    horizons = [float(m) for m in months]
    x, tx, age, rate, *model_params = _arrays(
        frequency, recency, T, discount_rate, *(params[n] for n in names)
    )
    alive, forecast = _forecaster(model, x, tx, age, *model_params)
    # lifetimes: for i in arange(1, time + 1) * factor, discount (1+d)^(i/factor)
    grids = [np.arange(1, m + 1) * factor for m in horizons]
    longest = max(grids, key=len) if grids else np.zeros(0)
    steps = {len(grid) for grid in grids}
    expected = np.zeros((len(horizons), *x.shape))
    discounted = np.zeros((len(horizons), *x.shape))
    cumulative = np.zeros(x.shape)
    previous = np.zeros(x.shape)
    on_grid: dict[float, FloatArray] = {}
    for step, horizon in enumerate(longest, start=1):
        current = forecast(horizon)
        cumulative = cumulative + (current - previous) / (1.0 + rate) ** (
            horizon / factor
        )
        previous = current
        on_grid[float(horizon)] = current
        if step in steps:
            for i, grid in enumerate(grids):
                if len(grid) == step:
                    discounted[i] = cumulative
    for i, m in enumerate(horizons):
        t = m * factor
        expected[i] = on_grid[t] if t in on_grid else forecast(t)
    return Forecast(alive, expected, discounted)


def discounted_clv(
    model: str,
    params: Mapping[str, ArrayLike],
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    expected_spend: ArrayLike,
    months: float = 12,
    discount_rate: ArrayLike = 0.01,
    periods_per_month: float | str = "W",
) -> FloatArray:
    r"""Discounted customer lifetime value, as lifetimes computes it ([5]_).

    Replicates ``GammaGammaFitter.customer_lifetime_value`` /
    ``lifetimes.utils._customer_lifetime_value``: with :math:`u` model time
    units per month and monthly, end-of-month discounting,

    .. math::

        \mathrm{CLV} = E[M] \sum_{k=1}^{K} \frac{E[Y(k u)] -
        E[Y((k-1) u)]}{(1+d)^{k}},\qquad K = \lceil
        \text{months}\rceil

    (``np.arange(1, months + 1)`` steps, as lifetimes; :math:`E[M]` is
    factored out of the sum, which changes the result only in the last
    bits).

    Parameters
    ----------
    model : {"bgnbd", "mbgnbd", "pareto_nbd"}
        Transaction model whose conditional forecast is used.
    params : mapping
        Its parameters (``r, alpha, a, b`` or ``r, alpha, s, beta``); extra
        keys are ignored.
    frequency, recency, T : array_like
        Customer summaries in the model time unit.
    expected_spend : array_like
        :math:`E[M]`, e.g. from :func:`gamma_gamma_expected_spend`.
    months : float, default 12
        Horizon in months.
    discount_rate : array_like, default 0.01
        Monthly discount rate :math:`d`.
    periods_per_month : float or {"W", "M", "D", "H"}, default "W"
        Model time units per month :math:`u` (lifetimes' ``freq``: W 4.345,
        M 1, D 30, H 720). A weekly model needs ``"W"``.

    Returns
    -------
    numpy.ndarray
        CLV per customer, in the currency of ``expected_spend``.

    References
    ----------
    .. [5] Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves
       for Customer Base Analysis", JMR 42(4), 415-430.
    """
    forecast = forecast_horizons(
        model,
        params,
        frequency,
        recency,
        T,
        (months,),
        discount_rate,
        periods_per_month,
    )
    (spend,) = _arrays(expected_spend)
    return spend * forecast.discounted_purchases[0]


def frequency_monetary_correlation(
    frequency: ArrayLike, monetary_value: ArrayLike
) -> float:
    r"""Pearson correlation of frequency and mean spend among repeat customers.

    The Gamma-Gamma model assumes spend is independent of purchase frequency
    ([5]_); a correlation far from 0 argues against it. Rows with
    :math:`x = 0` or a non-finite value are ignored.

    Parameters
    ----------
    frequency : array_like
        Repeat purchase count.
    monetary_value : array_like
        Mean repeat spend.

    Returns
    -------
    float
        Correlation coefficient, NaN with fewer than two usable rows or a
        constant column.

    References
    ----------
    .. [5] Fader & Hardie (2013), note 025, section 2.
    """
    x, m = _arrays(frequency, monetary_value)
    keep = np.isfinite(x) & np.isfinite(m) & (x > 0)
    x, m = x[keep], m[keep]
    if x.size < 2:
        return float("nan")
    dx, dm = x - x.mean(), m - m.mean()
    denom = np.sqrt(_dot(dx, dx) * _dot(dm, dm))
    return _dot(dx, dm) / denom if denom > 0 else float("nan")


# ---------------------------------------------------------------------------
# Simulation
# ---------------------------------------------------------------------------


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


# --- Warehouse tables ---------------------------------------------------------
#: Warehouse column -> literature name: the one place they are mapped.
_WAREHOUSE_COLUMNS = {
    "frequency": "frequency",
    "recency": "recency",
    "T": "T",
    "monetary_value": "monetary_value",
}
#: The columns :func:`fit_clv_params_table` reads.
FIT_INPUT_COLUMNS: tuple[str, ...] = tuple(_WAREHOUSE_COLUMNS)
_TRANSACTION_FITTERS: dict[str, Callable[..., FitResult]] = {
    "bgnbd": fit_bgnbd,
    "mbgnbd": fit_mbgnbd,
    "pareto_nbd": fit_pareto_nbd,
}
_PARAMS_TABLE_COLUMNS = [
    "model",
    "parameter",
    "value",
    "standard_error",
    "customers_fitted",
    "log_likelihood",
    "mean_neg_log_likelihood",
    "converged",
    "iterations",
    "message",
]


def _is_lexsorted(keys: Sequence[FloatArray]) -> bool:
    """Whether the rows are in ascending order of ``keys`` (first key first)."""
    if len(keys[0]) < 2:
        return True
    tied = np.ones(len(keys[0]) - 1, dtype=bool)
    for key in keys:
        before, after = key[:-1], key[1:]
        if np.any(tied & ~(before <= after)):  # also False for NaN
            return False
        tied &= before == after
    return True


def fit_clv_params_table(
    customers: pd.DataFrame,
    model: str = "bgnbd",
    penalizer: float = 0.0,
) -> pd.DataFrame:
    r"""Fit a transaction model and Gamma-Gamma; return one row per parameter.

    The transaction model is fitted on the distinct
    (frequency, recency, T) triples with their counts as weights (the same
    maximum-likelihood estimate as fitting every customer,
    :func:`group_triples`); Gamma-Gamma on the customers with
    ``frequency > 0`` and ``monetary_value > 0``. A last row records the
    Pearson correlation between frequency and monetary value among those
    repeat customers (model ``diagnostics``), since Gamma-Gamma assumes
    they are independent.

    Parameters
    ----------
    customers : pandas.DataFrame
        One row per customer with ``frequency``, ``recency``, ``T`` and
        ``monetary_value`` as ``summary_data_from_transaction_data`` defines
        them. Not modified.
    model : {"bgnbd", "mbgnbd", "pareto_nbd"}
        Transaction model.
    penalizer : float
        L2 penalizer of both fits (lifetimes' ``penalizer_coef``).

    Returns
    -------
    pandas.DataFrame
        ``model``, ``parameter``, ``value``, ``standard_error``,
        ``customers_fitted``, ``log_likelihood``, ``mean_neg_log_likelihood``,
        ``converged``, ``iterations``, ``message``.

    Raises
    ------
    ClvFitError
        When a fit cannot work; the message names the cause and what to
        change.
    """
    if model not in _TRANSACTION_FITTERS:
        raise ValueError(
            f"unknown CLV model {model!r}: use one of "
            + ", ".join(sorted(_TRANSACTION_FITTERS))
        )
    missing = [c for c in _WAREHOUSE_COLUMNS if c not in customers.columns]
    if missing:
        raise ClvFitError(f"CLV inputs lack columns: {', '.join(missing)}")
    data = {
        name: customers[column].to_numpy(dtype=np.float64)
        for column, name in _WAREHOUSE_COLUMNS.items()
    }
    # Sort, so that sums, and so the fitted values, do not depend on the
    # order the warehouse returned the rows in (rows the warehouse already
    # sorted, ORDER BY these four columns, are only checked).
    keys = [data[name] for name in ("frequency", "recency", "T", "monetary_value")]
    if not _is_lexsorted(keys):
        order = np.lexsort(keys[::-1])
        data = {name: values[order] for name, values in data.items()}
    try:
        transaction, spend = _fit_both(data, model, float(penalizer))
    except ClvFitError as error:
        raise ClvFitError(
            f"{error} To build everything else without CLV, set the dbt var "
            "clv_enabled: false."
        ) from error
    repeat = (data["frequency"] > 0) & (data["monetary_value"] > 0)
    rows = [
        {
            "model": fit.model,
            "parameter": name,
            "value": value,
            "standard_error": (fit.standard_errors or {}).get(name, np.nan),
            "customers_fitted": fit.n_customers,
            "log_likelihood": fit.log_likelihood,
            "mean_neg_log_likelihood": fit.mean_neg_log_likelihood,
            "converged": fit.converged,
            "iterations": fit.iterations,
            "message": fit.message,
        }
        for fit in (transaction, spend)
        for name, value in fit.params.items()
    ]
    rows.append(
        {
            "model": "diagnostics",
            "parameter": "frequency_monetary_correlation",
            "value": frequency_monetary_correlation(
                data["frequency"][repeat], data["monetary_value"][repeat]
            ),
            "standard_error": np.nan,
            "customers_fitted": float(repeat.sum()),
            "log_likelihood": np.nan,
            "mean_neg_log_likelihood": np.nan,
            "converged": True,
            "iterations": 0,
            "message": "Pearson correlation among repeat customers",
        }
    )
    table = pd.DataFrame(rows, columns=_PARAMS_TABLE_COLUMNS)
    return table.astype(
        {
            "model": "str",
            "parameter": "str",
            "value": "float64",
            "standard_error": "float64",
            "customers_fitted": "float64",
            "log_likelihood": "float64",
            "mean_neg_log_likelihood": "float64",
            "converged": "bool",
            "iterations": "int64",
            "message": "str",
        }
    )


def _fit_both(
    data: dict[str, FloatArray], model: str, penalizer: float
) -> tuple[FitResult, FitResult]:
    """Transaction model on weighted triples, Gamma-Gamma on repeat spend."""
    x, tx, age, weights = group_triples(data["frequency"], data["recency"], data["T"])
    transaction = _TRANSACTION_FITTERS[model](
        x, tx, age, weights=weights, penalizer=penalizer
    )
    repeat = (data["frequency"] > 0) & (data["monetary_value"] > 0)
    spend = fit_gamma_gamma(
        data["frequency"][repeat], data["monetary_value"][repeat], penalizer=penalizer
    )
    return transaction, spend
