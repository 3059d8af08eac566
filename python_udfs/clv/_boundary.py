r"""Optima on a boundary of the CLV models' parameter space.

The likelihoods are maximised over log-parameters, so a parameter that
tends to 0 or to infinity runs off towards :math:`\pm\infty`. BG/NBD on
data where nobody is seen to leave is the usual case: its supremum is the
limit :math:`a \to 0` (:math:`b \to \infty`), the no-dropout NBD, where the
likelihood no longer depends on :math:`a` and :math:`b`; L-BFGS-B then stops
with an abnormal line search. A parameter is *at a boundary* when its
log (in lifetimes' scaled time) is beyond :math:`\pm\ln 10^4` and moving it
:math:`e^3` times further out changes the mean objective by at most
:math:`10^{-8}` (:func:`_flat_limits`). Such a fit is a result, not an
error: when L-BFGS-B stopped on it without converging, the other (free)
parameters are refitted with those held (:func:`_settle`); either way the
:class:`~python_udfs.clv.fitting.FitResult` names the boundary parameters
(``at_boundary``). It raises only when the free parameters do not converge
either.

Used by the fit drivers of :mod:`python_udfs.clv._beta_geo` and
:mod:`python_udfs.clv.gamma_gamma` in place of
:func:`python_udfs.clv.fitting._raise_if_failed`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeResult

from .fitting import (
    _FIX_HINT,
    FloatArray,
    Objective,
    _raise_if_failed,
    _restricted,
    _run_lbfgs,
)

# Boundary optima (see the module docstring and _flat_limits): a log-parameter
# beyond +-_BOUNDARY_LOG whose objective moves by at most _FLAT_TOL (relative)
# when it goes _FLAT_STEP further out.
_BOUNDARY_LOG = float(np.log(1e4))
_FLAT_STEP = 3.0
_FLAT_TOL = 1e-8


def _flat_limits(objective: Objective, theta: FloatArray, value: float) -> list[int]:
    r"""Return the indices of the log-parameters on a flat boundary.

    Parameter :math:`k` is on a boundary when :math:`|\theta_k| \ge \ln
    10^4` (the parameter, in lifetimes' scaled time, is below
    :math:`10^{-4}` or above :math:`10^4`: it ran off towards 0 or
    infinity) and the objective barely moves when it goes on:
    :math:`|f(\theta + 3\,\mathrm{sign}(\theta_k) e_k) - f(\theta)| \le
    10^{-8} \max(1, |f|)` (the mean negative log-likelihood per customer:
    the limit is as good as the point, so the supremum is not attained).
    """
    flat = []
    for k in np.flatnonzero(np.abs(theta) >= _BOUNDARY_LOG):
        further = theta.copy()
        further[k] += np.sign(theta[k]) * _FLAT_STEP
        with np.errstate(all="ignore"):
            moved = float(objective(further)[0])
        if np.isfinite(moved) and abs(moved - value) <= _FLAT_TOL * max(
            1.0, abs(value)
        ):
            flat.append(int(k))
    return flat


def _refit_free(
    objective: Objective,
    res: OptimizeResult,
    boundary: list[int],
    max_iterations: int,
) -> tuple[FloatArray | None, float, int, str]:
    """Refit the parameters not in ``boundary`` from ``res``, those held.

    Returns the full log-parameters (None when the refit does not
    converge), the objective, the iterations of both runs and a message.
    """
    free = [k for k in range(res.x.size) if k not in boundary]
    if not free:
        return res.x, float(res.fun), int(res.nit), str(res.message)
    refit, converged = _run_lbfgs(
        _restricted(objective, res.x, boundary),
        len(free),
        max_iterations,
        theta0=res.x[free],
    )
    if not (converged and np.all(np.isfinite(refit.x)) and np.isfinite(refit.fun)):
        return None, float(res.fun), int(res.nit), str(res.message)
    theta = res.x.copy()
    theta[free] = refit.x
    message = (
        f"{res.message}; the free parameters refitted with the boundary ones "
        f"held: {refit.message}"
    )
    return theta, float(refit.fun), int(res.nit + refit.nit), message


@dataclass(frozen=True)
class _Settled:
    """Where a fit ends (:func:`_settle`): log-parameters and diagnostics."""

    theta: FloatArray
    fun: float
    iterations: int
    converged: bool
    message: str
    boundary: list[int]


def _settle(
    model: str,
    objective: Objective,
    fitted: tuple[OptimizeResult, bool],
    max_iterations: int,
    names: tuple[str, ...],
    hint: str = _FIX_HINT,
    limits: Mapping[tuple[str, str], str] | None = None,
) -> _Settled:
    r"""Accept a fit, or the boundary point it ran towards, or raise.

    ``fitted`` is what :func:`_run_lbfgs` returned. A converged fit is
    kept as it is (and its boundary parameters, :func:`_flat_limits`, are
    named). A fit that stopped on an abnormal line search (not on the
    iteration cap) with parameters on a flat boundary is a boundary
    optimum: the free parameters are refitted from there with the boundary
    ones held, and the point is kept with ``converged`` False. Anything else
    raises :class:`ClvFitError` (:func:`_raise_if_failed`). ``limits`` maps
    (parameter, ``"0"`` or ``"infinity"``) to what that limit means, for the
    message.
    """
    res, converged = fitted
    finite = bool(np.all(np.isfinite(res.x)) and np.isfinite(res.fun))
    finite = finite and bool(np.all(np.abs(res.x) <= 700))
    boundary = _flat_limits(objective, res.x, float(res.fun)) if finite else []
    theta, value, iterations, message = res.x, float(res.fun), int(res.nit), res.message
    if not converged and boundary and res.status == 2 and res.nit < max_iterations:
        theta, value, iterations, message = _refit_free(
            objective, res, boundary, max_iterations
        )
        if theta is None:
            _raise_if_failed(model, res, converged, hint)
    else:
        _raise_if_failed(model, res, converged, hint)
    if not boundary:
        return _Settled(theta, value, iterations, converged, str(message), [])
    sides = ["0" if theta[k] < 0 else "infinity" for k in boundary]
    meanings = [
        (limits or {}).get((names[k], side))
        for k, side in zip(boundary, sides, strict=True)
    ]
    unique = [m for i, m in enumerate(meanings) if m and m not in meanings[:i]]
    limit_text = ", ".join(
        f"{names[k]} -> {side}" for k, side in zip(boundary, sides, strict=True)
    )
    message = (
        "On a boundary of the parameter space, where the likelihood is flat: "
        + limit_text
        + (f" ({'; '.join(unique)})" if unique else "")
        + f". Optimizer: {message}"
    )
    return _Settled(theta, value, iterations, converged, message, boundary)
