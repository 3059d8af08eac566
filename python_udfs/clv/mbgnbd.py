r"""MBG/NBD: the modified BG/NBD transaction model.

As BG/NBD (:mod:`python_udfs.clv.bgnbd`), but a customer may also drop out
right after the first purchase, so P(alive) is below 1 even without a repeat
purchase ([3]_). This module holds its log-likelihood with analytic gradient
(``_mbgnbd_objective``), the fitter :func:`fit_mbgnbd`,
:func:`mbgnbd_p_alive` and the conditional and unconditional expected
purchases; the parts it shares with BG/NBD live in
:mod:`python_udfs.clv._beta_geo`.

The results match lifetimes' ``ModifiedBetaGeoFitter`` (``lifetimes`` 0.11.3, the
parity target of :mod:`python_udfs.clv`).

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "Counting Your
   Customers the Easy Way: An Alternative to the Pareto/NBD Model",
   Marketing Science 24(2), 275-284 (the BG/NBD it modifies).
.. [3] Batislam, E. P., Denizel, M. & Filiztekin, A. (2007), "Empirical
   validation and comparison of models for customer base analysis",
   IJRM 24(3), 201-209; Wagner, U. & Hoppe, D. (2008), "Erratum on the
   MBG/NBD Model", IJRM 25(3), 225-226.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, expit, gammaln

from ._beta_geo import _fit_beta_geo, _forecaster_of, _RfmPrepared
from .fitting import FitResult, FloatArray, Objective, _arrays, _dot, _penalised_nll

__all__ = [
    "fit_mbgnbd",
    "mbgnbd_conditional_expected_purchases",
    "mbgnbd_expected_purchases_new",
    "mbgnbd_p_alive",
]


def _mbgnbd_objective(data: _RfmPrepared, penalizer: float) -> Objective:
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

    def log_likelihood(
        r: float, alpha: float, a: float, b: float
    ) -> tuple[float, FloatArray]:
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
        return ll, np.array([d_r, d_alpha, d_a, d_b])

    return _penalised_nll(log_likelihood, sw, penalizer)


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
        MBG/NBD parameters, as :func:`fit_mbgnbd` returns them.

    Returns
    -------
    numpy.ndarray
        Expected number of repeat purchases.

    References
    ----------
    .. [3] Batislam, Denizel & Filiztekin (2007), IJRM 24(3), eq. (8).
    """
    return mbgnbd_conditional_expected_purchases(t, 0.0, 0.0, 0.0, r, alpha, a, b)


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
        MBG/NBD parameters, as :func:`fit_mbgnbd` returns them.

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
    rfm = (frequency, recency, T, weights)
    options = (penalizer, min_customers, max_iterations)
    return _fit_beta_geo("mbgnbd", _mbgnbd_objective, *rfm, *options)


#: P(alive) and :math:`t \mapsto E[Y(t)|x, t_x, T]` of MBG/NBD (see
#: :func:`python_udfs.clv._beta_geo._forecaster_of`).
_forecaster = _forecaster_of(mbgnbd_p_alive, 0.0)


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
        MBG/NBD parameters, as :func:`fit_mbgnbd` returns them.

    Returns
    -------
    numpy.ndarray
        Expected number of purchases.

    References
    ----------
    .. [3] Wagner & Hoppe (2008), "Erratum on the MBG/NBD Model", IJRM 25(3).
    """
    t, x, tx, age, r, alpha, a, b = _arrays(t, frequency, recency, T, r, alpha, a, b)
    return _forecaster(x, tx, age, r, alpha, a, b)[1](t)
