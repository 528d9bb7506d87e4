"""Dataset configuration: valid files become typed objects; every mistake is one clear line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from generator import config as config_module
from generator.config import CONFIG_DIR, OPTIONS, DatasetConfig, load_all, load_dataset
from generator.errors import UserError
from tests.conftest import MakeProject

SHOWN = "site_config/datasets/x.yml"

BASE = {
    "title": "title: T",
    "data": "data: {id: [a, b, c], x: [1, 2, 3], y: [4, 5, 6]}",
    "features": "features: [x, y]",
}


def config_text(*lines: str, drop: tuple[str, ...] = ()) -> str:
    """The base file with `lines` added; a line whose key is in the base replaces that line."""
    keys = {line.split(":", 1)[0] for line in lines}
    base = [line for key, line in BASE.items() if key not in keys and key not in drop]
    return "\n".join([*base, *lines]) + "\n"


def load(make_project: MakeProject, text: str, files: dict[str, bytes | str] | None = None) -> DatasetConfig:
    root = make_project({"x": text}, files)
    return load_dataset(root, root / CONFIG_DIR / "x.yml")


def problems(
    make_project: MakeProject, text: str, files: dict[str, bytes | str] | None = None, name: str = "x"
) -> list[str]:
    """The problems `load_dataset` reports for one file, checked to be single lines naming it."""
    root = make_project({name: text}, files)
    with pytest.raises(UserError) as caught:
        load_dataset(root, root / CONFIG_DIR / f"{name}.yml")
    assert caught.value.problems, "a UserError must list at least one problem"
    assert_lines(caught.value.problems, f"site_config/datasets/{name}.yml: ")
    return caught.value.problems


def assert_lines(found: list[str], prefix: str = "site_config/datasets/") -> None:
    for problem in found:
        assert problem.startswith(prefix), problem
        assert "\n" not in problem, problem
        assert "\r" not in problem, problem


def only(found: list[str]) -> str:
    assert len(found) == 1, found
    return found[0]


# --- valid files ----------------------------------------------------------------------


def test_valid_file_gives_fields_and_defaults(make_project: MakeProject) -> None:
    config = load(make_project, config_text())
    assert config.id == "x"
    assert config.path == SHOWN
    assert config.title == "T"
    assert config.features == ("x", "y")
    assert config.data == {"id": ("a", "b", "c"), "x": (1, 2, 3), "y": (4, 5, 6)}
    assert config.source is None
    assert (config.n_clusters, config.scale, config.random_state, config.n_init) == ((2, 8), "standard", 42, 10)
    assert (config.missing, config.publish_rows, config.suppress_below, config.engine) == ("fail", False, 10, "local")
    assert (config.id_column, config.description, config.plot) == (None, None, None)
    assert config.labels == {}
    assert config.names == {}
    assert config.min_segment_share == 0.05
    assert config.label("x") == "x"


@pytest.mark.parametrize(
    ("below", "sizes", "withheld"),
    [
        (10, [3, 200, 50], {0, 2}),  # 3 alone: the overall average would give it away, so 50 too
        (10, [3, 8, 200, 50], {0, 1}),  # 3 + 8 = 11 together: no second segment needed
        (10, [12, 200, 50], set()),
        (10, [3, 9], {0, 1}),
        (0, [1, 200], set()),
    ],
)
def test_withheld_segments_are_those_below_the_threshold_and_enough_to_hide_them(
        make_project: MakeProject, below: int, sizes: list[int], withheld: set[int]) -> None:
    config = load(make_project, config_text(f"suppress_below: {below}"))
    assert config.withheld(sizes) == withheld


def test_every_key_given_is_kept(make_project: MakeProject) -> None:
    text = config_text(
        "description: |\n  Line one.\n  Line two.",
        "id_column: id",
        "labels: {x: Annual spend ($)}",
        "n_clusters: 3",
        "scale: robust",
        "random_state: 7",
        "n_init: 25",
        "plot: [y, x]",
        "names: {0: Low, 2: High}",
        "missing: drop",
        "publish_rows: true",
        "suppress_below: 0",
        "engine: local",
    )
    config = load(make_project, text)
    assert config.description == "Line one.\nLine two."
    assert config.id_column == "id"
    assert config.label("x") == "Annual spend ($)"
    assert config.label("y") == "y"
    assert (config.n_clusters, config.scale, config.random_state, config.n_init) == (3, "robust", 7, 25)
    assert config.plot == ("y", "x")
    assert config.names == {0: "Low", 2: "High"}
    assert (config.missing, config.publish_rows, config.suppress_below) == ("drop", True, 0)


def test_source_inside_the_project_is_accepted(make_project: MakeProject) -> None:
    text = config_text("source: content/data/x.csv", drop=("data",))
    config = load(make_project, text, {"content/data/x.csv": "x,y\n1,2\n"})
    assert config.source == "content/data/x.csv"
    assert config.data is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3),
        ("30", 30),
        ("[3, 5]", (3, 5)),
        ("[2, 30]", (2, 30)),
        ("[3, 3]", 3),
    ],
)
def test_n_clusters_fixed_or_range(make_project: MakeProject, value: str, expected: int | tuple[int, int]) -> None:
    assert load(make_project, config_text(f"n_clusters: {value}")).n_clusters == expected


@pytest.mark.parametrize("title", ["NO", "yes", "off", "On", "Off", "010"])
def test_yaml_1_1_words_stay_text(make_project: MakeProject, title: str) -> None:
    assert load(make_project, config_text(f"title: {title}")).title == title


def test_config_is_frozen(make_project: MakeProject) -> None:
    config = load(make_project, config_text())
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.title = "changed"  # type: ignore[misc]


def test_highest_segment_of_the_default_range_may_be_named(make_project: MakeProject) -> None:
    assert load(make_project, config_text("names: {7: Top}")).names == {7: "Top"}


# --- one bad value: the key and what is wrong ------------------------------------------


@pytest.mark.parametrize(
    ("line", "key", "fragment"),
    [
        ("n_clusters: 010", "n_clusters", "whole number, got text '010'"),
        ('n_clusters: "3"', "n_clusters", "whole number, got text '3'"),
        ("n_clusters: 0", "n_clusters", "between 2 and 30, got 0"),
        ("n_clusters: 1", "n_clusters", "between 2 and 30, got 1"),
        ("n_clusters: 31", "n_clusters", "between 2 and 30, got 31"),
        ("n_clusters: 2.5", "n_clusters", "whole number, got a number 2.5"),
        ("n_clusters: 3.0", "n_clusters", "whole number"),
        ("n_clusters: true", "n_clusters", "whole number, got true/false"),
        ("n_clusters: 1_0", "n_clusters", "whole number, got text '1_0'"),
        ("n_clusters: ~", "n_clusters", "whole number, got nothing"),
        ("n_clusters: [5, 3]", "n_clusters", "range [5, 3] is empty"),
        ("n_clusters: [2, 3, 4]", "n_clusters", "two numbers [min, max], got 3 items"),
        ("n_clusters: [1, 4]", "n_clusters", "between 2 and 30, got 1"),
        ("random_state: -1", "random_state", "between 0 and 4294967295"),
        ("random_state: 0x10", "random_state", "whole number, got text '0x10'"),
        ("n_init: 0", "n_init", "between 1 and 1000"),
        ("scale: std", "scale", "one of standard, minmax, robust, none, log, got 'std'"),
        ("scale: MinMax", "scale", "(did you mean 'minmax'?)"),
        ("missing: skip", "missing", "one of fail, drop, got 'skip'"),
        ("publish_rows: yes", "publish_rows", "true or false, got text 'yes'"),
        ("publish_rows: NO", "publish_rows", "true or false, got text 'NO'"),
        ("suppress_below: -1", "suppress_below", "between 0 and 1000000, got -1"),
        ("suppress_below: 2.5", "suppress_below", "whole number, got a number 2.5"),
        ("suppress_below: true", "suppress_below", "whole number"),
        ("engine: gpu", "engine", "one of local, spark, got 'gpu'"),
        ("title: 2024", "title", "must be text, got a number 2024 (put it in quotes)"),
        ('title: "   "', "title", "must not be empty"),
        ("title: " + "a" * 201, "title", "one line of at most 200 characters"),
        ("features: [x]", "features", "at least two"),
        ("features: x", "features", "list of column names, got text 'x'"),
        ("features: [x, y, x]", "features", "lists 'x' more than once"),
        ("plot: [x]", "plot", "exactly two features, got 1"),
        ("plot: [x, x]", "plot", "lists 'x' more than once"),
        ("labels: [x]", "labels", "must map column names to display labels"),
        ("names: {first: A}", "names", "whole number, got text 'first'"),
        ("names: [A, B]", "names", "must map segment numbers to names"),
        ("data: [1, 2]", "data", "must map each column name to a list of values"),
        ("data: {x: 1, y: [2]}", "data", "column 'x' must be a list of values"),
        ("data: {x: [1, [2]], y: [3, 4]}", "data", "column 'x' row 2: [2] is not a plain value"),
    ],
)
def test_bad_value_names_its_key(make_project: MakeProject, line: str, key: str, fragment: str) -> None:
    problem = only(problems(make_project, config_text(line)))
    assert problem.startswith(f"{SHOWN}: {key}: "), problem
    assert fragment in problem


def test_every_problem_in_a_file_is_reported_at_once(make_project: MakeProject) -> None:
    text = config_text(
        "n_clusters: 1", "scale: std", "random_state: -1", "n_init: 0", "missing: skip",
        "publish_rows: yes", "engine: gpu", "colour: red", drop=("title",),
    )
    found = problems(make_project, text)
    keys = [problem.removeprefix(f"{SHOWN}: ").split(":", 1)[0] for problem in found]
    assert sorted(keys) == sorted([
        "n_clusters", "scale", "random_state", "n_init", "missing", "publish_rows", "engine", "colour", "title",
    ])


@pytest.mark.parametrize(
    ("line", "key", "suggestion"),
    [
        ("n_cluster: 3", "n_cluster", "n_clusters"),
        ("feature: [x, y]", "feature", "features"),
        ("Title: T", "Title", "title"),
        ("sclae: none", "sclae", "scale"),
        ("random-state: 1", "random-state", "random_state"),
        ("id_col: id", "id_col", "id_column"),
    ],
)
def test_unknown_key_suggests_the_known_one(make_project: MakeProject, line: str, key: str, suggestion: str) -> None:
    problem = only(problems(make_project, config_text(line)))
    assert problem == f"{SHOWN}: {key}: unknown key (did you mean {suggestion!r}?)"


def test_unknown_key_without_a_near_match_says_only_unknown(make_project: MakeProject) -> None:
    assert only(problems(make_project, config_text("colour: red"))) == f"{SHOWN}: colour: unknown key"


@pytest.mark.parametrize("key", ["title", "features"])
def test_required_key_missing(make_project: MakeProject, key: str) -> None:
    assert only(problems(make_project, config_text(drop=(key,)))) == f"{SHOWN}: {key}: is required"


# --- the file as a whole: YAML traps ------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        (config_text("n_clusters: !!python/object/apply:os.system ['echo hi']"),
         ["line 4", "could not determine a constructor", "python/object/apply"]),
        (config_text() + "title: U\n", ["line 4", "duplicate key 'title'"]),
        ("title: T\ndata:\n  x: [1, 2]\n  x: [3, 4]\nfeatures: [x, y]\n", ["line 4", "duplicate key 'x'"]),
        ("cols: &a [x, y]\n" + config_text("plot: *a"), ["line 5", "aliases (*name) are not allowed"]),
        ("", ["is empty"]),
        ("# only a comment\n", ["is empty"]),
        ("- title: T\n- features: [x, y]\n", ["must be a mapping of keys to values, got a list"]),
        ("just words\n", ["must be a mapping of keys to values, got text"]),
        (config_text("labels:\n\tx: X"), ["line 5", "tab character"]),
        (config_text("features: [x, y"), ["line 4", "expected ',' or ']'"]),
        (b"title: caf\xe9\nfeatures: [x, y]\n", ["not valid UTF-8"]),
    ],
    ids=["python-tag", "duplicate-key", "duplicate-nested-key", "alias", "empty", "comment-only", "list", "scalar",
         "tab", "unclosed-bracket", "invalid-utf8"],
)
def test_file_level_problem_is_one_line(make_project: MakeProject, content: str | bytes, fragments: list[str]) -> None:
    root = make_project({}, {f"{CONFIG_DIR.as_posix()}/x.yml": content})
    with pytest.raises(UserError) as caught:
        load_dataset(root, root / CONFIG_DIR / "x.yml")
    problem = only(caught.value.problems)
    assert_lines([problem], f"{SHOWN}: file: ")
    for fragment in fragments:
        assert fragment in problem


def test_python_tag_is_never_run(make_project: MakeProject, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = config_text(f"n_clusters: !!python/object/apply:os.system ['touch {marker}']")
    problems(make_project, text)
    assert not marker.exists()


def test_utf8_byte_order_mark_is_accepted(make_project: MakeProject) -> None:
    root = make_project({}, {f"{CONFIG_DIR.as_posix()}/x.yml": b"\xef\xbb\xbf" + config_text().encode()})
    assert load_dataset(root, root / CONFIG_DIR / "x.yml").title == "T"


@pytest.mark.parametrize("name", ["Bad_Name", "UPPER", "-lead", "with space", "x.y"])
def test_file_name_must_be_a_slug(make_project: MakeProject, name: str) -> None:
    problem = only(problems(make_project, config_text(), name=name))
    assert problem.startswith(f"site_config/datasets/{name}.yml: id: file name {name!r} must be a slug")


def test_slug_problem_is_reported_with_a_broken_file(make_project: MakeProject) -> None:
    found = problems(make_project, config_text("labels:\n\tx: X"), name="Bad_Name")
    assert any(": id: file name 'Bad_Name' must be a slug" in problem for problem in found), found
    assert any(": file: line 5: a tab character" in problem for problem in found), found


# --- source and data ---------------------------------------------------------------------


def test_source_and_data_both_given(make_project: MakeProject) -> None:
    text = config_text("source: content/data/x.csv")
    found = problems(make_project, text, {"content/data/x.csv": "x,y\n1,2\n"})
    assert only(found) == f"{SHOWN}: data: give either source or data, not both"


def test_neither_source_nor_data(make_project: MakeProject) -> None:
    assert only(problems(make_project, config_text(drop=("data",)))) == f"{SHOWN}: source: is required (or inline data)"


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("../x.csv", "'../x.csv' must be a path inside the project"),
        ("content/../../x.csv", "must be a path inside the project"),
        ("/etc/x.csv", "'/etc/x.csv' must be a path inside the project"),
        ("content/data/absent.csv", "'content/data/absent.csv' does not exist"),
        ("content/data", "must end in one of .csv, .tsv, .txt, .dat, .parquet, .xlsx, .json"),
        ("content/data/x.doc", "'content/data/x.doc' must end in one of .csv, .tsv, .txt, .dat, .parquet, .xlsx"),
        ("content/data/x.xls", "must end in one of"),
    ],
)
def test_source_path_problems(make_project: MakeProject, source: str, fragment: str) -> None:
    text = config_text(f"source: {source}", drop=("data",))
    files: dict[str, bytes | str] = {"content/data/x.txt": "x,y\n1,2\n", "content/data/x.xls": "x,y\n1,2\n"}
    problem = only(problems(make_project, text, files))
    assert problem.startswith(f"{SHOWN}: source: "), problem
    assert fragment in problem


def test_source_that_is_a_folder_does_not_exist(make_project: MakeProject) -> None:
    text = config_text("source: content/data/folder.csv", drop=("data",))
    problem = only(problems(make_project, text, {"content/data/folder.csv/inner.csv": "x,y\n1,2\n"}))
    assert problem == f"{SHOWN}: source: 'content/data/folder.csv' does not exist"


def test_source_link_leading_outside_the_project(make_project: MakeProject, tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text("x,y\n1,2\n", encoding="utf-8")
    root = make_project({"x": config_text("source: content/data/link.csv", drop=("data",))})
    (root / "content" / "data").mkdir(parents=True)
    (root / "content" / "data" / "link.csv").symlink_to(outside)
    with pytest.raises(UserError) as caught:
        load_dataset(root, root / CONFIG_DIR / "x.yml")
    expected = f"{SHOWN}: source: 'content/data/link.csv' leads outside the project (a link?)"
    assert only(caught.value.problems) == expected


# --- checks across keys ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (("id_column: x",), "id_column: 'x' is also a feature; an id is never clustered"),
        (("plot: [x, z]",), "plot: 'z' is not one of the features"),
        (("plot: [x, yy]",), "plot: 'yy' is not one of the features (did you mean 'y'?)"),
        (("n_clusters: 2", "names: {2: Extra}"), "names: segment 2 does not exist: segments are numbered 0 to 1"),
        (("n_clusters: [2, 5]", "names: {5: Extra}"), "names: segment 5 does not exist: segments are numbered 0 to 4"),
        (("names: {8: Extra}",), "names: segment 8 does not exist: segments are numbered 0 to 7"),
        (("data: {x: [1, 2], y: [3]}",), "data: columns must have the same number of values ('x': 2, 'y': 1)"),
        (("data: {x: [1, 2], yy: [3, 4]}",), "data: has no column 'y' (did you mean 'yy'?)"),
        (("id_column: code",), "data: has no column 'code'"),
        (("engine: spark",),
         "data: engine: spark reads a source file or URI; inline data is clustered by the local engine"),
    ],
)
def test_checks_across_keys(make_project: MakeProject, lines: tuple[str, ...], expected: str) -> None:
    assert only(problems(make_project, config_text(*lines))) == f"{SHOWN}: {expected}"


def test_cross_checks_skip_keys_that_failed_their_own_check(make_project: MakeProject) -> None:
    found = problems(make_project, config_text("features: x", "id_column: x", "plot: [x, z]", "n_clusters: 1"))
    keys = sorted(problem.removeprefix(f"{SHOWN}: ").split(":", 1)[0] for problem in found)
    assert keys == ["features", "n_clusters"]


# --- the whole folder --------------------------------------------------------------------


def test_load_all_returns_every_dataset_by_id(make_project: MakeProject) -> None:
    root = make_project({"beta": config_text("title: B"), "alpha": config_text("title: A")})
    assert [(config.id, config.title) for config in load_all(root)] == [("alpha", "A"), ("beta", "B")]


def test_load_all_collects_problems_from_every_file(make_project: MakeProject) -> None:
    root = make_project({"one": config_text("scale: std"), "two": config_text("n_init: 0"), "ok": config_text()})
    with pytest.raises(UserError) as caught:
        load_all(root)
    found = caught.value.problems
    assert_lines(found)
    assert len(found) == 2, found
    assert found[0].startswith("site_config/datasets/one.yml: scale: ")
    assert found[1].startswith("site_config/datasets/two.yml: n_init: ")


def test_yml_and_yaml_with_the_same_id(make_project: MakeProject) -> None:
    root = make_project({"x": config_text()}, {f"{CONFIG_DIR.as_posix()}/x.yaml": config_text()})
    with pytest.raises(UserError) as caught:
        load_all(root)
    problem = only(caught.value.problems)
    assert_lines([problem])
    assert ": id: 'x' is also configured by " in problem
    assert "x.yml" in problem
    assert "x.yaml" in problem


def test_every_config_field_is_a_documented_option() -> None:
    """The schema is the reference: a field without an Option would be undocumented."""
    fields = {field.name for field in dataclasses.fields(DatasetConfig)} - {"id", "path"}
    assert fields == {option.key for option in OPTIONS}
    assert all(option.doc.strip() for option in OPTIONS)


# --- read: how to read the file ------------------------------------------------------------

FILES: dict[str, bytes | str] = {"content/data/t.csv": "x,y\n1,2\n", "content/data/t.xlsx": b"",
                                 "content/data/t.parquet": b""}


def read_config(*lines: str) -> str:
    """A dataset reading content/data/t.csv, unless a line gives another source."""
    source = () if any(line.startswith("source:") for line in lines) else ("source: content/data/t.csv",)
    return config_text(*source, *lines, drop=("data",))


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (("read: {delimiter: ';', decimal: ',', thousands: '.', encoding: CP1252}",),
         config_module.Read(delimiter=";", decimal=",", thousands=".", encoding="cp1252")),
        (('read: {delimiter: "\\t", thousands: none, encoding: utf_8}',),
         config_module.Read(delimiter="\t", thousands="none", encoding="utf-8")),
        (("read: {sheet: Kunden}", "source: content/data/t.xlsx"), config_module.Read(sheet="Kunden")),
        ((), config_module.Read()),
    ],
    ids=["european", "tab", "sheet", "none"],
)
def test_read_options_are_kept(make_project: MakeProject, lines: tuple[str, ...],
                               expected: config_module.Read) -> None:
    assert load(make_project, read_config(*lines), FILES).read == expected


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (("read: ';'",), "read: must map delimiter, decimal, thousands, encoding, sheet to values, got text ';'"),
        (("read: {delimeter: ';'}",), "read: 'delimeter': unknown key (did you mean 'delimiter'?)"),
        (("read: {delimiter: ';;'}",),
         "read: delimiter: must be one character such as ',', ';', '|' or \"\\t\" (a tab), got ';;'"),
        (("read: {delimiter: a}",),
         "read: delimiter: must be one character such as ',', ';', '|' or \"\\t\" (a tab), got 'a'"),
        (("read: {delimiter: 1}",), "read: delimiter: must be text, got a number 1 (put it in quotes)"),
        (("read: {decimal: ';'}",), "read: decimal: must be '.' or ',', got ';'"),
        (("read: {thousands: '_'}",),
         "read: thousands: must be one of 'none', ',', '.', ' ', \"'\", '\\xa0', '\\u202f', got '_'"),
        (("read: {decimal: ',', thousands: ','}",),
         "read: decimal and thousands are both ','; a number needs two different marks"),
        (("read: {encoding: klingon}",),
         "read: encoding: 'klingon' is not an encoding Python knows (e.g. utf-8, cp1252, utf-16, latin-1)"),
        (("read: {sheet: Kunden}",), "read: sheet: is for workbooks (.xlsx); 'content/data/t.csv' is not one"),
        (("read: {sheet: ''}", "source: content/data/t.xlsx"), "read: sheet: must not be empty"),
        (("read: {encoding: ''}",),
         "read: encoding: '' is not an encoding Python knows (e.g. utf-8, cp1252, utf-16, latin-1)"),
        (("read: {delimiter: ';'}", "source: content/data/t.xlsx"),
         "read: delimiter: is for delimited text (.csv, .tsv, .txt, .dat); 'content/data/t.xlsx' is not"),
        (("read: {decimal: ','}", "source: content/data/t.parquet"),
         "read: decimal: is for numbers written as text; 'content/data/t.parquet' holds numbers as numbers"),
        (("read: {decimal: ','}", "engine: spark"),
         "read: engine: spark reads files with Spark's own options; use engine: local"),
    ],
)
def test_read_problems(make_project: MakeProject, lines: tuple[str, ...], expected: str) -> None:
    assert only(problems(make_project, read_config(*lines), FILES)) == f"{SHOWN}: {expected}"


def test_read_with_inline_data(make_project: MakeProject) -> None:
    assert only(problems(make_project, config_text("read: {decimal: ','}"))) == \
        f"{SHOWN}: read: inline data is not read from a file; read: is for source"
