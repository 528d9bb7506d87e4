"""The analysis cache: reused when nothing it depends on changed, recomputed otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator import build as build_module
from generator.build import generate
from generator.cache import FOLDER, FolderCache
from generator.data import Accounting
from tests.conftest import TINY, MakeProject


def build(root: Path) -> tuple[dict[str, bytes], list[str]]:
    lines: list[str] = []
    files = generate(root, FolderCache(root / FOLDER), lines.append)
    return {f.path: f.content for f in files}, lines


def test_an_unchanged_dataset_comes_from_the_cache_with_the_same_bytes(make_project: MakeProject) -> None:
    root = make_project()
    first, lines = build(root)
    assert len(lines) == 1
    assert lines[0].startswith("tiny: computed in ")
    again, lines = build(root)
    assert lines == ["tiny: cached"]
    assert again == first
    assert len(list((root / FOLDER).glob("tiny.*.pickle"))) == 1


def test_changed_data_or_settings_are_computed_again(make_project: MakeProject) -> None:
    root = make_project()
    build(root)
    config = root / "site_config" / "datasets" / "tiny.yml"
    config.write_text(TINY.replace("y: [1, 1, 2, 10, 11, 10]", "y: [1, 1, 2, 10, 11, 11]"))
    assert build(root)[1][0].startswith("tiny: computed")
    config.write_text(config.read_text() + "random_state: 7\n")
    assert build(root)[1][0].startswith("tiny: computed")
    assert len(list((root / FOLDER).glob("tiny.*.pickle"))) == 1, "older entries of a dataset are removed"


def test_editing_a_template_refits_nothing(make_project: MakeProject) -> None:
    root = make_project()
    first, _ = build(root)
    template = root / "templates" / "report.md.j2"
    template.write_text(template.read_text().replace("## The segments", "## The segments we found"))
    again, lines = build(root)
    assert lines == ["tiny: cached"]
    assert b"## The segments we found" in again["reports/tiny/index.md"]
    assert again["reports/tiny/segments.png"] == first["reports/tiny/segments.png"]


def test_a_damaged_entry_is_ignored_and_replaced(make_project: MakeProject) -> None:
    root = make_project()
    first, _ = build(root)
    (entry,) = (root / FOLDER).glob("tiny.*.pickle")
    entry.write_bytes(b"not a pickle")
    again, lines = build(root)
    assert lines[0].startswith("tiny: computed")
    assert again == first
    assert entry.read_bytes() != b"not a pickle"
    assert build(root)[1] == ["tiny: cached"]


def test_a_cached_table_is_not_read_again(make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    csv = "x,y\n" + "".join(f"{i % 7},{(i * 3) % 11}\n" for i in range(60))
    root = make_project({"file": "title: File\nsource: t.csv\nfeatures: [x, y]\nn_clusters: 2\n"}, {"t.csv": csv})
    first, _ = build(root)

    def refuse(*args: object) -> None:
        raise AssertionError("a cached dataset was loaded again")

    monkeypatch.setattr(build_module, "load_table", refuse)
    again, lines = build(root)
    assert lines == ["file: cached"]
    assert again == first
    (root / "t.csv").write_text(csv + "6,10\n")  # one more row: the bytes changed
    monkeypatch.undo()
    assert build(root)[1][0].startswith("file: computed")


def test_a_cache_entry_holds_summaries_not_rows(make_project: MakeProject) -> None:
    root = make_project()
    first, _ = build(root)
    (entry,) = (root / FOLDER).glob("tiny.*.pickle")
    report = FolderCache(root / FOLDER).load(entry.name.removesuffix(".pickle"))
    assert report is not None
    assert report.table == Accounting(rows_read=6, rows_used=6, dropped={}, sha256=report.table.sha256,
                                      origin=report.table.origin)  # the row count only, no rows
    assert report.rows == first["reports/tiny/assignments.csv"]
