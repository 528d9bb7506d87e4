"""Tables: every format gives the same numbers; every damaged file ends in one clear line."""

from __future__ import annotations

import codecs
import datetime
import hashlib
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

from generator import data
from generator.config import CONFIG_DIR, DatasetConfig, load_dataset
from generator.data import Table, load_table, read_file
from generator.errors import UserError
from generator.model import segment
from generator.purchases import load_customers
from tests.conftest import MakeProject

# Damaged real copies of the wholesale table, kept byte for byte (tests/data/README.md says what each is).
MESSY = Path(__file__).resolve().parent / "data" / "messy"
WHOLESALE = "[Fresh, Milk, Grocery, Frozen, Detergents_Paper, Delicassen]"
BLANK = "blank or missing feature values"
NOT_NUMBER = "feature values that are not numbers"

Files = dict[str, bytes | str]


def config_text(source: str, *lines: str) -> str:
    """A dataset file reading `source`; a line whose key is already there replaces it."""
    base = {"title": "title: T", "source": f"source: {source}", "features": "features: [x, y]"}
    keys = {line.split(":", 1)[0] for line in lines}
    return "\n".join([*(line for key, line in base.items() if key not in keys), *lines]) + "\n"


def load(make_project: MakeProject, files: Files, *lines: str, source: str = "content/data/t.csv") -> Table:
    root = make_project({"t": config_text(source, *lines)}, files)
    return load_table(root, load_dataset(root, root / CONFIG_DIR / "t.yml"))


def failure(make_project: MakeProject, files: Files, *lines: str, source: str = "content/data/t.csv") -> str:
    """The one problem loading the table reports, checked to be one line naming the file."""
    root = make_project({"t": config_text(source, *lines)}, files)
    config = load_dataset(root, root / CONFIG_DIR / "t.yml")
    with pytest.raises(UserError) as caught:
        load_table(root, config)
    assert len(caught.value.problems) == 1, caught.value.problems
    problem = caught.value.problems[0]
    assert problem.startswith(f"{source}: "), problem
    assert "\n" not in problem, problem
    assert "\r" not in problem, problem
    return problem


def csv(name: str = "t.csv", text: str | bytes = "") -> Files:
    return {f"content/data/{name}": text}


def numbers(table: Table, column: str) -> list[float]:
    return [float(value) for value in table.features[column]]


# --- inline data ---------------------------------------------------------------------------


def test_inline_data_gives_a_table(make_project: MakeProject) -> None:
    root = make_project()  # the TINY dataset
    table = load_table(root, load_dataset(root, root / CONFIG_DIR / "tiny.yml"))
    assert list(table.features.columns) == ["x", "y"]
    assert all(dtype == "float64" for dtype in table.features.dtypes)
    assert numbers(table, "x") == [1.0, 2.0, 3.0, 10.0, 11.0, 12.0]
    assert numbers(table, "y") == [1.0, 1.0, 2.0, 10.0, 11.0, 10.0]
    assert table.ids == ("a", "b", "c", "d", "e", "f")
    assert (table.rows_read, table.rows_used, table.dropped) == (6, 6, {})
    assert table.origin == "site_config/datasets/tiny.yml: data"
    assert table.notes == ()


def inline_table(make_project: MakeProject, data: str, *lines: str) -> Table:
    text = f"title: T\ndata: {data}\nfeatures: [x, y]\n" + "".join(f"{line}\n" for line in lines)
    root = make_project({"t": text})
    return load_table(root, load_dataset(root, root / CONFIG_DIR / "t.yml"))


def test_inline_sha256_is_stable_and_follows_the_values(make_project: MakeProject) -> None:
    first = inline_table(make_project, "{x: [1, 2, 3], y: [4, 5, 6]}").sha256
    again = inline_table(make_project, "{x: [1, 2, 3], y: [4, 5, 6]}").sha256
    changed = inline_table(make_project, "{x: [1, 2, 3], y: [4, 5, 7]}").sha256
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert first == again
    assert first != changed


def test_inline_ids_are_text(make_project: MakeProject) -> None:
    table = inline_table(make_project, "{id: [7, 8.0, b], x: [1, 2, 3], y: [4, 5, 6]}", "id_column: id")
    assert table.ids == ("7", "8", "b")


@pytest.mark.parametrize(
    ("cells", "fragment"),
    [
        ("[1, abc, 3]", "column 'x', row 2: 'abc' is not a number"),
        ("[1, true, 3]", "column 'x', row 2: True is not a number"),
        ("[1, .inf, 3]", "column 'x', row 2: inf is not a number"),
        ("[1, ~, 3]", "column 'x', row 2: None is missing"),
        ("[1, 2, '']", "column 'x', row 3: '' is missing"),
    ],
)
def test_inline_cell_that_is_not_a_number(make_project: MakeProject, cells: str, fragment: str) -> None:
    root = make_project({"t": f"title: T\ndata: {{x: {cells}, y: [4, 5, 6]}}\nfeatures: [x, y]\n"})
    config = load_dataset(root, root / CONFIG_DIR / "t.yml")
    with pytest.raises(UserError) as caught:
        load_table(root, config)
    (problem,) = caught.value.problems
    assert problem.startswith("site_config/datasets/t.yml: data: 1 row(s) with missing or non-numeric features")
    assert fragment in problem


def test_inline_text_numbers_parse(make_project: MakeProject) -> None:
    table = inline_table(make_project, "{x: ['1e3', ' 7 ', -2.5], y: [4, 5, 6]}")
    assert numbers(table, "x") == [1000.0, 7.0, -2.5]


# --- every format, the same numbers -----------------------------------------------------------

FRAME = {"id": ["a", "b", "c"], "x": [1.5, 2.0, -3.0], "y": [10, 20, 30]}


def to_parquet() -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame(FRAME).to_parquet(buffer, index=False)
    return buffer.getvalue()


def to_xlsx() -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame(FRAME).to_excel(buffer, index=False, engine="openpyxl")
    return buffer.getvalue()


WRITERS: dict[str, Callable[[], bytes]] = {
    "t.csv": lambda: b"id,x,y\na,1.5,10\nb,2,20\nc,-3,30\n",
    "t.tsv": lambda: b"id\tx\ty\na\t1.5\t10\nb\t2\t20\nc\t-3\t30\n",
    "t.json": lambda: json.dumps([dict(zip(FRAME, row, strict=True)) for row in zip(*FRAME.values(), strict=True)])
    .encode(),
    "t.parquet": to_parquet,
    "t.xlsx": to_xlsx,
}


