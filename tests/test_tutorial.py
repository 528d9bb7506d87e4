"""The tutorial: its code is what the page shows, and running it as a reader would gives the page's results.

Six customers, small enough to check by hand: with k = 2 customers 1, 3, 4 (ages 19, 26, 27;
spending 15,000, 18,000, 22,000) form one cluster and 2, 5, 6 (35, 50, 45; 35,000, 55,000,
48,000) the other, so the centres are (24, 18,333.3) and (43.3, 46,000).
"""

from __future__ import annotations

import contextlib
import io
import re
import textwrap
from typing import Any

import numpy as np
import pandas as pd
import pytest

from generator.build import generate
from generator.cache import FOLDER, FolderCache
from generator.results import Step, Tutorial
from generator.tutorial import TRIED_K, run_tutorial
from tests.conftest import ROOT, MakeProject

TEMPLATES = {f"templates/{path.name}": path.read_text(encoding="utf-8")
             for path in sorted((ROOT / "templates").glob("*.md.j2"))}
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def tutorial() -> Tutorial:
    return run_tutorial()


@pytest.fixture
def site(make_project: MakeProject) -> dict[str, bytes]:
    root = make_project({}, TEMPLATES, cached=True)
    return {f.path: f.content for f in generate(root, FolderCache(root / FOLDER))}


@pytest.fixture
def page(site: dict[str, bytes]) -> str:
    return site["tutorial/index.md"].decode()


def top_level_steps(tutorial: Tutorial) -> list[Step]:
    return [tutorial.load, tutorial.fit, tutorial.plot, tutorial.centres, tutorial.scaled]


def reader_steps(tutorial: Tutorial) -> list[Step]:
    """Every snippet in the order the page shows them."""
    steps = top_level_steps(tutorial)
    for trial in tutorial.trials:
        steps += [trial.fit, trial.centres]
    return steps


def test_page_shows_each_step_verbatim(tutorial: Tutorial, page: str) -> None:
    for step in top_level_steps(tutorial):
        assert f"```python\n{step.code}```" in page, step.code


def test_page_shows_each_tab_step_verbatim(tutorial: Tutorial, page: str) -> None:
    """In a tab the code is indented by four spaces, which Markdown takes off again."""
    for trial in tutorial.trials:
        for step in (trial.fit, trial.centres):
            assert textwrap.indent(f"```python\n{step.code}```", "    ") in page, step.code


def test_page_shows_what_the_steps_printed(tutorial: Tutorial, page: str) -> None:
    for trial in tutorial.trials:
        assert trial.fit.printed.startswith("inertia: ")
        assert textwrap.indent(trial.fit.printed, "    ") in page


def test_a_reader_running_the_code_gets_the_same_centres(tutorial: Tutorial) -> None:
    """Run the shown snippets with plain `exec` in one fresh namespace, in order, as a reader would."""
    namespace: dict[str, Any] = {}
    centres: list[pd.DataFrame] = []
    printed: list[str] = []
    for step in reader_steps(tutorial):
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            exec(step.code, namespace)  # noqa: S102 - the tutorial's own snippets
        printed.append(output.getvalue())
        if step.code.startswith("centres = "):
            centres.append(namespace["centres"].round(1))
    shown = [tutorial.centres.shown] + [trial.centres.shown for trial in tutorial.trials]
    assert len(centres) == len(shown) == 1 + len(TRIED_K)
    for mine, theirs in zip(centres, shown, strict=True):
        pd.testing.assert_frame_equal(mine, theirs)
    assert printed == [step.printed for step in reader_steps(tutorial)]


def test_two_cluster_centres_are_the_group_means(tutorial: Tutorial) -> None:
    df = tutorial.fit.shown
    centres = tutorial.centres.shown
    means = df.groupby("Cluster")[["Age", "AnnualSpend"]].mean().round(1)
    np.testing.assert_allclose(centres[["Age", "AnnualSpend"]].to_numpy(), means.to_numpy())
    assert centres["Customers"].tolist() == df["Cluster"].value_counts().sort_index().tolist()


def test_two_cluster_centres_by_hand(tutorial: Tutorial) -> None:
    """Cluster numbers are arbitrary: compare the centres ordered by age."""
    by_age = tutorial.centres.shown.sort_values("Age")
    np.testing.assert_allclose(by_age[["Age", "AnnualSpend"]].to_numpy(), [[24.0, 18333.3], [43.3, 46000.0]])
    members = sorted(sorted(ids) for ids in tutorial.facts.members.values())
    assert members == [[1, 3, 4], [2, 5, 6]]


def test_tabs_for_each_k_with_an_image(page: str, site: dict[str, bytes]) -> None:
    tabs = re.split(r'^=== "k = (\d+)"\n', page, flags=re.MULTILINE)
    assert [int(k) for k in tabs[1::2]] == list(TRIED_K) == [2, 3, 4]
    for k, body in zip(tabs[1::2], tabs[2::2], strict=True):
        assert re.search(rf'^    <img src="clusters-k{k}\.png" alt="[^"]+"', body, flags=re.MULTILINE), body
        assert site[f"tutorial/clusters-k{k}.png"].startswith(PNG)
    assert '<img src="clusters.png"' in page


def test_images_are_png_and_the_same_on_a_second_run(tutorial: Tutorial) -> None:
    again = run_tutorial()
    assert tutorial.image.startswith(PNG)
    assert again.image == tutorial.image
    for first, second in zip(tutorial.trials, again.trials, strict=True):
        assert first.image.startswith(PNG)
        assert first.image == second.image


def test_page_quotes_the_ranges(page: str) -> None:
    """Age spans 50 - 19 = 31 years, AnnualSpend 55,000 - 15,000 = 40,000 dollars."""
    assert re.search(r"Age\s+spans\s+31(\.0)?\s+years", page)
    assert re.search(r"AnnualSpend\s+spans\s+40,000\s+dollars", page)


def test_page_checks_centres_against_means(tutorial: Tutorial, page: str) -> None:
    assert tutorial.facts.centres_equal_means is True
    assert "each centre equals the average Age and AnnualSpend" in page
