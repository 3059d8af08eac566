r"""Shared fitting machinery of the CLV models: inputs, optimiser, errors.

Used by every model module of :mod:`python_udfs.clv`:

* :class:`FitResult` (what every fitter returns) and :class:`ClvFitError`
  (what every fitter raises, with a message naming the cause and the fix);
* input conversion and checks (``_to_float``, ``_validate_rfm``,
  ``_check_sample``, ``_check_penalizer``, ``_arrays`` for the closed
  forms) and :func:`group_triples`;
* the optimiser: L-BFGS-B from lifetimes' start (``_run_lbfgs``), with BLAS
  pinned to one thread (``_single_threaded_blas``), its failure checks
  (``_raise_if_failed``), the objective of some parameters with the others
  held (``_restricted``), the penalised mean objective
  (``_penalised_nll``) and lifetimes-style standard errors
  (``_standard_errors``). Optima on a boundary of the parameter space:
  :mod:`python_udfs.clv._boundary`.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "Counting Your
   Customers the Easy Way: An Alternative to the Pareto/NBD Model",
   Marketing Science 24(2), 275-284 (section 7: fitting grouped data).
.. [6] Davidson-Pilon, C. et al., ``lifetimes`` 0.11.3,
   https://github.com/CamDavidsonPilon/lifetimes (parity target:
   ``BaseFitter``, ``penalizer_coef``, ``_compute_variance_matrix``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import OptimizeResult, minimize

try:  # optional (ships with scikit-learn); see _single_threaded_blas
    from threadpoolctl import threadpool_limits as _threadpool_limits
except ImportError:  # pragma: no cover - fits still work, only slower
    _threadpool_limits = None

__all__ = ["ClvFitError", "FitResult", "group_triples"]

FloatArray = NDArray[np.float64]
#: A penalised objective: log-parameters -> (value, gradient).
Objective = Callable[[FloatArray], tuple[float, FloatArray]]


_THETA0 = 0.1  # lifetimes' start: log-parameters all 0.1
_LBFGS_OPTIONS = {"ftol": 1e-14, "gtol": 1e-10}
# L-BFGS-B may stop with an "abnormal line search" once f cannot decrease in
# floating point; accept that as converged when the gradient is this small.
_GRAD_ACCEPT = 1e-6
_FIX_HINT = (
    "Try a larger `penalizer` (e.g. 0.001-0.1) or a different `clv_time_unit` "
    "(weeks usually fit better than days)."
)


#: Why a fit failed (:attr:`ClvFitError.reason`): data too thin for the
#: model, which a production build records instead of failing on
#: (:data:`DATA_REASONS`), or inputs that break the model's assumptions.
DATA_REASONS = (
    "no_customers",
    "too_few_customers",
    "no_repeat_customers",
    "not_converged",
)
_REASONS = (*DATA_REASONS, "invalid_input")


class ClvFitError(ValueError):
    """A CLV model cannot be fitted to the given data; the message says why.

    Parameters
    ----------
    message : str
        The cause and what to change.
    reason : str, default "invalid_input"
        One of :data:`DATA_REASONS` (the data cannot support the model:
        no customers, too few, no repeat customers, no convergence) or
        ``"invalid_input"`` (inputs that break the model's assumptions).
    """

    def __init__(self, message: str, reason: str = "invalid_input") -> None:
        if reason not in _REASONS:
            raise ValueError(f"unknown ClvFitError reason {reason!r}")
        super().__init__(message)
        self.reason = reason


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
        for Pareto/NBD, where lifetimes has none either. At a boundary they
        are those of the free parameters with the boundary ones held (NaN
        for the boundary ones).
    at_boundary : tuple[str, ...]
        Parameters on a boundary of the parameter space (tending to 0 or
        infinity where the likelihood is flat; see the module docstring),
        empty for an interior optimum. A boundary fit that L-BFGS-B did not
        report as converged has ``converged`` False.
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
    at_boundary: tuple[str, ...] = ()


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
            "the observation end date.",
            reason="no_customers",
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
        raise ClvFitError(
            "All weights are zero; pass positive customer counts.",
            reason="no_customers",
        )
    if total < min_customers:
        raise ClvFitError(
            f"Only {total:g} customers, fewer than min_customers="
            f"{min_customers}; the model cannot be estimated reliably. Widen "
            "the cohort or lower `min_customers` deliberately.",
            reason="too_few_customers",
        )
    if float(w[x > 0].sum()) == 0.0:
        raise ClvFitError(
            "No repeat customers (every frequency is 0): purchase rate and "
            "dropout cannot be identified. Extend the observation window or use "
            "a finer `clv_time_unit`.",
            reason="no_repeat_customers",
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


def _check_penalizer(penalizer: float) -> None:
    if not (np.isfinite(penalizer) and penalizer >= 0):
        raise ClvFitError(f"`penalizer` must be a finite number >= 0, got {penalizer}.")


def _arrays(*values: ArrayLike) -> list[FloatArray]:
    """Broadcast inputs to float64 arrays (NaN for missing pandas values)."""
    converted = [
        v.to_numpy(dtype=np.float64, na_value=np.nan)
        if hasattr(v, "to_numpy")
        else np.asarray(v, dtype=np.float64)
        for v in values
    ]
    return list(np.broadcast_arrays(*converted))


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
    objective: Objective,
    n_params: int,
    max_iterations: int,
    theta0: FloatArray | None = None,
) -> tuple[OptimizeResult, bool]:
    """Minimise ``objective`` (value, gradient) from lifetimes' start 0.1.

    ``theta0`` starts elsewhere (the refit of the free parameters of a
    boundary optimum, :func:`_settle`).
    """
    start = np.full(n_params, _THETA0) if theta0 is None else theta0
    with np.errstate(all="ignore"), _single_threaded_blas():
        res = minimize(
            objective,
            start,
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
            f"objective {res.fun}). {hint}",
            reason="not_converged",
        )
    if np.any(np.abs(res.x) > 700):
        raise ClvFitError(
            f"{model} fit diverged: a parameter under/overflows "
            f"(log-params {res.x}). {hint}",
            reason="not_converged",
        )
    if not converged:
        raise ClvFitError(
            f"{model} fit did not converge after {res.nit} iterations "
            f"({res.message}). {hint}",
            reason="not_converged",
        )


def _restricted(objective: Objective, theta: FloatArray, fixed: list[int]) -> Objective:
    """``objective`` of the free log-parameters, the ``fixed`` ones held."""
    free = np.ones(theta.size, dtype=bool)
    free[fixed] = False

    def restricted(theta_free: FloatArray) -> tuple[float, FloatArray]:
        full = theta.copy()
        full[free] = theta_free
        value, grad = objective(full)
        return value, grad[free]

    return restricted


def _standard_errors(
    objective: Objective,
    theta: FloatArray,
    params: FloatArray,
    total_weight: float,
    names: tuple[str, ...],
    fixed: list[int] | None = None,
) -> dict[str, float]:
    r"""Compute lifetimes-style standard errors from a finite-difference Hessian.

    :math:`H` is the central-difference Jacobian of the analytic gradient of
    the penalised mean objective in log-parameters; then
    :math:`se(p_k) = p_k\sqrt{[H^{-1}]_{kk}/\sum w}` (delta method), as in
    ``BaseFitter._compute_variance_matrix``. Entries are NaN when :math:`H`
    is singular or not positive definite. With ``fixed`` (the parameters
    of a boundary optimum), :math:`H` is that of the other parameters with
    those held, and the fixed ones get NaN.
    """
    if fixed:
        free = [k for k in range(theta.size) if k not in fixed]
        inner = _standard_errors(
            _restricted(objective, theta, fixed),
            theta[free],
            params[free],
            total_weight,
            tuple(names[k] for k in free),
        )
        return {name: inner.get(name, float("nan")) for name in names}
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


def _penalised_nll(
    log_likelihood: Callable[..., tuple[float, FloatArray]],
    total_weight: float,
    penalizer: float,
) -> Objective:
    r"""Return lifetimes' penalised mean objective of ``log_likelihood``.

    ``log_likelihood(*p)`` returns the total (weighted) log-likelihood
    :math:`\ell` and its gradient in the parameters :math:`p`. The objective
    takes :math:`\theta = \ln p` and returns
    :math:`f = -\ell/\sum w + \lambda\sum_k p_k^2` and
    :math:`\partial f/\partial\theta_k = -p_k\,(\partial\ell/\partial p_k)
    /\sum w + 2\lambda p_k^2`.
    """

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        params = np.exp(theta)
        ll, grad_ll = log_likelihood(*params)
        value = -ll / total_weight + penalizer * float(np.sum(params**2))
        grad = -params * grad_ll / total_weight + 2.0 * penalizer * params**2
        return value, grad

    return objective