@pytest.mark.parametrize("name", list(WRITERS))
def test_every_format_gives_the_same_numbers(make_project: MakeProject, name: str) -> None:
    payload = WRITERS[name]()
    table = load(make_project, csv(name, payload), "id_column: id", source=f"content/data/{name}")
    assert numbers(table, "x") == [1.5, 2.0, -3.0]
    assert numbers(table, "y") == [10.0, 20.0, 30.0]
    assert table.ids == ("a", "b", "c")
    assert (table.rows_read, table.rows_used, table.dropped) == (3, 3, {})
    assert table.sha256 == hashlib.sha256(payload).hexdigest()
    assert table.origin == f"content/data/{name}"


def test_file_sha256_is_stable_and_follows_the_values(make_project: MakeProject) -> None:
    first = load(make_project, csv(text="x,y\n1,2\n3,4\n")).sha256
    again = load(make_project, csv(text="x,y\n1,2\n3,4\n")).sha256
    changed = load(make_project, csv(text="x,y\n1,2\n3,5\n")).sha256
    assert first == again
    assert first != changed


@pytest.mark.parametrize(
    ("name", "payload", "expected"),
    [
        ("t.csv", b"id,x,y\n007,1,2\n0.50,3,4\n", ("007", "0.50")),
        ("t.json", b'[{"id": 7, "x": 1, "y": 2}, {"id": 8.0, "x": 3, "y": 4}]', ("7", "8")),
    ],
)
def test_ids_are_the_text_a_person_typed(
    make_project: MakeProject, name: str, payload: bytes, expected: tuple[str, ...]
) -> None:
    table = load(make_project, csv(name, payload), "id_column: id", source=f"content/data/{name}")
    assert table.ids == expected


# --- cells that are not numbers ------------------------------------------------------------

NOT_NUMBERS = ["abc", "5%", "$1", "15_000", "inf", "-inf", "True", "0x10", "1e101", "-1e101", "1e400",
               "1 0000", "\u22123", "\uff11\uff12"]


@pytest.mark.parametrize("cell", NOT_NUMBERS)
def test_not_a_number_fails_naming_column_and_line(make_project: MakeProject, cell: str) -> None:
    problem = failure(make_project, csv(text=f'x,y\n1,10\n"{cell}",20\n3,30\n'))
    assert problem.startswith("content/data/t.csv: 1 row(s) with missing or non-numeric features")
    assert f"column 'x', line 3: {cell!r} is not a number" in problem
    assert "missing: drop" in problem


@pytest.mark.parametrize("cell", NOT_NUMBERS)
def test_not_a_number_is_dropped_and_counted(make_project: MakeProject, cell: str) -> None:
    table = load(make_project, csv(text=f'x,y\n1,10\n"{cell}",20\n3,30\n'), "missing: drop")
    assert table.dropped == {NOT_NUMBER: 1}
    assert (table.rows_read, table.rows_used) == (3, 2)
    assert numbers(table, "x") == [1.0, 3.0]
    assert numbers(table, "y") == [10.0, 30.0]


@pytest.mark.parametrize("cell", ["", "  ", "NA", "NaN", "nan", "N/A", "null", "None"])
def test_missing_tokens_are_blank(make_project: MakeProject, cell: str) -> None:
    files = csv(text=f'x,y\n1,10\n2,20\n3,"{cell}"\n')
    assert f"column 'y', line 4: {cell!r} is missing" in failure(make_project, files)
    table = load(make_project, files, "missing: drop")
    assert table.dropped == {BLANK: 1}
    assert (table.rows_read, table.rows_used) == (3, 2)


def test_blank_and_bad_rows_are_counted_apart(make_project: MakeProject) -> None:
    files = csv(text="x,y\n1,10\n,20\nabc,30\n4,5%\n,NA\n6,60\n")
    problem = failure(make_project, files)
    assert problem.startswith("content/data/t.csv: 4 row(s) with missing or non-numeric features; first: ")
    assert "column 'x', line 3: '' is missing; column 'x', line 4: 'abc' is not a number; " in problem
    table = load(make_project, files, "missing: drop")
    assert table.dropped == {BLANK: 2, NOT_NUMBER: 2}
    assert (table.rows_read, table.rows_used) == (6, 2)
    assert numbers(table, "x") == [1.0, 6.0]


def test_no_usable_row_left(make_project: MakeProject) -> None:
    problem = failure(make_project, csv(text="x,y\nabc,1\n2,\n"), "missing: drop")
    assert problem == "content/data/t.csv: no row has a number in every feature column"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("1e3", 1000.0), ("-2.5", -2.5), (" 7 ", 7.0), ("+3", 3.0), (".5", 0.5), ("1.", 1.0), ("007", 7.0),
     ("-1E-2", -0.01), ("1e100", 1e100), ("-1e100", -1e100),
     # Thousands separators: a comma-separated file writes decimal points, so 15,000 is fifteen thousand.
     ("15,000", 15000.0), ("1,234,567.5", 1234567.5), ("1 000", 1000.0), ("12'345", 12345.0)],
)
def test_plain_numbers_parse(make_project: MakeProject, cell: str, expected: float) -> None:
    table = load(make_project, csv(text=f'x,y\n"{cell}",1\n0,2\n'))
    assert numbers(table, "x") == [expected, 0.0]


# --- the shape of a file -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"", "the file is empty"),
        (b"\n  \n", "the file is empty"),
        (b"\xef\xbb\xbf", "the file is empty"),
        (b"x,y\n", "has a header but no rows"),
        (b"x,y\n,\n\n", "has a header but no rows"),
        (b"x,y\n1,2\n3\n", "line 3 has 1 cell(s) but the header names 2 column(s)"),
        (b"x,y\n1,2\n\n3\n", "line 4 has 1 cell(s) but the header names 2 column(s)"),
        (b"x,y\n1,2\n3,4,5\n", "line 3 has 3 cell(s) but the header names 2 column(s)"),
        (b"x,y,x\n1,2,3\n", "column name 'x' appears twice in the header"),
        (b"x, y,y \n1,2,3\n", "column name 'y' appears twice in the header"),
        (b"x,,y\n1,2,3\n", "column 2 has no name in the header"),
        (b'x,y\n1,"2\n', "line 2: unexpected end of data"),
        # Bytes that are not UTF-8 are read as Windows-1252: then they are not numbers.
        (b"x,y\n1,2\n3,\xff\n", "1 row(s) with missing or non-numeric features; first: column 'y', line 3: "
                                 "'\u00ff' is not a number"),
        (b"x,y\r\n1,2\r\n3,4\r\n5,\x96\r\n", "1 row(s) with missing or non-numeric features; first: column 'y', "
                                            "line 4: '\u2013' is not a number"),
    ],
)
def test_damaged_csv(make_project: MakeProject, payload: bytes, expected: str) -> None:
    problem = failure(make_project, csv(text=payload))
    assert problem.startswith(f"content/data/t.csv: {expected}"), problem


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"x,y\n1,2\n3,\xff\n", "line 3: byte 0xff is not UTF-8"),
        (b"x,y\r\n1,2\r\n3,4\r\n5,\x96\r\n", "line 4: byte 0x96 is not UTF-8"),
    ],
)
def test_bytes_that_are_not_utf8_when_read_says_utf8(make_project: MakeProject, payload: bytes, expected: str) -> None:
    problem = failure(make_project, csv(text=payload), "read: {encoding: utf-8}")
    assert problem.startswith(f"content/data/t.csv: {expected}; save the file as UTF-8"), problem


