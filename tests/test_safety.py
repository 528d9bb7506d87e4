"""What the site must not publish or mis-read: personal data, formulas without results,
nullable Parquet columns, and unscaled features of very different spread."""

from __future__ import annotations

import csv
import io

import openpyxl
import pandas as pd
import pytest

from generator.build import analyse, generate
from generator.cache import FOLDER, FolderCache
from generator.config import load_all
from generator.data import load_table
from generator.errors import UserError
from generator.pages import text
from tests.conftest import MakeProject

EMAILS = """\
title: Mail
data:
  contact: [ann@example.com, bob@example.org, cy@example.net, di@example.com, ed@example.org, fi@example.net]
  x: [1, 2, 3, 10, 11, 12]
  y: [1, 1, 2, 10, 11, 10]
id_column: contact
features: [x, y]
n_clusters: 2
"""


def first_column(csv_bytes: bytes) -> list[str]:
    return [row[0] for row in csv.reader(io.StringIO(csv_bytes.decode(), newline=""))]


def files_of(make_project: MakeProject, text: str) -> dict[str, bytes]:
    root = make_project({"mail": text}, cached=True)
    return {f.path: f.content for f in generate(root, FolderCache(root / FOLDER))}


def test_an_id_column_of_e_mail_addresses_is_not_published(make_project: MakeProject) -> None:
    files = files_of(make_project, EMAILS)
    assert first_column(files["reports/mail/assignments.csv"])[0] == "x"
    assert b"example.com" not in files["reports/mail/assignments.csv"]
    page = files["reports/mail/index.md"].decode()
    assert "left out of `assignments.csv`" in page
    assert text("most of its values look like e-mail addresses") in page


def test_publish_personal_publishes_it(make_project: MakeProject) -> None:
    files = files_of(make_project, EMAILS + "publish_personal: true\n")
    assert first_column(files["reports/mail/assignments.csv"])[:2] == ["contact", "ann@example.com"]


@pytest.mark.parametrize("name", ["email", "Phone", "customer_name", "postcode", "Street address"])
def test_an_id_column_named_like_personal_data_is_not_published(make_project: MakeProject, name: str) -> None:
    text = EMAILS.replace("contact", f'"{name}"').replace("ann@example.com, bob@example.org, cy@example.net, "
                                                           "di@example.com, ed@example.org, fi@example.net",
                                                           "a, b, c, d, e, f")
    assert first_column(files_of(make_project, text)["reports/mail/assignments.csv"])[0] == "x"


def test_plain_customer_numbers_are_published(make_project: MakeProject) -> None:
    text = EMAILS.replace("[ann@example.com, bob@example.org, cy@example.net, di@example.com, ed@example.org, "
                          "fi@example.net]", "[1001, 1002, 1003, 1004, 1005, 1006]")
    assert first_column(files_of(make_project, text)["reports/mail/assignments.csv"])[:2] == ["contact", "1001"]


def test_a_feature_named_like_personal_data_is_refused(make_project: MakeProject) -> None:
    root = make_project({"mail": EMAILS.replace("y:", "phone:").replace("[x, y]", "[x, phone]")})
    with pytest.raises(UserError, match=r"features: 'phone' looks like personal data"):
        load_table(root, load_all(root)[0])


def test_publish_rows_false_publishes_no_rows(make_project: MakeProject) -> None:
    files = files_of(make_project, EMAILS + "publish_rows: false\n")
    assert "reports/mail/assignments.csv" not in files
    assert "Row-level data is not published" in files["reports/mail/index.md"].decode()
    assert b"example" not in files["reports/mail/segments.json"]
    assert b"example" not in files["reports/mail/report.html"]


def test_a_formula_without_a_saved_result_is_refused(make_project: MakeProject) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in (["x", "y"], [1, 2], [3, "=A3*2"], [5, 6], [7, 8]):
        sheet.append(row)
    payload = io.BytesIO()
    workbook.save(payload)
    root = make_project({"book": "title: Book\nsource: t.xlsx\nfeatures: [x, y]\nn_clusters: 2\n"},
                        {"t.xlsx": payload.getvalue()})
    with pytest.raises(UserError, match=r"^t\.xlsx: cell B3 holds the formula '=A3\*2' without a saved result"):
        load_table(root, load_all(root)[0])


def test_nullable_parquet_columns_load_with_their_gaps_as_missing(make_project: MakeProject) -> None:
    frame = pd.DataFrame({"x": pd.array([1, 2, None, 10, 11, 12, 13], dtype="Int64"),
                          "y": pd.array([1.0, 1.5, 2.0, 10.0, None, 10.5, 11.0], dtype="Float64")})
    payload = io.BytesIO()
    frame.to_parquet(payload)
    root = make_project({"p": "title: P\nsource: t.parquet\nfeatures: [x, y]\nn_clusters: 2\nmissing: drop\n"},
                        {"t.parquet": payload.getvalue()})
    table = load_table(root, load_all(root)[0])
    assert (table.rows_read, table.rows_used) == (7, 5)
    assert table.features["x"].tolist() == [1.0, 2.0, 10.0, 12.0, 13.0]


def test_unscaled_features_of_very_different_spread_are_flagged(make_project: MakeProject) -> None:
    text = """\
title: Spend
data:
  age: [19, 35, 26, 27, 50, 45, 23, 41]
  spend: [15000, 35000, 18000, 22000, 55000, 48000, 16000, 39000]
features: [age, spend]
n_clusters: 2
scale: none
"""
    root = make_project({"spend": text})
    config = load_all(root)[0]
    report = analyse(config, load_table(root, config))
    check = report.result.scaling
    assert check is not None
    assert (check.widest, check.narrowest) == ("spend", "age")
    table = report.table.features
    assert check.ratio == pytest.approx(table["spend"].std(ddof=0) / table["age"].std(ddof=0))
    page = {f.path: f.content for f in generate(root)}["reports/spend/index.md"].decode()
    assert "Features on very different scales" in page
