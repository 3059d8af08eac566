r"""Pareto/NBD: the Pareto/negative binomial transaction model.

A customer buys at Poisson rate :math:`\lambda \sim \mathrm{Gamma}(r,
\alpha)` while alive, with an exponential lifetime of rate :math:`\mu \sim
\mathrm{Gamma}(s, \beta)` ([4]_). This module holds its log-likelihood
(``_pareto_log_likelihood``, with ``_pareto_log_a0`` in log space), the
fitter :func:`fit_pareto_nbd`, :func:`pareto_nbd_p_alive` and the
conditional and unconditional expected purchases.

The results match lifetimes' ``ParetoNBDFitter`` (``lifetimes`` 0.11.3, the
parity target of :mod:`python_udfs.clv`).

References
----------
.. [4] Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987), "Counting
   Your Customers: Who Are They and What Will They Do Next?", Management
   Science 33(1), 1-24; Fader, P. S. & Hardie, B. G. S. (2005), "A Note on
   Deriving the Pareto/NBD Model and Related Expressions",
   http://brucehardie.com/notes/009/.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import OptimizeResult, minimize
from scipy.special import expit, gammaln, hyp2f1

from . import registry
from .fitting import (
    ClvFitError,
    FitResult,
    FloatArray,
    _arrays,
    _check_penalizer,
    _check_sample,
    _dot,
    _group,
    _raise_if_failed,
    _single_threaded_blas,
    _validate_rfm,
)

__all__ = [
    "fit_pareto_nbd",
    "pareto_nbd_conditional_expected_purchases",
    "pareto_nbd_expected_purchases_new",
    "pareto_nbd_p_alive",
]


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
        As in :func:`~python_udfs.clv.bgnbd.fit_bgnbd`.
    weights : array_like, optional
        Number of identical customers per row (with ``penalizer > 0``, the
        grouping changes the fit slightly, as in lifetimes; see above).
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
            "end. Move the observation end later.",
            reason="no_repeat_customers",
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
    names = registry.TRANSACTION_MODELS["pareto_nbd"].parameters
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


def _one_minus_pow_over(ratio: FloatArray, exponent: FloatArray) -> FloatArray:
    r"""Return :math:`(1 - u^e)/e` for :math:`0 < u \le 1` (:math:`-\ln u` at e=0)."""
    log_u = np.log(ratio)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = -np.expm1(exponent * log_u) / exponent
    return np.where(exponent == 0, -log_u, out)


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
        Pareto/NBD parameters (:math:`\alpha` and :math:`\beta` in the model
        time unit).

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
        Pareto/NBD parameters (:math:`\alpha` and :math:`\beta` in the model
        time unit).

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
    return _forecaster(x, tx, age, r, alpha, s, beta)[1](t)


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
        Pareto/NBD parameters (:math:`\alpha` and :math:`\beta` in the model
        time unit).

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


def _forecaster(
    x: FloatArray,
    tx: FloatArray,
    age: FloatArray,
    r: FloatArray,
    alpha: FloatArray,
    s: FloatArray,
    beta: FloatArray,
) -> tuple[FloatArray, Callable[[ArrayLike], FloatArray]]:
    r"""Return Pareto/NBD P(alive) and :math:`t \mapsto E[Y(t)|x, t_x, T]`.

    The t-free parts are computed once; used by
    :func:`pareto_nbd_conditional_expected_purchases` and, through the
    registry, by :func:`python_udfs.clv.forecast.forecast_horizons`.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        alive = pareto_nbd_p_alive(x, tx, age, r, alpha, s, beta)
        lead = alive * (r + x) * (beta + age) / (alpha + age)

    def pareto(t: ArrayLike) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = (beta + age) / (beta + age + t)
            return lead * _one_minus_pow_over(ratio, s - 1.0)

    return alive, pareto