@pytest.mark.parametrize(
    "payload",
    [b"x,y,,\n1,2,,\n3,4,,\n", b"x,y\n1,2,\n3,4,,\n", b"x,y,\n1,2\n3,4\n", b"\xef\xbb\xbfx,y\r\n1,2\r\n3,4\r\n"],
    ids=["empty-columns", "trailing-commas", "empty-header-cell", "bom-crlf"],
)
def test_spreadsheet_padding_is_accepted(make_project: MakeProject, payload: bytes) -> None:
    table = load(make_project, csv(text=payload))
    assert numbers(table, "x") == [1.0, 3.0]
    assert numbers(table, "y") == [2.0, 4.0]
    assert (table.rows_read, table.rows_used) == (2, 2)


def test_line_numbers_count_blank_lines_and_crlf(make_project: MakeProject) -> None:
    problem = failure(make_project, csv(text=b"x,y\r\n\r\n1,2\r\n\r\nabc,3\r\n"))
    assert "column 'x', line 5: 'abc' is not a number" in problem


@pytest.mark.parametrize(
    ("header", "lines", "expected"),
    [
        ("x,Y", ("features: [x, y]",), "no column 'y' (did you mean 'Y'?)"),
        ("xx,yy", ("features: [x, y]",), "no column 'x' (did you mean 'xx'?)"),
        ("Fresh goods,Milk", ("features: [Fresh, Milk]",), "no column 'Fresh' (did you mean 'Fresh goods'?)"),
        ("x,y", ("id_column: customer",), "no column 'customer'"),
    ],
)
def test_configured_column_that_does_not_exist(
    make_project: MakeProject, header: str, lines: tuple[str, ...], expected: str
) -> None:
    problem = failure(make_project, csv(text=f"{header}\n1,2\n"), *lines)
    assert problem.startswith(f"content/data/t.csv: {expected}; the columns are: ")
    assert problem.endswith("(site_config/datasets/t.yml names it)")


@pytest.mark.parametrize(
    ("name", "payload", "x", "reading"),
    [
        ("t.csv", b"x;y\n1;2\n3;4\n", [1.0, 3.0], ("';'-separated",)),
        ("t.csv", b"x|y\n1|2\n3|4\n", [1.0, 3.0], ("'|'-separated",)),
        ("t.csv", b"x;y\n1,5;2,5\n3,5;4,0\n", [1.5, 3.5], ("';'-separated", "decimal comma")),
        ("t.csv", b"x\ty\n1.5\t2\n3\t4\n", [1.5, 3.0], ("tab-separated",)),
        ("t.tsv", b"x,y\n1,2\n3,4\n", [1.0, 3.0], ("','-separated",)),
        ("t.txt", b"x,y\n1,2\n3,4\n", [1.0, 3.0], ("','-separated",)),
        ("t.txt", b"x\ty z\n1\t2\n3\t4\n", [1.0, 3.0], ("tab-separated",)),  # Excel's "Text (tab delimited)"
        ("t.csv", b'x;"y;z"\n"1,5";2\n3;4\n', [1.5, 3.0], ("';'-separated", "decimal comma")),
        ("t.csv", b"x;y;;\n1;2;;\n3;4;;note\n", [1.0, 3.0],
         ("';'-separated", "1 unnamed column beside the table left out")),
    ],
    ids=["semicolon", "pipe", "semicolon-decimal-comma", "tab-in-csv", "tsv-with-commas", "txt-with-commas",
         "txt-with-tabs", "quoted", "notes-beside"],
)
def test_delimiter_is_detected(make_project: MakeProject, name: str, payload: bytes, x: list[float],
                               reading: tuple[str, ...]) -> None:
    lines = ("features: [x, y z]",) if b"y z" in payload else ("features: [x, y;z]",) if b"y;z" in payload else ()
    table = load(make_project, csv(name, payload), *lines, source=f"content/data/{name}")
    assert numbers(table, "x") == x
    assert table.reading == reading


@pytest.mark.parametrize(
    ("payload", "lines", "expected"),
    [
        (b"x;y,z\n1;2,3\n4;5,6\n", (),
         "every line splits alike at ',' (2 columns) and at ';' (2 columns); say which with "
         "read: {delimiter: ','} or read: {delimiter: ';'}"),
        (b"x;y\n1;2\n3;4;5\n", (),
         "the header is one column 'x;y'; the file seems separated by ';', but a .csv file is read as separated by "
         "',' where not every line splits alike at another; read: {delimiter: ';'} reads it so"),
        (b"x;y\n1;2\n3;4;5\n", ("read: {delimiter: ';'}",),
         "line 3 has 3 cell(s) but the header names 2 column(s); rows must line up with the header"),
    ],
    ids=["two-delimiters", "ragged-semicolon", "ragged-semicolon-read-so"],
)
def test_delimiter_that_is_not_clear(make_project: MakeProject, payload: bytes, lines: tuple[str, ...],
                                     expected: str) -> None:
    assert failure(make_project, csv(text=payload), *lines) == f"content/data/t.csv: {expected}"


def test_delimiter_given_by_read(make_project: MakeProject) -> None:
    payload = b"x;y,z\n1;2,3\n4;5,6\n"
    table = load(make_project, csv(text=payload), "features: [x, 'y,z']", "read: {delimiter: ';'}")
    assert numbers(table, "x") == [1.0, 4.0]
    assert numbers(table, "y,z") == [2.3, 5.6]  # a ';'-separated file whose numbers have decimal commas
    assert table.reading == ("';'-separated", "decimal comma")


# --- binary formats and JSON ---------------------------------------------------------------------


