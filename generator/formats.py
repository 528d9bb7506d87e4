"""Numbers as people read them: thousands separated, decimals by magnitude.

The one module that turns a number into text for people (pages, charts, alt text, downloads, error
lines); tests/test_architecture.py fails when another module writes a number with its own format spec.
Dates are not numbers here: they are written as ISO dates (`date.isoformat()`) wherever they appear."""

from __future__ import annotations

from collections.abc import Callable, Sequence

# (smallest magnitude, decimals): 1,234 / 42.7 / 0.42
_DECIMALS = ((1000.0, 0), (10.0, 1), (0.0, 2))


def decimals_for(magnitude: float) -> int:
    """Decimals for a value of this size; a value that rounds up into the next size takes that
    size's decimals (9.996 is shown as 10.0, 999.96 as 1,000)."""
    size = abs(magnitude)
    natural = next(i for i, (limit, _) in enumerate(_DECIMALS) if size >= limit)
    if natural > 0:
        limit, _ = _DECIMALS[natural - 1]
        if round(size, _DECIMALS[natural][1]) >= limit:
            return _DECIMALS[natural - 1][1]
    return _DECIMALS[natural][1]


def number(value: float) -> str:
    """One value: whole numbers without decimals, others with decimals by magnitude."""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.{decimals_for(value)}f}"


def column(values: Sequence[float]) -> list[str]:
    """A column of values with the same decimals, chosen by its largest magnitude."""
    if all(float(v).is_integer() and abs(v) < 1e15 for v in values):
        return [f"{int(v):,}" for v in values]
    decimals = decimals_for(max(abs(v) for v in values))
    return [f"{v:,.{decimals}f}" for v in values]


def percent(share: float) -> str:
    return f"{100 * share:.1f}%"


def plural(count: int, word: str, many: str | None = None) -> str:
    """'1 customer', '2 customers' (thousands separated); `many` for an irregular plural ('people')."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def count(value: int, below: int = 0) -> str:
    """A count (customers, rows, ids, a sample's size): '1,234', or '< 10' when it is 1 to `below` - 1
    (too few to publish, `suppress_below`); 0 stays 0 (nobody is no one's figure)."""
    return fewer_than(below) if 0 < value < below else f"{value:,}"


def fewer_than(below: int) -> str:
    """What a withheld count shows: '< 10'."""
    return f"< {below:,}"


WITHHELD = "withheld"  # what a table cell, an alt text or a download shows for a withheld statistic


def exact(value: float) -> str:
    """A value exactly as stored, thousands separated: a rule's threshold (12,000 / 2,345.5), a constant
    of the method as the code sets it (0.25, 2), a value an error line quotes."""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,}"


def tenths(value: float) -> str:
    """A value to one decimal, a whole value without (1,234 / 42.5): a cell of the tutorial's tables,
    which show the frames its code prints, rounded as its code rounds them."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def points(share: float) -> str:
    """A difference of shares in percentage points, without decimals it does not have: 0.02 -> '2'."""
    return tick(round(100 * share, 6))


def duration(seconds: float) -> str:
    """A duration for a progress line: '12.3 s'."""
    return f"{seconds:,.1f} s"


def byte(value: int) -> str:
    """A byte of a file, as a hex editor shows it: 0xe9."""
    return f"0x{value:02x}"


def entry(value: float) -> str:
    """A value to prefill a form's number field: decimals by magnitude, no separators."""
    return f"{value:.{decimals_for(value)}f}"


def score(value: float | None, digits: int = 2) -> str:
    """A measure from -1 to 1 (silhouette, adjusted Rand index, Jaccard): fixed decimals, "-" when
    undefined. Each measure keeps one number of digits on every page, chart and alt text."""
    return f"{value:.{digits}f}" if value is not None else "-"


SILHOUETTE_DIGITS = 3  # silhouettes and the Davies-Bouldin index: 0.686
STABILITY_DIGITS = 2  # adjusted Rand indices and Jaccard agreements: 0.91


def silhouette(value: float | None) -> str:
    """A silhouette (or its structureless reference), as every page and chart shows it."""
    return score(value, SILHOUETTE_DIGITS)


def stability(value: float | None) -> str:
    """A stability (adjusted Rand index or Jaccard agreement), as every page and chart shows it."""
    return score(value, STABILITY_DIGITS)


def index(value: float | None) -> str:
    """An index against the average customer (100 = average), "-" when the average is 0."""
    return f"{value:,.0f}" if value is not None else "-"


def signed(value: float) -> str:
    """A distance from the average in standard deviations: +1.25, -0.40, 0.00 (never "-0.00")."""
    shown = f"{value:+.2f}"
    return "0.00" if shown in ("+0.00", "-0.00") else shown


def tick(value: float) -> str:
    """An axis tick label: thousands separated like the tables, no trailing zeros (0.5, 70,000)."""
    if value == 0:
        return "0"
    shown = f"{value:,.6f}".rstrip("0").rstrip(".")
    return "0" if shown in ("-0", "") else shown


def formatter(values: Sequence[float]) -> Callable[[float], str]:
    """The formatting of `column(values)` for any value of that column: a centre reads the same
    in the centroid table, in a chart's data table and in alt text."""
    if all(float(v).is_integer() and abs(v) < 1e15 for v in values):
        return number
    decimals = decimals_for(max(abs(v) for v in values))
    return lambda v: f"{v:,.{decimals}f}"
