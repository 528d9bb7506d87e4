"""Command line: `python -m generator validate | render DIR`, run in-process on a tiny project.

Problems a user can fix print one line each on stderr, start with `error: ` and exit 1,
without a traceback.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from generator.__main__ import main
from tests.conftest import ROOT, TINY, MakeProject

TEMPLATES = {f"templates/{path.name}": path.read_text(encoding="utf-8")
             for path in sorted((ROOT / "templates").glob("*.md.j2"))}
GENERATED = (
    "reports/index.md",
    "reports/tiny/index.md",
    "reports/tiny/segments.json",
    "reports/tiny/assignments.csv",
    "reports/tiny/segments.png",
    "tutorial/index.md",
    "tutorial/clusters.png",
    "reference/configuration.md",
)
BAD = """\
titel: Tiny
data:
  x: [1, 2, 3]
  y: [4, 5, 6]
features: [x]
n_clusters: 1
"""


def project(make_project: MakeProject, datasets: dict[str, str] | None = None) -> Path:
    return make_project(datasets, TEMPLATES)


def files_under(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def test_validate_prints_a_count(make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--root", str(project(make_project)), "validate"]) == 0
    out, err = capsys.readouterr()
    assert out == "ok: 1 dataset(s), 6 rows usable\n"
    assert err == ""


def test_validate_counts_every_dataset(make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(make_project, {"one": TINY, "two": TINY})
    assert main(["--root", str(root), "validate"]) == 0
    assert capsys.readouterr().out == "ok: 2 dataset(s), 12 rows usable\n"


def test_validate_counts_spark_datasets_and_names_them(make_project: MakeProject,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """A Spark dataset is configured like any other: counted, its configuration checked, its table left to Spark."""
    spark = ("title: Big\nsource: s3a://bucket/big.parquet\nfeatures: [x, y]\nengine: spark\n")
    root = project(make_project, {"one": TINY, "big": spark})
    assert main(["--root", str(root), "validate"]) == 0
    assert capsys.readouterr().out == "ok: 2 dataset(s), 6 rows usable; Spark will read 1 at build time: big\n"


def test_bad_config_prints_one_line_per_problem(make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(make_project, {"tiny": BAD})
    assert main(["--root", str(root), "validate"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert "Traceback" not in err
    assert all(line.startswith("error: site_config/datasets/tiny.yml: ") for line in lines), err
    keys = [line.removeprefix("error: site_config/datasets/tiny.yml: ").split(":")[0] for line in lines]
    assert sorted(keys) == ["features", "n_clusters", "titel", "title"], err
    assert "did you mean 'title'" in err


def test_bad_data_is_one_line(make_project: MakeProject, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(make_project, {"tiny": TINY.replace("[1, 2, 3, 10, 11, 12]", "[1, 2, x, 10, 11, 12]")})
    assert main(["--root", str(root), "validate"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: site_config/datasets/tiny.yml")
    assert "'x'" in line


def test_render_writes_the_generated_files(
    make_project: MakeProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["--root", str(project(make_project)), "render", str(out)]) == 0
    written = files_under(out)
    assert set(GENERATED) <= set(written)
    assert {f"tutorial/clusters-k{k}.png" for k in (2, 3, 4)} <= set(written)
    assert written["reports/tiny/segments.png"].startswith(b"\x89PNG\r\n\x1a\n")
    assert b"\n# Tiny\n" in written["reports/tiny/index.md"]
    assert capsys.readouterr().out == f"wrote {len(written)} files to {out}\n"


def test_render_twice_gives_the_same_bytes(make_project: MakeProject, tmp_path: Path) -> None:
    root = project(make_project)
    for name in ("first", "second"):
        assert main(["--root", str(root), "render", str(tmp_path / name)]) == 0
    first, second = files_under(tmp_path / "first"), files_under(tmp_path / "second")
    assert first.keys() == second.keys()
    assert [path for path in first if first[path] != second[path]] == []


@pytest.mark.parametrize("inside", ["content", "content/generated", "site_config", "site_config/datasets/out"])
def test_render_refuses_a_folder_of_the_sources(
    make_project: MakeProject, capsys: pytest.CaptureFixture[str], inside: str
) -> None:
    root = project(make_project)
    before = files_under(root)
    assert main(["--root", str(root), "render", str(root / inside)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith("error: ")
    assert "content/" in line
    assert "Traceback" not in err
    assert files_under(root) == before


def test_render_with_a_bad_config_writes_nothing(
    make_project: MakeProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(make_project, {"tiny": BAD})
    assert main(["--root", str(root), "render", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err.startswith("error: ")
    assert not (tmp_path / "out").exists()


def test_validate_the_shipped_project() -> None:
    """The real project, as `make validate` runs it: a separate process in the project root."""
    done = subprocess.run([sys.executable, "-m", "generator", "validate"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: "), done.stdout
    assert "Traceback" not in done.stderr