def workbook(*sheets: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for number, rows in enumerate(sheets):
        sheet = book.active if number == 0 else book.create_sheet(f"Sheet{number + 1}")
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def workbook_of(sheets: dict[str, list[list[object]]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_with_two_sheets_reads_the_one_with_the_columns(make_project: MakeProject) -> None:
    table = load(make_project, csv("t.xlsx", workbook([["x", "y"], [1, 2]], [["notes"]])), source="content/data/t.xlsx")
    assert numbers(table, "x") == [1.0]
    assert table.reading == ("sheet 'Sheet'",)


@pytest.mark.parametrize(
    ("sheets", "lines", "expected"),
    [
        ({"A": [["notes"]], "B": [["x", "z"], [1, 2]]}, (),
         "has 2 sheets ('A', 'B') and none holds the columns 'x', 'y'; name the table's with read: {sheet: 'B'}"),
        ({"A": [["x", "y"], [1, 2]], "B": [["x", "y"], [3, 4]]}, (),
         "has 2 sheets ('A', 'B') and 2 hold the columns 'x', 'y'; name the table's with read: {sheet: 'A'}"),
        ({"Kunden": [["x", "y"], [1, 2]], "B": [["x", "y"], [3, 4]]}, ("read: {sheet: kunden}",),
         "has no sheet 'kunden' (did you mean 'Kunden'?); its sheets are 'Kunden', 'B' (read: sheet)"),
        ({"A": [["x", "y"], [1, 2]], "B": []}, ("read: {sheet: B}",), "the sheet 'B' is empty"),
    ],
    ids=["none-holds", "two-hold", "no-such-sheet", "empty"],
)
def test_xlsx_sheet_problems(make_project: MakeProject, sheets: dict[str, list[list[object]]], lines: tuple[str, ...],
                             expected: str) -> None:
    problem = failure(make_project, csv("t.xlsx", workbook_of(sheets)), *lines, source="content/data/t.xlsx")
    assert problem == f"content/data/t.xlsx: {expected}"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["x", "x", "y"], "column name 'x' appears twice in the header"),
        (["x", None, "y"], "column 2 has no name in the header"),
    ],
    ids=["duplicate", "blank"],
)
def test_xlsx_header_problems(make_project: MakeProject, header: list[object], expected: str) -> None:
    payload = workbook([header, [1, 2, 3], [4, 5, 6]])
    problem = failure(make_project, csv("t.xlsx", payload), source="content/data/t.xlsx")
    assert problem == f"content/data/t.xlsx: {expected}"


@pytest.mark.parametrize(
    ("name", "payload", "expected"),
    [
        ("t.parquet", b"not parquet", "cannot be read as parquet: "),
        ("t.xlsx", b"not a workbook", "cannot be read as xlsx: "),
        ("t.json", b"[1, 2", "cannot be read as json: "),
        ("t.json", b'{"x": [1, 2], "y": [3, 4]}', "must be a JSON list of records"),
        ("t.json", b"[1, 2]", "must be a JSON list of records"),
        ("t.json", b"  \n", "the file is empty"),
    ],
)
def test_unreadable_file(make_project: MakeProject, name: str, payload: bytes, expected: str) -> None:
    problem = failure(make_project, csv(name, payload), source=f"content/data/{name}")
    assert problem.startswith(f"content/data/{name}: {expected}"), problem


@pytest.mark.parametrize(
    ("name", "payload", "place"),
    [
        ("t.json", b'[{"x": 1, "y": 2}, {"x": "abc", "y": 3}]', "row 2"),
        ("t.json", b'[{"x": 1, "y": 2}, {"x": true, "y": 3}]', "row 2"),
        ("t.xlsx", workbook([["x", "y"], [1, 2], ["abc", 3]]), "row 3"),  # the sheet's row: row 1 is the header
    ],
)
def test_other_formats_name_the_row(make_project: MakeProject, name: str, payload: bytes, place: str) -> None:
    problem = failure(make_project, csv(name, payload), source=f"content/data/{name}")
    assert f"column 'x', {place}: " in problem
    assert "is not a number" in problem


def test_json_record_without_a_feature_is_blank(make_project: MakeProject) -> None:
    payload = b'[{"x": 1, "y": 2}, {"x": 3}, {"x": 5, "y": 6}]'
    table = load(make_project, csv("t.json", payload), "missing: drop", source="content/data/t.json")
    assert table.dropped == {BLANK: 1}
    assert numbers(table, "x") == [1.0, 5.0]


# --- notes for the reader -------------------------------------------------------------------------


def notes_for(make_project: MakeProject, xs: list[float], *lines: str) -> tuple[str, ...]:
    rows = "".join(f"{x},{index * 1.5}\n" for index, x in enumerate(xs))
    return load(make_project, csv(text="x,y\n" + rows), *lines).notes


def test_constant_feature_gets_a_note(make_project: MakeProject) -> None:
    notes = notes_for(make_project, [5, 5, 5], "labels: {x: Age}")
    assert notes == ("Age has the same value in every row, so it cannot separate segments.",)


@pytest.mark.parametrize(
    ("xs", "fragment"),
    [
        ([i % 3 for i in range(25)], "x takes only 3 whole-number values"),
        ([i % 5 + 1 for i in range(20)], "x takes only 5 whole-number values"),
        ([i + 100 for i in range(25)], "x counts up by one on every row, like an id"),
    ],
    ids=["three-codes", "five-codes-20-rows", "counter"],
)
def test_code_like_feature_gets_a_note(make_project: MakeProject, xs: list[float], fragment: str) -> None:
    (note,) = notes_for(make_project, xs)
    assert note.startswith(fragment)
    assert "\n" not in note


@pytest.mark.parametrize(
    "xs",
    [
        [i % 3 for i in range(19)],
        [i % 6 for i in range(25)],
        [i % 3 + 0.5 for i in range(25)],
        [(i * 7) % 25 for i in range(25)],
    ],
    ids=["too-few-rows", "six-values", "not-whole", "shuffled"],
)
def test_ordinary_feature_gets_no_note(make_project: MakeProject, xs: list[float]) -> None:
    assert notes_for(make_project, xs) == ()


# --- the damaged real files in tests/data/messy ---------------------------------------------------


def messy(name: str) -> Files:
    return {f"content/data/{name}": (MESSY / name).read_bytes()}


