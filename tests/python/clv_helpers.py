"""Helpers shared by the CLV test modules (test_bgnbd.py, test_forecast.py, ...)."""

from __future__ import annotations

import numpy as np


def _params(fitter: object, keys: tuple[str, ...]) -> dict[str, float]:
    return {k: float(fitter.params_[k]) for k in keys}


def _max_rel(ours: dict[str, float], theirs: dict[str, float]) -> float:
    return max(abs(ours[k] / theirs[k] - 1.0) for k in theirs)


def _printed(value: float, printed: str) -> bool:
    """Whether ``value`` rounds to the sheet's printed number."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return abs(value - float(printed)) <= 0.5 * 10.0**-decimals + 1e-12


def _assert_rel(ours: np.ndarray, theirs: np.ndarray, rtol: float) -> None:
    ours, theirs = np.asarray(ours, float), np.asarray(theirs, float)
    assert ours.shape == theirs.shape
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=0)


def _with(values: np.ndarray, index: int, value: float) -> np.ndarray:
    out = values.copy()
    out[index] = value
    return out
