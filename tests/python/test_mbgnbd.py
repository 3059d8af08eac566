"""Tests of python_udfs.clv.mbgnbd: the formula sheet's CDNOW numbers (the
fit against lifetimes is in test_beta_geo.py).
"""

from __future__ import annotations

import pandas as pd
import pytest
from clv_helpers import _printed

from python_udfs import clv


def test_mbgnbd_fit_reproduces_sheet_numbers(cdnow: pd.DataFrame) -> None:
    res = clv.fit_mbgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    sheet = {"r": "0.524843", "alpha": "6.183082", "a": "0.891360", "b": "1.614003"}
    for key, printed in sheet.items():
        assert res.params[key] == pytest.approx(float(printed), rel=4e-6), key
    assert _printed(res.mean_neg_log_likelihood, "0.2502254")