@pytest.mark.parametrize(
    ("name", "missing", "read", "used", "dropped", "reading"),
    [
        ("wholesale_injected_NA_row.csv", "drop", 441, 440, {BLANK: 1}, ()),
        ("wholesale_60_appended_negative_rows.csv", "drop", 500, 473, {BLANK: 27}, ()),
        # Only the unused first column name is damaged; the features load untouched.
        ("wholesale_junk_before_header.csv", "fail", 440, 440, {}, ()),
        # Gained a reading (issue 26): the delimiter is detected; the pivots beside the table are left out.
        ("wholesale_semicolon_trailing_delims.csv", "fail", 440, 440, {},
         ("';'-separated", "8 unnamed columns beside the table left out")),
        # Gained a reading (issue 26): the bytes that are not UTF-8 are read as Windows-1252, the notes
        # beside the table are left out.
        ("wholesale_mixed_encoding_extra_cols.csv", "fail", 440, 440, {},
         ("UTF-8 with some Windows-1252 bytes", "1 unnamed column beside the table left out")),
    ],
)
def test_messy_file_that_loads(make_project: MakeProject, name: str, missing: str, read: int, used: int,
                               dropped: dict[str, int], reading: tuple[str, ...]) -> None:
    source = f"content/data/{name}"
    table = load(make_project, messy(name), f"features: {WHOLESALE}", f"missing: {missing}", source=source)
    assert (table.rows_read, table.rows_used, table.dropped) == (read, used, dropped)
    assert table.features.iloc[0].tolist() == [12669.0, 9656.0, 7561.0, 214.0, 2674.0, 1338.0]
    assert table.sha256 == hashlib.sha256((MESSY / name).read_bytes()).hexdigest()
    assert table.reading == reading


@pytest.mark.parametrize(
    ("name", "options"),
    [("wholesale_semicolon_trailing_delims.csv", {"sep": ";"}),
     ("wholesale_mixed_encoding_extra_cols.csv", {"encoding": "cp1252"})],
)
def test_messy_file_read_as_pandas_reads_it(make_project: MakeProject, name: str, options: dict[str, str]) -> None:
    columns = WHOLESALE.strip("[]").split(", ")
    table = load(make_project, messy(name), f"features: {WHOLESALE}", source=f"content/data/{name}")
    expected = pd.read_csv(MESSY / name, usecols=columns, **options)
    assert table.features.to_dict("list") == expected.astype(float).to_dict("list")


@pytest.mark.parametrize(
    ("name", "missing", "fragments"),
    [
        ("wholesale_injected_NA_row.csv", "fail",
         ["1 row(s) with missing or non-numeric features", "column 'Fresh', line 5: 'NA' is missing", "missing: drop"]),
        ("wholesale_60_appended_negative_rows.csv", "fail",
         ["27 row(s) with missing or non-numeric features", "column 'Fresh', line 357: '' is missing"]),
        ("wholesale_renamed_header_Fresh_goods.csv", "fail", ["no column 'Fresh' (did you mean 'Fresh goods'?)"]),
        ("wholesale_renamed_header_Fresh_goods.csv", "drop", ["no column 'Fresh' (did you mean 'Fresh goods'?)"]),
    ],
)
def test_messy_file_that_fails(make_project: MakeProject, name: str, missing: str, fragments: list[str]) -> None:
    source = f"content/data/{name}"
    problem = failure(make_project, messy(name), f"features: {WHOLESALE}", f"missing: {missing}", source=source)
    for fragment in fragments:
        assert fragment in problem


def test_messy_file_read_as_utf8_keeps_its_error(make_project: MakeProject) -> None:
    name = "wholesale_mixed_encoding_extra_cols.csv"
    problem = failure(make_project, messy(name), f"features: {WHOLESALE}", "read: {encoding: utf-8}",
                      source=f"content/data/{name}")
    assert problem == (f"content/data/{name}: line 10: byte 0xa0 is not UTF-8; save the file as UTF-8 "
                       "(CSV UTF-8 in spreadsheet programs)")


# --- line numbers, quotes and ids as typed ----------------------------------------------------------


def test_line_numbers_are_physical_with_quoted_line_breaks(make_project: MakeProject) -> None:
    payload = b'id,x,y\n"two\nlines",1,2\n\n"three\r\nline\nid",3,4\nc,abc,5\n'
    problem = failure(make_project, csv(text=payload), "id_column: id")
    assert "column 'x', line 8: 'abc' is not a number" in problem
    table = load(make_project, csv(text=payload), "id_column: id", "missing: drop")
    assert table.ids == ("two\nlines", "three\r\nline\nid")


def test_quoted_numbers_and_padding_inside_quotes(make_project: MakeProject) -> None:
    table = load(make_project, csv(text='x,y\n"5",1\n" 6 ",2\n"\t7",3\n 8 ,4\n'))
    assert numbers(table, "x") == [5.0, 6.0, 7.0, 8.0]


def test_ids_keep_their_text(make_project: MakeProject) -> None:
    ids = ["007", "0.50", "1e3", " a ", 'q"uote', "comma,inside", "=cmd|' /C calc'!A0", "", "\u00a0", "NA"]
    body = "".join('"{}",{},{}\n'.format(cell.replace('"', '""'), i, i % 3) for i, cell in enumerate(ids))
    table = load(make_project, csv(text="id,x,y\n" + body), "id_column: id")
    assert table.ids == tuple(ids)


def test_a_big_odd_quote_is_an_error_with_its_line(make_project: MakeProject) -> None:
    assert failure(make_project, csv(text=b'x,y\n1,2\n3,"4\n5,6\n')) == \
        "content/data/t.csv: line 4: unexpected end of data"


# --- Parquet --------------------------------------------------------------------------------------------


def parquet(frame: pd.DataFrame) -> Files:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return csv("t.parquet", buffer.getvalue())


def test_parquet_nullable_integers_and_integer_ids(make_project: MakeProject) -> None:
    frame = pd.DataFrame({"id": [1001, 1002, 1003], "x": pd.array([1, None, 3], dtype="Int64"),
                          "y": [0.5, -0.0, 2.5], "when": pd.date_range("2020", periods=3)})
    source = "content/data/t.parquet"
    assert "column 'x', row 2: <NA> is missing" in failure(make_project, parquet(frame), "id_column: id",
                                                          source=source)
    table = load(make_project, parquet(frame), "id_column: id", "missing: drop", source=source)
    assert table.ids == ("1001", "1003")
    assert numbers(table, "x") == [1.0, 3.0]
    assert table.dropped == {BLANK: 1}


def test_parquet_text_ids_keep_leading_zeros(make_project: MakeProject) -> None:
    frame = pd.DataFrame({"id": ["007", "a,b", "=1+1"], "x": [1.5, 2.0, 3.0], "y": [1, 2, 3]})
    table = load(make_project, parquet(frame), "id_column: id", source="content/data/t.parquet")
    assert table.ids == ("007", "a,b", "=1+1")


