"""scale: log: log1p of every feature, then standard scaling (population standard deviation),
the same on the exact path and on the big-table path; a negative value is one clear line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from generator.config import DatasetConfig
from generator.data import Table
from generator.errors import UserError
from generator.model import segment
from generator.scaling import scaling

VALUES = np.array([[0.0, 10.0], [1.0, 100.0], [3.0, 1000.0], [99.0, 13990.0]])


def by_hand(values: np.ndarray) -> np.ndarray:
    logged = np.log(1 + values)
    result: np.ndarray = (logged - logged.mean(axis=0)) / logged.std(axis=0, ddof=0)
    return result


def test_log_is_log1p_then_z_scores() -> None:
    affine = scaling(VALUES, "log")
    assert affine.log
    assert affine.apply(VALUES) == pytest.approx(by_hand(VALUES), rel=1e-9)


def config() -> DatasetConfig:
    return DatasetConfig(id="t", path="site_config/datasets/t.yml", title="T", features=("spend", "visits"),
                         scale="log", n_clusters=2)


def table(frame: pd.DataFrame, dropped: dict[str, int] | None = None) -> Table:
    return Table(features=frame, ids=None, rows_read=len(frame), dropped=dropped or {}, sha256="", origin="t.csv")


def test_a_negative_value_names_the_file_column_and_row() -> None:
    frame = pd.DataFrame({"spend": [1.0, 2.0, 5.0, 9.0, 40.0], "visits": [1.0, 1.0, -2.5, 3.0, 4.0]})
    with pytest.raises(UserError) as caught:
        segment(table(frame), config())
    (problem,) = caught.value.problems
    assert problem == ("t.csv: column 'visits', row 3: -2.5 is negative; scale: log "
                       "(site_config/datasets/t.yml) needs values of 0 or more")


def test_log_segments_skewed_spend_by_its_bulk() -> None:
    rng = np.random.default_rng(2)
    spend = np.concatenate([rng.lognormal(2, 0.3, 150), rng.lognormal(4, 0.3, 150)])
    frame = pd.DataFrame({"spend": spend, "visits": rng.normal(5, 0.5, 300).clip(0)})
    result, labels = segment(table(frame), config())
    truth = np.repeat([0, 1], 150)
    agree = max((labels == truth).mean(), (labels != truth).mean())
    assert agree > 0.95
    assert result.cautions.skewed == ()  # the warning is for standard scaling only
