"""scheduler: the biggest dataset starts first and gets the cores; results come back in config order."""

from __future__ import annotations

from concurrent.futures import Executor
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from generator import scheduler
from generator.config import DatasetConfig
from generator.data import Table
from generator.purchases import Customers
from generator.results import Report, Tutorial


@pytest.mark.parametrize(("sizes", "big", "small"), [
    ([500, 1_000_000, 440, 6], [1], [0, 2, 3]),
    ([500, 500, 500], [], [0, 1, 2]),  # ties keep the configuration's order
    ([20_000, 19_999, 2_000_000], [2, 0], [1]),
    ([], [], []),
])
def test_order_puts_big_datasets_first_biggest_first(sizes: list[int], big: list[int], small: list[int]) -> None:
    assert scheduler.order(sizes) == (big, small)


def table(rows: int) -> Table:
    frame = pd.DataFrame({"a": np.arange(rows, dtype=float), "b": np.ones(rows)})
    return Table(features=frame, ids=None, rows_read=rows, dropped={}, sha256="0" * 64, origin="t")


def test_run_computes_the_biggest_first_and_returns_config_order(tmp_path: Path) -> None:
    rows = {"small": 30, "huge": 50_000, "middle": 300}
    configs = [DatasetConfig(id=name, path=f"{name}.yml", title=name, features=("a", "b"), data={"a": (1.0,)})
               for name in rows]
    started: list[tuple[str, bool]] = []

    def load(root: Path, config: DatasetConfig) -> Table | Customers:
        return table(rows[config.id])

    def analyse(root: Path, config: DatasetConfig, loaded: Table | Customers | None,
                pool: Executor | None) -> Report:
        started.append((config.id, pool is not None))
        return SimpleNamespace(config=config)  # type: ignore[return-value]  # the scheduler reads only its config

    def lesson() -> Tutorial:
        return "tutorial"  # type: ignore[return-value]

    reports, tutorial = scheduler.run(tmp_path, configs, None, lambda line: None, load, analyse, lesson, cores=1)
    assert [name for name, _ in started] == ["huge", "middle", "small"]
    assert [report.config.id for report in reports] == ["small", "huge", "middle"]
    assert tutorial == "tutorial"  # type: ignore[comparison-overlap]


def tutorial_text() -> Tutorial:
    return "tutorial"  # type: ignore[return-value]  # runs in a worker, so defined at module level


def test_kept_workers_serve_every_later_build_of_the_process(tmp_path: Path) -> None:
    """Under `mkdocs serve` the pool starts once: every rebuild, even of one small dataset, uses its workers."""
    configs = [DatasetConfig(id="one", path="one.yml", title="one", features=("a", "b"), data={"a": (1.0,)})]
    pools: list[Executor | None] = []

    def analyse(root: Path, config: DatasetConfig, loaded: Table | Customers | None,
                pool: Executor | None) -> Report:
        pools.append(pool)
        return SimpleNamespace(config=config)  # type: ignore[return-value]

    def build(cores: int, workers: Executor | None = None) -> None:
        scheduler.run(tmp_path, configs, None, lambda line: None, lambda root, config: table(30), analyse,
                      tutorial_text, cores=cores, workers=workers)

    build(1)
    assert pools == [None]  # one core, nothing kept: no pool
    assert scheduler.start_workers(1) is None  # one core: no workers to keep
    kept = scheduler.start_workers(2)
    assert kept is not None
    try:
        build(2, kept)  # one dataset for two cores: its parts spread over the pool, which is the kept one
        build(2, kept)
        assert pools[1] is kept
        assert pools[2] is kept
        assert kept.submit(int, "7").result(timeout=60) == 7  # still running after both builds
    finally:
        kept.shutdown()
    build(1)
    assert pools[3] is None
