r"""Shared parts of the BG/NBD and MBG/NBD models (:mod:`.bgnbd`, :mod:`.mbgnbd`).

Both are beta-geometric/NBD models with parameters :math:`(r, \alpha, a, b)`:
they share the data preparation (lifetimes' time scaling by
:math:`1/\max T`), the fit driver (:func:`_fit_beta_geo`: checks, L-BFGS-B,
back-scaling, standard errors) and the Euler-transformed hypergeometric
bracket of their conditional forecasts (:func:`_beta_geo_bracket`, with
:math:`c = a+b+x-1` for BG/NBD and :math:`a+b+x` for MBG/NBD).

The models and their references: :mod:`python_udfs.clv.bgnbd`,
:mod:`python_udfs.clv.mbgnbd`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import hyp2f1

from . import registry
from ._boundary import _settle
from .fitting import (
    ClvFitError,
    FitResult,
    FloatArray,
    _check_penalizer,
    _check_sample,
    _dot,
    _run_lbfgs,
    _standard_errors,
    _validate_rfm,
)


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
            "end. Move the observation end later.",
            reason="no_repeat_customers",
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


#: What the limits of the dropout parameters mean, for the message of a
#: boundary fit (see :func:`python_udfs.clv._boundary._settle`).
_NO_DROPOUT = (
    "the no-dropout limit: the mean dropout probability a/(a+b) -> 0, "
    "nobody is seen to leave, so p_alive is close to 1"
)
_NO_DROPOUT_LIMITS = {("a", "0"): _NO_DROPOUT, ("b", "infinity"): _NO_DROPOUT}


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
    names = registry.TRANSACTION_MODELS[model].parameters
    end = _settle(
        model,
        objective,
        _run_lbfgs(objective, 4, max_iterations),
        max_iterations,
        names,
        limits=_NO_DROPOUT_LIMITS,
    )
    scaled = np.exp(end.theta)
    params = scaled.copy()
    params[1] /= data.scale  # alpha back to original time units
    penalty = penalizer * float(np.sum(scaled**2))
    log_lik = -(end.fun - penalty) * total + np.log(data.scale) * data.sum_wx
    ses = _standard_errors(objective, end.theta, params, total, names, end.boundary)
    return FitResult(
        model=model,
        params={k: float(v) for k, v in zip(names, params, strict=True)},
        log_likelihood=float(log_lik),
        mean_neg_log_likelihood=end.fun,
        n_customers=total,
        iterations=end.iterations,
        converged=end.converged,
        message=end.message,
        standard_errors=ses,
        at_boundary=tuple(names[k] for k in end.boundary),
    )


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


def _forecaster_of(
    p_alive: Callable[..., FloatArray], offset: float
) -> Callable[..., tuple[FloatArray, Callable[[ArrayLike], FloatArray]]]:
    r"""Return a model module's ``_forecaster``: P(alive) and a forecast in t.

    The returned ``forecaster(x, tx, age, r, alpha, a, b)`` gives
    P(alive) (by ``p_alive``) and :math:`t \mapsto E[Y(t)|x, t_x, T] =
    \frac{a+b+x+c_{\mathrm{off}}}{a-1}\,[\text{bracket}]\,P(\text{alive})`
    with the bracket of :func:`_beta_geo_bracket` and the t-free parts
    computed once; ``offset`` is -1 for BG/NBD and 0 for MBG/NBD. Used by
    the model's conditional forecast and, through the registry, by
    :func:`python_udfs.clv.forecast.forecast_horizons`.
    """

    def forecaster(
        x: FloatArray,
        tx: FloatArray,
        age: FloatArray,
        r: FloatArray,
        alpha: FloatArray,
        a: FloatArray,
        b: FloatArray,
    ) -> tuple[FloatArray, Callable[[ArrayLike], FloatArray]]:
        with np.errstate(divide="ignore", invalid="ignore"):
            alive = p_alive(x, tx, age, r, alpha, a, b)
            lead = (a + b + x + offset) / (a - 1.0) * alive

        def beta_geo(t: ArrayLike) -> FloatArray:
            with np.errstate(divide="ignore", invalid="ignore"):
                return lead * _beta_geo_bracket(t, x, age, r, alpha, a, b, offset)

        return alive, beta_geo

    return forecaster
