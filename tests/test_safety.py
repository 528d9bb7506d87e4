"""What the site must not publish or mis-read: personal data, formulas without results,
nullable Parquet columns, and unscaled features of very different spread."""

from __future__ import annotations

import csv
import io
import json
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest

from generator.build import analyse, generate
from generator.cache import FOLDER, FolderCache
from generator.config import load_all
from generator.data import load_table
from generator.errors import UserError
from generator.formats import percent
from generator.migration import hidden_cells
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


def files_of(make_project: MakeProject, text: str, dataset: str = "mail") -> dict[str, bytes]:
    root = make_project({dataset: text}, cached=True)
    return {f.path: f.content for f in generate(root, FolderCache(root / FOLDER))}


def rows_of(make_project: MakeProject, text: str) -> dict[str, bytes]:
    """The files of a project that publishes its rows (`publish_rows: true`)."""
    return files_of(make_project, text + "publish_rows: true\n")


def test_an_id_column_of_e_mail_addresses_is_not_published(make_project: MakeProject) -> None:
    files = rows_of(make_project, EMAILS)
    assert first_column(files["reports/mail/assignments.csv"])[0] == "x"
    assert b"example.com" not in files["reports/mail/assignments.csv"]
    page = files["reports/mail/index.md"].decode()
    assert "left out of `assignments.csv`" in page
    assert text("most of its values look like e-mail addresses") in page


def test_publish_personal_publishes_it(make_project: MakeProject) -> None:
    files = rows_of(make_project, EMAILS + "publish_personal: true\n")
    assert first_column(files["reports/mail/assignments.csv"])[:2] == ["contact", "ann@example.com"]


@pytest.mark.parametrize("name", ["email", "Phone", "customer_name", "postcode", "Street address"])
def test_an_id_column_named_like_personal_data_is_not_published(make_project: MakeProject, name: str) -> None:
    text = EMAILS.replace("contact", f'"{name}"').replace("ann@example.com, bob@example.org, cy@example.net, "
                                                           "di@example.com, ed@example.org, fi@example.net",
                                                           "a, b, c, d, e, f")
    assert first_column(rows_of(make_project, text)["reports/mail/assignments.csv"])[0] == "x"


def test_plain_customer_numbers_are_published(make_project: MakeProject) -> None:
    text = EMAILS.replace("[ann@example.com, bob@example.org, cy@example.net, di@example.com, ed@example.org, "
                          "fi@example.net]", "[1001, 1002, 1003, 1004, 1005, 1006]")
    assert first_column(rows_of(make_project, text)["reports/mail/assignments.csv"])[:2] == ["contact", "1001"]


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
    check = report.result.cautions.scaling
    assert check is not None
    assert (check.widest, check.narrowest) == ("spend", "age")
    table = load_table(root, config).features
    assert check.ratio == pytest.approx(table["spend"].std(ddof=0) / table["age"].std(ddof=0))
    page = {f.path: f.content for f in generate(root)}["reports/spend/index.md"].decode()
    assert "Features on very different scales" in page


# --- safe to publish: no rows by default, small segments' statistics withheld ------------------------


def private_table() -> str:
    """33 customers, ids zero-padded as CDNOW's: two groups of 15 ordinary ones and three very big
    ones, who form a segment of their own (every statistic of theirs lies in BIG's ranges)."""
    rows = ["customer,spend,visits"]
    for i in range(15):
        rows.append(f"{i + 101:06d},{100 + 7 * i},{2 + i % 5}")
        rows.append(f"{i + 201:06d},{300 + 10 * i},{10 + i % 11}")
    rows += [f"VIP-{i:03d},{spend},{visits}" for i, (spend, visits) in enumerate([(90010, 5501), (90250, 5503),
                                                                                   (90400, 5508)])]
    return "\n".join(rows) + "\n"


PRIVATE = ("title: Private\nsource: content/data/private.csv\nid_column: customer\nfeatures: [spend, visits]\n"
           "n_clusters: 3\n")
BIG = {"spend": (90010.0, 90400.0), "visits": (5501.0, 5508.0)}  # the three big customers' values, lowest to highest
NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?!\w)")  # a number as text: 90,250 / 90250.0 / 5503
ID_TOKEN = re.compile(r"[A-Za-z0-9._@+-]+")


def private_files(make_project: MakeProject, extra: str = "") -> dict[str, bytes]:
    root = make_project({"private": PRIVATE + extra}, {"content/data/private.csv": private_table()}, cached=True)
    return {f.path: f.content for f in generate(root, FolderCache(root / FOLDER))}


def private_ids() -> set[str]:
    return {line.split(",")[0] for line in private_table().splitlines()[1:]}


def texts(files: dict[str, bytes]) -> dict[str, str]:
    """Every generated file that is text (pages, downloads, scripts), decoded."""
    return {path: content.decode() for path, content in files.items() if not path.endswith(".png")}


def test_defaults_publish_no_customer_id_anywhere(make_project: MakeProject) -> None:
    files = private_files(make_project)
    assert "reports/private/assignments.csv" not in files
    ids = private_ids()
    leaked = {path: hits for path, text in texts(files).items() if (hits := ids & set(ID_TOKEN.findall(text)))}
    assert not leaked
    page = files["reports/private/index.md"].decode()
    assert "Row-level data is not published for this dataset (`publish_rows: false`)" in page
    assert "To find the segments of your own customers without their rows, run [scorer.sql](scorer.sql)" in page
    assert "the calculator below" in page


