"""Tests of python_udfs.clv.tables: the parameter table the dbt models return."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from python_udfs import clv
from python_udfs.clv.tables import _is_lexsorted


def test_frequency_monetary_correlation(cdnow: pd.DataFrame) -> None:
    repeat = cdnow[cdnow["frequency"] > 0]
    expected = np.corrcoef(repeat["frequency"], repeat["monetary_value"])[0, 1]
    got = clv.frequency_monetary_correlation(
        cdnow["frequency"], cdnow["monetary_value"]
    )
    assert got == pytest.approx(expected, rel=1e-12)
    x = np.r_[cdnow["frequency"].to_numpy(), np.nan, 3.0]
    m = np.r_[cdnow["monetary_value"].to_numpy(), 5.0, np.nan]
    assert clv.frequency_monetary_correlation(x, m) == pytest.approx(got, rel=1e-12)
    assert np.isnan(clv.frequency_monetary_correlation([0, 1], [0, 5.0]))
    assert np.isnan(clv.frequency_monetary_correlation([1, 2, 3], [5.0, 5.0, 5.0]))
    assert clv.frequency_monetary_correlation([1, 2, 3], [1.0, 2.0, 3.0]) == (
        pytest.approx(1.0)
    )


def test_params_table_does_not_depend_on_row_order(cdnow: pd.DataFrame) -> None:
    """Rows the warehouse sorted are only checked, others sorted first: the
    fitted values are identical either way, to the last bit."""
    customers = cdnow.reset_index(drop=True)
    columns = ["frequency", "recency", "T", "monetary_value"]
    ordered = customers.sort_values(columns, ignore_index=True)
    shuffled = customers.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert _is_lexsorted([ordered[c].to_numpy(float) for c in columns])
    assert not _is_lexsorted([shuffled[c].to_numpy(float) for c in columns])
    pd.testing.assert_frame_equal(
        clv.fit_clv_params_table(ordered),
        clv.fit_clv_params_table(shuffled),
        check_exact=True,
    )


def test_params_from_config_casts_the_config_values(cdnow: pd.DataFrame) -> None:
    """The dbt models pass their configs as dbt gives them (strings from
    YAML); the table is the one of the cast values, to the last bit."""
    customers = cdnow.reset_index(drop=True)
    pd.testing.assert_frame_equal(
        clv.fit_clv_params_from_config(customers, "mbgnbd", "0.001"),
        clv.fit_clv_params_table(customers, model="mbgnbd", penalizer=0.001),
        check_exact=True,
    )