# Parquet's DATE and TIMESTAMP types, as a warehouse writes them: the same guard as ISO text dates.
DATE_TYPES = {"DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us"), "TIMESTAMP with a time zone":
              pa.timestamp("us", tz="Europe/Berlin")}


def dated_parquet(kind: pa.DataType) -> Files:
    """A customer table with a column of Parquet's `kind`, written by pyarrow."""
    when = [datetime.datetime(2024, 1, 1 + i, 12) for i in range(4)]
    cells = pa.array([w.date() for w in when]) if kind == pa.date32() else pa.array(when).cast(kind)
    buffer = io.BytesIO()
    pq.write_table(pa.table({"id": ["a", "b", "c", "d"], "x": [1.0, 2.0, 3.0, 4.0], "y": [4.0, 1.0, 3.0, 2.0],
                             "joined": cells}), buffer)
    return csv("t.parquet", buffer.getvalue())


@pytest.mark.parametrize("kind", DATE_TYPES.values(), ids=DATE_TYPES.keys())
def test_a_parquet_date_column_is_a_date(make_project: MakeProject, kind: pa.DataType) -> None:
    source = "content/data/t.parquet"
    table = load(make_project, dated_parquet(kind), "id_column: id", source=source)  # beside the features: read
    assert numbers(table, "x") == [1.0, 2.0, 3.0, 4.0]
    problem = failure(make_project, dated_parquet(kind), "id_column: id", "features: [x, joined]", source=source)
    assert problem.startswith(f"{source}: column 'joined' holds dates ('2024-01-01"), problem
    assert "a date is not a feature" in problem


# --- whitespace-separated text tables ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["t.txt", "t.dat"])
def test_whitespace_table_is_read(make_project: MakeProject, name: str) -> None:
    payload = b"  id    x\ty  \r\n  007  1.5   10\r\n\r\nb\t-2\t  20\r\n c 3e2 30   \r\n"
    table = load(make_project, csv(name, payload), "id_column: id", source=f"content/data/{name}")
    assert table.ids == ("007", "b", "c")
    assert numbers(table, "x") == [1.5, -2.0, 300.0]
    assert numbers(table, "y") == [10.0, 20.0, 30.0]
    assert table.sha256 == hashlib.sha256(payload).hexdigest()


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"x y\n1 2\n\nabc 3\n", "column 'x', line 4: 'abc' is not a number"),
        (b"x y\n1 2\n3 4 5\n", "line 3 has 3 cell(s) but the header names 2 column(s)"),
    ],
)
def test_whitespace_table_problems_name_the_line(make_project: MakeProject, payload: bytes, expected: str) -> None:
    problem = failure(make_project, csv("t.txt", payload), source="content/data/t.txt")
    assert expected in problem


@pytest.mark.parametrize(("name", "read_as"), [("t.csv", "','"), ("t.tsv", "tab")])
def test_whitespace_table_read_as_csv_names_the_real_delimiter(make_project: MakeProject, name: str,
                                                                read_as: str) -> None:
    problem = failure(make_project, csv(name, b"x   y\n1   2\n3   4\n"), source=f"content/data/{name}")
    assert problem == (f"content/data/{name}: the header is one column 'x   y'; the file seems separated by spaces "
                       f"or tabs, but a .{name[2:]} file is read as separated by {read_as}; "
                       "rename it to .txt or .dat to have it read so")


# --- big tables ---------------------------------------------------------------------------------------------


def big_csv(rows: int, bad: dict[int, str] | None = None) -> tuple[bytes, list[float]]:
    """A CSV of ids with leading zeros and two features, with `bad` cells of x at some rows."""
    x = [i * 0.25 - 1000 for i in range(rows)]
    lines = ["id,x,y"] + [f"{i:07d},{x[i]},{(i * 7) % 1000}.5" for i in range(rows)]
    for row, cell in (bad or {}).items():
        lines[row + 1] = f"{row:07d},{cell},1"
    return ("\n".join(lines) + "\n").encode(), x


def test_big_csv(make_project: MakeProject) -> None:
    payload, x = big_csv(300_000)
    table = load(make_project, csv(text=payload), "id_column: id")
    assert table.rows_read == table.rows_used == 300_000
    assert numbers(table, "x") == x
    assert table.ids is not None
    assert table.ids[:2] == ("0000000", "0000001")
    assert table.sha256 == hashlib.sha256(payload).hexdigest()
    (note,) = table.notes
    assert note.startswith("x is negative in 4000 row(s)")


def test_big_csv_problems_name_the_line(make_project: MakeProject) -> None:
    payload, _ = big_csv(60_000, bad={59_000: "abc"})
    assert "column 'x', line 59002: 'abc' is not a number" in failure(make_project, csv(text=payload))
    table = load(make_project, csv(text=big_csv(60_000, bad={10: "", 20: "NA", 30: "5%"})[0]), "missing: drop")
    assert table.dropped == {BLANK: 2, NOT_NUMBER: 1}
    assert table.rows_used == 59_997
    payload = big_csv(60_000)[0].replace(b"0059999,", b"\xff059999,")
    assert "line 60001: byte 0xff is not UTF-8" in failure(make_project, csv(text=payload), "read: {encoding: utf-8}")
    table = load(make_project, csv(text=payload), "id_column: id")
    assert table.ids is not None
    assert table.ids[59_999] == "\u00ff059999"
    assert table.reading == ("Windows-1252",)


def test_quoted_line_breaks_across_pyarrow_blocks(make_project: MakeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "ARROW_BLOCK", 1 << 12)  # many blocks, some ending inside quotes
    ids = [f"a\nb{i}" for i in range(3000)]
    payload = "id,x,y\n" + "".join(f'"{cell}",{i},{i % 7}\n' for i, cell in enumerate(ids))
    table = load(make_project, csv(text=payload), "id_column: id")
    assert table.ids == tuple(ids)
    assert numbers(table, "x") == [float(i) for i in range(3000)]


def test_read_file_gives_text_cells_and_their_places(tmp_path: Path) -> None:
    """What other stages (purchase logs, `init`) read: every cell as typed, and where each row is."""
    payload = b"customer,date,amount\n007,2020-01-02,5.50\n\n\"0,8\",2020-01-03,-1\n"
    (tmp_path / "p.csv").write_bytes(payload)
    raw = read_file(tmp_path, "p.csv")
    assert raw.frame.to_dict("list") == {"customer": ["007", "0,8"], "date": ["2020-01-02", "2020-01-03"],
                                         "amount": ["5.50", "-1"]}
    assert [raw.places[0], raw.places[1]] == ["line 2", "line 4"]
    assert (raw.digest, raw.origin) == (hashlib.sha256(payload).hexdigest(), "p.csv")