def test_a_segment_of_three_customers_publishes_its_size_and_none_of_its_statistics(
        make_project: MakeProject) -> None:
    files = private_files(make_project)
    document = json.loads(files["reports/private/segments.json"])
    (big,) = [s for s in document["segments"] if s["size"] == 3]
    assert big["withheld"] is True
    assert (big["center"], big["median"], big["index"], big["description"]) == (None, None, None, None)
    assert big["name"]
    rule = next(r for r in document["rules"]["segments"] if r["segment"] == big["segment"])
    assert (rule["text"], rule["paths"]) == (None, [])
    # No number anywhere in the report, its downloads or scripts falls in the three customers' range.
    for path, content in texts(files).items():
        for found in NUMBER.findall(content):
            value = float(found.replace(",", ""))
            assert not any(low <= value <= high for low, high in BIG.values()), f"{path}: {found}"
    page = files["reports/private/index.md"].decode()
    assert '!!! info "Statistics withheld"' in page
    assert f"segment {big['segment']}: 3 customers" in page
    row = next(line for line in page.splitlines() if line.startswith(f"| {big['segment']} | "))
    cells = [cell.strip() for cell in row.strip("| ").split(" | ")]
    assert cells[2:6] == ["3", percent(3 / 33), "withheld", "withheld"]
    sql = files["reports/private/scorer.sql"].decode()
    assert f"d{big['segment']}" not in sql.split("-- nearest to a withheld centre")[1]
    assert "null" in page.split('data-model="')[1].split('"')[0]  # the calculator knows no withheld centre
    assert "circled numbers mark the centres of the segments whose statistics are published" in page


def test_a_small_table_withholds_every_segment_and_still_publishes_sizes(make_project: MakeProject) -> None:
    files = files_of(make_project, EMAILS)
    document = json.loads(files["reports/mail/segments.json"])
    assert [s["size"] for s in document["segments"]] == [3, 3]
    assert all(s["withheld"] and s["center"] is None for s in document["segments"])
    assert "reports/mail/scorer.sql" not in files  # it would hold no centre at all
    page = files["reports/mail/index.md"].decode()
    assert "Every segment keeps its number, name, size and share" in page
    assert "segment-calculator" not in page
    assert "no centre is marked: the statistics of every segment are withheld" in page
    assert "circled numbers" not in page


def test_publish_rows_true_publishes_the_rows_as_before(make_project: MakeProject) -> None:
    files = private_files(make_project, "publish_rows: true\n")
    rows = pd.read_csv(io.BytesIO(files["reports/private/assignments.csv"]), dtype={"customer": str})
    assert set(rows["customer"]) == private_ids()
    table = pd.read_csv(io.StringIO(private_table()), dtype={"customer": str}).set_index("customer")
    assert rows.set_index("customer")[["spend", "visits"]].equals(table.loc[rows["customer"]])
    document = json.loads(files["reports/private/segments.json"])
    means = rows.groupby("segment")[["spend", "visits"]].mean()
    for s in document["segments"]:
        assert s["size"] == int((rows["segment"] == s["segment"]).sum())
        if s["center"] is not None:
            assert s["center"] == pytest.approx(means.loc[s["segment"]].to_dict())
    assert sum(s["center"] is None for s in document["segments"]) == 2  # still withheld: the three, and one more


def test_migration_cells_below_the_threshold_read_less_than_it(make_project: MakeProject) -> None:
    from tests.test_purchases import LOG, purchase_log, shop

    log = purchase_log()
    counted = make_project({"shop": shop()}, {LOG: log}, cached=True)
    exact = json.loads({f.path: f.content for f in generate(counted)}["reports/shop/segments.json"])["migration"]
    safe = files_of(make_project, shop(publish_rows="", suppress_below=""), "shop")
    assert "reports/shop/migration.csv" not in safe
    published = json.loads(safe["reports/shop/segments.json"])["migration"]
    for step, truth in zip(published, exact, strict=True):
        for row, true_row in zip(step["counts"], truth["counts"], strict=True):
            for cell, n in zip(row, true_row, strict=True):
                assert cell == ("< 10" if 0 < n < 10 else n) or cell == "withheld", (cell, n)
        # No row or column (whose totals the sizes give) holds a single hidden cell.
        hidden = np.array([[isinstance(cell, str) for cell in row] for row in step["counts"]])
        assert 1 not in hidden.sum(axis=0)
        assert 1 not in hidden.sum(axis=1)
    assert any(cell == "< 10" for step in published for row in step["counts"] for cell in row)
    page = safe["reports/shop/index.md"].decode()
    assert "| < 10 |" in page
    assert 'reads "< 10", not its' in page
    assert "moved most" not in page  # every segment is too small for its centre's move to be published


@pytest.mark.parametrize(
    ("counts", "hidden"),
    [
        ([[50, 3], [12, 40]], [[1, 1], [1, 1]]),  # one small cell: its row and column would give it away
        ([[50, 3, 20], [12, 40, 0], [0, 5, 60], [4, 30, 25]], [[0, 1, 1], [0, 0, 0], [1, 1, 0], [1, 0, 1]]),
        ([[50, 20], [12, 40]], [[0, 0], [0, 0]]),
        ([[3, 4], [5, 6]], [[1, 1], [1, 1]]),
    ],
)
def test_a_flow_table_hides_enough_cells_that_its_totals_give_none_away(counts: list[list[int]],
                                                                        hidden: list[list[int]]) -> None:
    table = np.array(counts)
    assert hidden_cells(table, (table > 0) & (table < 10)).astype(int).tolist() == hidden
