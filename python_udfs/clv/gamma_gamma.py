r"""Gamma-Gamma: the spend model of repeat customers.

A customer's spend per transaction is Gamma with shape :math:`p` and a
rate :math:`\nu \sim \mathrm{Gamma}(q, v)`, independent of the purchase
process ([5]_). This module holds the fitter :func:`fit_gamma_gamma` (its
log-likelihood with analytic gradient inside) and the posterior mean spend
:func:`gamma_gamma_expected_spend`.

The results match lifetimes' ``GammaGammaFitter`` (``lifetimes`` 0.11.3, the
parity target of :mod:`python_udfs.clv`).

References
----------
.. [5] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "RFM and CLV:
   Using Iso-Value Curves for Customer Base Analysis", JMR 42(4), 415-430;
   Fader, P. S. & Hardie, B. G. S. (2013), "The Gamma-Gamma Model of
   Monetary Value", http://brucehardie.com/notes/025/.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln

from . import registry
from ._boundary import _settle
from .fitting import (
    ClvFitError,
    FitResult,
    FloatArray,
    _arrays,
    _check_columns,
    _check_frequency,
    _check_penalizer,
    _dot,
    _penalised_nll,
    _run_lbfgs,
    _standard_errors,
    _to_float,
)

__all__ = ["fit_gamma_gamma", "gamma_gamma_expected_spend"]


_GG_FIX_HINT = (
    "Try a larger `penalizer` (e.g. 0.001-0.1) and check that `monetary_value` "
    "varies across repeat customers."
)


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
            "the observation end date.",
            reason="no_customers",
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
            "observation window or check the monetary column.",
            reason="no_repeat_customers",
        )
    x, m, w = x[keep], m[keep], w[keep]
    total = float(w.sum())
    if total < min_customers:
        raise ClvFitError(
            f"Only {total:g} repeat customers with positive spend, fewer than "
            f"min_customers={min_customers}; widen the cohort or lower "
            "`min_customers` deliberately.",
            reason="too_few_customers",
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

    def log_likelihood(p: float, q: float, v: float) -> tuple[float, FloatArray]:
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
        return ll, np.array([d_p, d_q, d_v])

    objective = _penalised_nll(log_likelihood, total, penalizer)
    names = registry.GAMMA_GAMMA.parameters
    end = _settle(
        "gamma_gamma",
        objective,
        _run_lbfgs(objective, 3, max_iterations),
        max_iterations,
        names,
        _GG_FIX_HINT,
    )
    params = np.exp(end.theta)
    penalty = penalizer * float(np.sum(params**2))
    return FitResult(
        model="gamma_gamma",
        params={k: float(v) for k, v in zip(names, params, strict=True)},
        log_likelihood=float(-(end.fun - penalty) * total),
        mean_neg_log_likelihood=end.fun,
        n_customers=total,
        iterations=end.iterations,
        converged=end.converged,
        message=end.message,
        standard_errors=_standard_errors(
            objective, end.theta, params, total, names, end.boundary
        ),
        at_boundary=tuple(names[k] for k in end.boundary),
    )


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