# --- tables as European spreadsheets save them ------------------------------------------------------------

EURO_FEATURES = ["Umsatz (€)", "Punkte", "Rabatt"]


def german(value: float, decimals: int) -> str:
    """A number as a German spreadsheet writes it: 2.135,97."""
    return f"{value:,.{decimals}f}".replace(",", "_").replace(".", ",").replace("_", ".")


def euro_records(seed: int = 26) -> list[tuple[str, float, int, float]]:
    """Three groups of customers, far apart: 60 rows of an id, spend, points and a discount."""
    rng = np.random.default_rng(seed)
    records = []
    for index in range(60):
        spend, points, discount = ((800.0, 900, 2.5), (4_500.0, 4_000, 7.5), (15_000.0, 12_000, 1.0))[index % 3]
        records.append((f"Kö-{index:03d}", round(float(rng.normal(spend, spend / 20)), 2),
                        int(rng.normal(points, points / 20)), round(float(rng.normal(discount, 0.3)), 1)))
    return records


def euro_rows() -> list[list[object]]:
    return [["Kunde", *EURO_FEATURES], *map(list, euro_records())]


def euro_csv() -> bytes:
    """The rows as Excel saves "CSV" in Germany: ';'-separated, decimal commas, thousands dots, Windows-1252."""
    lines = [";".join(["Kunde", *EURO_FEATURES])]
    lines += [f"{name};{german(spend, 2)};{german(points, 0)};{german(discount, 1)}"
              for name, spend, points, discount in euro_records()]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def loaded(make_project: MakeProject, files: Files, *lines: str,
           source: str = "content/data/t.csv") -> tuple[DatasetConfig, Table]:
    root = make_project({"t": config_text(source, *lines)}, files)
    config = load_dataset(root, root / CONFIG_DIR / "t.yml")
    return config, load_table(root, config)


def check_segments_of(config: DatasetConfig, table: Table, expected: pd.DataFrame) -> None:
    """The segments are K-Means' on pandas' reading of the file, their centres its segments' means."""
    result, labels = segment(table, config)
    fit = KMeans(n_clusters=3, n_init=10, random_state=42).fit(StandardScaler().fit_transform(expected))
    assert len(set(zip(labels, fit.labels_, strict=True))) == 3  # the same partition, numbered apart
    means = expected.groupby(labels).mean()
    for found in result.segments:
        assert found.center == pytest.approx(means.loc[found.number].to_dict(), rel=1e-12)


EURO_LINES = ("features: ['Umsatz (€)', Punkte, Rabatt]", "id_column: Kunde", "n_clusters: 3")


def test_european_csv_builds_without_read(make_project: MakeProject, tmp_path: Path) -> None:
    payload = euro_csv()
    assert b"Umsatz (\x80);Punkte;Rabatt\r\nK\xf6-000;" in payload  # the euro sign and o-umlaut in Windows-1252
    assert b";4.0" in payload  # thousands dots; decimal commas below
    config, table = loaded(make_project, csv(text=payload), *EURO_LINES)
    (tmp_path / "t.csv").write_bytes(payload)
    expected = pd.read_csv(tmp_path / "t.csv", sep=";", decimal=",", thousands=".", encoding="cp1252")
    assert table.features.to_dict("list") == expected[EURO_FEATURES].astype(float).to_dict("list")
    assert table.ids == tuple(expected["Kunde"])
    # Punkte (whole numbers such as 4.012) reads two ways alone; the other columns' decimal commas settle it.
    assert table.reading == ("';'-separated", "decimal comma", "'.' between thousands", "Windows-1252")
    check_segments_of(config, table, expected[EURO_FEATURES].astype(float))


def euro_workbook() -> bytes:
    """The same rows as the middle sheet of three: notes before, a pivot of the same columns after."""
    records = euro_records()
    pivot: list[list[object]] = [["Kunde", *EURO_FEATURES]]
    pivot += [[f"Gruppe {g}", sum(r[1] for r in records[g::3]), sum(r[2] for r in records[g::3]),
               sum(r[3] for r in records[g::3])] for g in range(3)]
    return workbook_of({"Notizen": [["Export vom 5.12."], ["Beträge in €"]], "Kunden": euro_rows(), "Pivot": pivot})


def test_european_workbook_builds_from_its_sheet(make_project: MakeProject, tmp_path: Path) -> None:
    files = csv("t.xlsx", euro_workbook())
    problem = failure(make_project, files, *EURO_LINES, source="content/data/t.xlsx")
    assert problem == ("content/data/t.xlsx: has 3 sheets ('Notizen', 'Kunden', 'Pivot') and 2 hold the columns "
                       "'Umsatz (€)', 'Punkte', 'Rabatt', 'Kunde'; name the table's with read: {sheet: 'Kunden'}")
    config, table = loaded(make_project, files, *EURO_LINES, "read: {sheet: Kunden}", source="content/data/t.xlsx")
    (tmp_path / "t.xlsx").write_bytes(euro_workbook())
    expected = pd.read_excel(tmp_path / "t.xlsx", sheet_name="Kunden")
    assert table.features.to_dict("list") == expected[EURO_FEATURES].astype(float).to_dict("list")
    assert table.reading == ("sheet 'Kunden'",)
    check_segments_of(config, table, expected[EURO_FEATURES].astype(float))


def test_workbook_with_one_sheet_holding_the_columns_needs_no_read(make_project: MakeProject) -> None:
    files = csv("t.xlsx", workbook_of({"Notizen": [["Beträge in €"]], "Kunden": euro_rows()}))
    table = load(make_project, files, *EURO_LINES, source="content/data/t.xlsx")
    assert table.rows_read == 60
    assert table.reading == ("sheet 'Kunden'",)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"x;y\n1.234;1\n5.678;2\n", "column 'x' reads two ways: '1.234' is 1.234 (decimal point) or 1,234 "
                                   "(decimal comma); say which with read: {decimal: '.'} or read: {decimal: ','}"),
        (b"x\ty\n1,500\t1\n2,250\t2\n", "column 'x' reads two ways: '1,500' is 1,500 (decimal point) or 1.5 "
                                      "(decimal comma); say which with read: {decimal: '.'} or read: {decimal: ','}"),
    ],
    ids=["dots", "commas"],
)
def test_numbers_that_read_two_ways(make_project: MakeProject, payload: bytes, expected: str) -> None:
    assert failure(make_project, csv(text=payload)) == f"content/data/t.csv: {expected}"


@pytest.mark.parametrize(
    ("payload", "lines", "x"),
    [
        (b"x;y\n1.234;1\n5.678;2\n", ("read: {decimal: ','}",), [1234.0, 5678.0]),
        (b"x;y\n1.234;1\n5.678;2\n", ("read: {decimal: '.'}",), [1.234, 5.678]),
        (b"x;y\n1.234;1\n5.678;2\n", ("read: {thousands: none}",), [1.234, 5.678]),
        (b"x;y\n1.234;1\n5.678;2\n", ("read: {thousands: '.'}",), [1234.0, 5678.0]),
        (b"x;y\n1.234;1,5\n5.678;2\n", (), [1234.0, 5678.0]),  # y's decimal comma settles x
        (b"x;y\n1.234;1.5\n5.678;2\n", (), [1.234, 5.678]),  # y's decimal point settles x
        (b"x,y\n1.234,1\n5.678,2\n", (), [1.234, 5.678]),  # a comma-separated file writes decimal points
        (b'x,y\n"1.234,5",1\n"5.678",2\n', (), [1234.5, 5678.0]),  # every cell of x fits a decimal comma only
        (b"x;y\n1 234,5;1\n-5\xc2\xa0678;2\n", (), [1234.5, -5678.0]),  # spaces, no-break too, between thousands
    ],
    ids=["comma", "point", "no-thousands", "thousands-dot", "settled-by-comma", "settled-by-point", "comma-file",
         "quoted", "spaces"],
)
def test_decimal_mark_is_settled(make_project: MakeProject, payload: bytes, lines: tuple[str, ...],
                                 x: list[float]) -> None:
    assert numbers(load(make_project, csv(text=payload), *lines), "x") == x


def test_a_column_of_mixed_marks_names_the_cells_that_do_not_fit(make_project: MakeProject) -> None:
    problem = failure(make_project, csv(text=b"x;y\n1,5;1\n2,5;2\n3.5;3\n"))
    assert problem.startswith("content/data/t.csv: 1 row(s) with missing or non-numeric features; first: "
                              "column 'x', line 4: '3.5' is not a number")


@pytest.mark.parametrize(
    ("name", "payload", "reading"),
    [
        # Excel's "Unicode text": UTF-16 with a BOM, tab-separated, saved as .txt.
        ("t.txt", "\ufeffx\ty\r\n1,5\t2\r\n3,5\t4\r\n".encode("utf-16-le"), ("tab-separated", "decimal comma",
                                                                            "UTF-16")),
        ("t.csv", "\ufeffx;y\r\n1,5;2\r\n3,5;4\r\n".encode("utf-16-be"), ("';'-separated", "decimal comma", "UTF-16")),
        ("t.csv", codecs.BOM_UTF8 + b"x;y\r\n1,5;2\r\n3,5;4\r\n", ("';'-separated", "decimal comma")),
    ],
    ids=["unicode-text", "utf-16-be", "utf-8-bom"],
)
def test_encodings_are_detected(make_project: MakeProject, name: str, payload: bytes,
                                reading: tuple[str, ...]) -> None:
    table = load(make_project, csv(name, payload), source=f"content/data/{name}")
    assert numbers(table, "x") == [1.5, 3.5]
    assert table.reading == reading


def test_encoding_given_by_read(make_project: MakeProject) -> None:
    payload = "Größe;y\n1;2\n3;4\n".encode("cp850")
    table = load(make_project, csv(text=payload), "features: [Größe, y]", "read: {encoding: cp850}")
    assert numbers(table, "Größe") == [1.0, 3.0]
    assert table.reading == ("';'-separated", "DOS (cp850)")
    problem = failure(make_project, csv(text=b"x;y\n1;2\n\x81;4\n"), "read: {encoding: cp1252}")
    assert problem == "content/data/t.csv: line 3: byte 0x81 cannot be read as cp1252; check read: encoding"


def test_a_purchase_log_is_read_as_a_customer_table_is(make_project: MakeProject) -> None:
    """`read:` and detection apply to a log's transactions.source too (purchases read through this reader)."""
    log = "Kunde;Datum;Betrag €\n007;2024-01-02;1.234,50\n007;2024-01-05;2,50\n008;2024-01-03;10\n"
    config = ("title: T\ntransactions: {source: content/data/o.csv, customer: Kunde, date: Datum, "
              "amount: Betrag €}\nfeatures: [frequency, monetary]\n")
    root = make_project({"o": config}, {"content/data/o.csv": log.encode("cp1252")})
    table = load_customers(root, load_dataset(root, root / CONFIG_DIR / "o.yml")).table
    assert table.features.to_dict("list") == {"frequency": [2.0, 1.0], "monetary": [1237.0, 10.0]}
    assert table.reading == ("';'-separated", "decimal comma", "'.' between thousands", "Windows-1252")
    root = make_project({"o": config + "read: {decimal: '.'}\n"}, {"content/data/o.csv": log.encode("cp1252")})
    with pytest.raises(UserError) as caught:
        load_customers(root, load_dataset(root, root / CONFIG_DIR / "o.yml"))
    assert caught.value.problems == ["content/data/o.csv: column 'Betrag €', line 2: '1.234,50' is not an amount "
                                     "(a plain number such as 12.50) (2 such row(s))"]


def test_the_decimal_mark_is_decided_from_every_value_not_the_first(make_project: MakeProject) -> None:
    """1,400 cells that read either way, then one that reads only with a decimal comma: all of x is read so."""
    rows = [f"{1 + i % 9}.{i % 1000:03d};{i}" for i in range(1500)]
    rows[1400] = "2,5;1400"
    table = load(make_project, csv(text="x;y\n" + "\n".join(rows) + "\n"))
    assert numbers(table, "x")[:2] == [1000.0, 2001.0]
    assert numbers(table, "x")[1400] == 2.5
    assert table.reading == ("';'-separated", "decimal comma", "'.' between thousands")


def test_delimiter_detected_when_quoted_line_breaks_cross_the_first_lines(make_project: MakeProject) -> None:
    ids = [f"Kunde\n{i}" for i in range(4000)]
    payload = "id;x;y\n" + "".join(f'"{cell}";{i},5;{i % 7}\n' for i, cell in enumerate(ids))
    assert len(payload) > data.SAMPLE
    table = load(make_project, csv(text=payload), "id_column: id")
    assert table.ids == tuple(ids)
    assert numbers(table, "x")[:2] == [0.5, 1.5]
    assert table.reading == ("';'-separated", "decimal comma")
