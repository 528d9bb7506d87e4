"""Downloads: the machine-readable result (`segments.json`) and the rows (`assignments.csv`)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from generator.data import NUMBER, published_id
from generator.results import Report
from generator.rules import Rules

# OWASP: a cell starting with one of these is a formula to a spreadsheet program.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

CHUNK_ROWS = 20_000  # rows of assignments.csv formatted at a time (small arrays are quick to allocate)
ID_BLOCK_BYTES = 1 << 22  # rows x longest id beyond which a chunk is formatted in halves
MAX_PLACES = 22  # 10**22 is the largest power of ten a float holds exactly
FEW_PLACES = 4  # decimals tried before the long form
POWERS = 10 ** np.arange(20, dtype=np.uint64)  # 10**d for every d a decimal form is written with here
POWERS_OF_TEN = np.array([float(10**d) for d in range(MAX_PLACES + 1)])  # exact
SPLIT = float(2**27 + 1)  # Dekker's: splits a float into two halves of 26 bits
BLANK = 0xFF  # a byte UTF-8 never uses: where a chunk's byte matrix writes nothing
CRLF = np.frombuffer(b"\r\n", dtype=np.uint8)
QUOTED = ',"\r\n'  # `csv.writer` quotes a field holding one of these (and only these, with its defaults)
_QUOTED_BYTES = np.isin(np.arange(256), list(QUOTED.encode()))
_FORMULA_BYTES = np.isin(np.arange(256), list("".join(FORMULA_START).encode()))

FloatArray = NDArray[np.float64]
ByteMatrix = NDArray[np.uint8]  # a row per CSV row
ByteArray = NDArray[np.uint8]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


def segments_json(report: Report) -> bytes:
    """`segments.json`, as DESIGN.md's contract describes it."""
    config, table, result = report.config, report.table, report.result
    document: dict[str, Any] = {
        "dataset": config.id,
        "title": config.title,
        "features": list(config.features),
        "labels": {f: config.label(f) for f in config.features},
        "scale": config.scale,
        "n_clusters": result.k,
        "random_state": config.random_state,
        "n_init": config.n_init,
        "rows": {"read": table.rows_read, "used": table.rows_used,
                 "dropped": table.rows_read - table.rows_used},
        "dropped_because": dict(table.dropped),
        "segments": [
            {"segment": s.number, "name": p.name, "description": p.description, "size": s.size,
             "share": s.share, "center": s.center, "median": s.median,
             "index": {f: (round(v, 1) if v is not None else None) for f, v in p.index.items()},
             "stability": s.stability, "stability_band": s.band}
            for s, p in zip(result.segments, report.profiles, strict=True)
        ],
        "overall_mean": result.overall,
        "inertia": result.inertia,
        "silhouette": result.silhouette,
        "silhouette_sampled": result.silhouette_sampled,
        "stability": result.stability,
        "stability_sampled": result.stability_sampled,
        # Evaluated for a range, and beside a fixed n_clusters as evidence.
        "candidates": [
            {"k": c.k, "inertia": c.inertia, "silhouette": c.silhouette,
             "calinski_harabasz": c.calinski_harabasz, "davies_bouldin": c.davies_bouldin,
             "stability": c.stability, "min_share": c.min_share, "reference_silhouette": c.reference}
            for c in result.candidates
        ],
        "recommendation": {"k": result.recommended, "reason": result.reason, "fixed": result.fixed,
                           "rule": result.choice.rule, "min_segment_share": result.choice.min_share,
                           "passed_over": [asdict(p) for p in result.choice.passed_over]},
        "structure_reasons": list(result.verdict.reasons),
        "knee": result.knee,
        "structure": result.structure,
        "reference_silhouette": result.reference_silhouette,
        "data_sha256": table.sha256,
        "versions": report.versions,
    } | _purchase_fields(report)
    if report.rules is not None:
        document["rules"] = rules_document(report.rules)
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def rules_document(rules: Rules) -> dict[str, Any]:
    """`rules` of segments.json: the contract's keys, and per segment its fidelity and customers matched."""
    return {"fidelity": rules.fidelity, "depth": rules.depth, "segments": [
        {"segment": r.segment, "text": r.text,
         "paths": [[{"feature": c.feature, "op": c.op, "value": c.value} for c in path] for path in r.paths],
         "fidelity": r.fidelity, "matched": r.matched}
        for r in rules.segments]}



def _purchase_fields(report: Report) -> dict[str, Any]:
    """`as_of`, `transactions` (the log), `snapshots` and `migration`, for a report from a purchase log."""
    log, migration = report.purchases, report.migration
    found: dict[str, Any] = {}
    if log is not None:
        found["as_of"] = log.as_of.isoformat()
        found["transactions"] = {"source": log.origin, "customer": log.customer, "rows": log.rows,
                                 "rows_used": log.used, "first": log.first.isoformat(),
                                 "last": log.last.isoformat(), "customers": log.customers,
                                 "not_yet_customers": log.later}
    if migration is not None:
        names = [p.name for p in report.profiles]
        found["snapshots"] = [
            {"date": d.date.isoformat(), "customers": d.customers,
             "segments": [{"segment": s.number, "name": names[s.number], "size": s.size, "center": s.center,
                           "moved": d.moved[s.number] if d.moved is not None else None}
                          for s in d.segments]}
            for d in migration.dates]
        found["migration"] = [
            {"from": f.start.isoformat(), "to": f.end.isoformat(), "rows": [*range(migration.k), "new"],
             "columns": list(range(migration.k)), "counts": f.counts.astype(int).tolist()}
            for f in migration.flows]
    return found


def published_ids(report: Report) -> bool:
    """Whether `assignments.csv` carries the id column: not when it looks personal, unless allowed."""
    return published_id(report.config, report.table) is not None


def migration_csv(report: Report) -> bytes:
    """`migration.csv`: every customer at the last date, then their segment at each snapshot date
    (empty before their first purchase); the customer column only where `assignments.csv` has it."""
    assert report.migration is not None
    migration, table = report.migration, report.table
    columns: dict[str, Any] = {}
    if published_ids(report) and table.ids is not None:
        columns[neutralise(str(report.config.customer_column))] = [neutralise(cell) for cell in table.ids]
    for position, date in enumerate(migration.dates):
        labels = migration.labels[:, position]
        columns[f"segment_{date.date.isoformat()}"] = pd.Series(labels, dtype="Int64").mask(labels < 0)
    written: str = pd.DataFrame(columns).to_csv(index=False, lineterminator="\r\n")
    return written.encode()


def assignments_csv(report: Report) -> bytes:
    """`assignments.csv`: one row per customer used, RFC 4180, formulas neutralised.

    Exactly the bytes of `csv.writer` (defaults, CRLF) writing the header, then for every row the
    id, each feature as `str(int(v))` when v is integral and below 2**53 else `repr(v)`, and the
    segment; made `CHUNK_ROWS` rows at a time, numbers formatted a column at a time.
    """
    config, table, result = report.config, report.table, report.result
    with_ids = published_ids(report) and table.ids is not None
    header = ([str(config.customer_column)] if with_ids else []) + list(config.features) + ["segment"]
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerow([neutralise(name) for name in header])
    output = io.BytesIO()
    output.write(text.getvalue().encode())
    columns = [np.asarray(table.features[f].to_numpy(), dtype=np.float64) for f in config.features]
    labels = np.asarray(result.labels).astype(np.int64)
    for start in range(0, table.rows_used, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, table.rows_used)
        ids = table.ids[start:stop] if with_ids and table.ids is not None else None
        output.write(_rows(ids, [column[start:stop] for column in columns], labels[start:stop]))
    return output.getvalue()


def neutralise(cell: str) -> str:
    """A text cell that a spreadsheet shows as text rather than running as a formula.

    Cells that are plain numbers (`-5`, `+1.5`) stay as they are: they are not formulas.
    """
    if cell.startswith(FORMULA_START) and not re.fullmatch(NUMBER, cell):
        return "'" + cell
    return cell


# --- assignments.csv, a chunk of rows at a time ---------------------------------------------
#
# A chunk is one matrix of bytes, a row per customer, BLANK where nothing is written: the bytes
# that are not BLANK, in order, are its CSV lines. A feature value v is written as the row-by-row
# writer did, `str(int(v))` when integral below 2**53 else `repr(v)`: the fewest significant
# digits that read back as v (the nearest such string if several), positional from 1e-4 to 1e16.
# It is written from integers m and d, as m / 10**d, when it is one of these, else by `repr`:
#
# - integral and below 2**53: its digits (d = 0), `-0.0` being `0`;
# - short: the fewest decimals d with fl(rint(fl(v * 10**d)) / 10**d) == v. While
#   fl(|v| * 10**d) < 2**49, 10**d * ulp(v) < 1/8, so (1) at most one string with d decimals
#   reads back as v; (2) when one does, rint finds it: it lies within 1.5 * 10**d * ulp(v) < 1/2
#   of fl(v * 10**d); (3) the division, of exact operands, rounds as `float()` reads that string.
#   So no string with fewer decimals, nor (a string near v having as many integer digits, give or
#   take one) with fewer significant digits, reads back as v.
# - long: in [1e-4, 2**53), 15 to 17 significant digits. With 10**k exact, X = |v| * 10**k in
#   [10**16, 10**17) is computed exactly as an integer and a fraction in [-1/2, 1/2] (Dekker's
#   product), and so is whether an integer c is within half an ulp of v, times 10**k, of X: whether
#   c / 10**k reads back as v (at exactly half an ulp, iff v's significand is even). That gap is
#   over 1/2 and under 12, so the nearest multiple of 100, of 10 and of 1 to X are the only
#   candidates of 15, 16 and 17 digits, and the nearest integer always reads back. 16 or 17 digits
#   are the fewest when no multiple of 100 is near enough (a shorter string, padded, would be one);
#   15 when the short search finds nothing to 22 decimals, or v >= 2**49 is not integral (then no
#   string of 14 digits reads back). Ties, powers of two, and candidates outside [10**16, 10**17)
#   or with a trailing zero are left to `repr`.


def _rows(ids: Sequence[str] | None, columns: list[FloatArray], labels: NDArray[np.int64]) -> bytes:
    """The CSV lines of one chunk: ids (or none), the feature columns and the labels."""
    fields: list[list[ByteMatrix]] = []
    if ids is not None:
        cells, lengths = _id_bytes(ids)
        if len(ids) > 1 and len(ids) * int(lengths.max()) > ID_BLOCK_BYTES:
            half = len(ids) // 2
            return (_rows(ids[:half], [column[:half] for column in columns], labels[:half])
                    + _rows(ids[half:], [column[half:] for column in columns], labels[half:]))
        fields.append([_ragged(cells, lengths)])
    fields += [_float_cells(column) for column in columns]
    fields.append(_integer_cells(labels))
    comma = np.full((len(labels), 1), ord(","), dtype=np.uint8)
    blocks = [block for field in fields for block in [comma, *field]][1:]
    matrix = np.hstack([*blocks, np.broadcast_to(CRLF, (len(labels), 2))])
    return matrix.tobytes().translate(None, bytes([BLANK]))


def _id_bytes(ids: Sequence[str]) -> tuple[ByteArray, NDArray[np.int64]]:
    """Each id neutralised and quoted as `csv.writer` quotes a field, UTF-8: all bytes, and lengths."""
    joined = np.frombuffer("\0".join(ids).encode(), dtype=np.uint8)
    ends = np.flatnonzero(joined == 0)
    starts = np.concatenate([[0], ends + 1])
    lengths = np.diff(np.concatenate([starts, [len(joined) + 1]])) - 1
    plain = len(ends) == len(ids) - 1 and not _QUOTED_BYTES[joined].any()  # no NUL, nothing to quote
    if plain and not _FORMULA_BYTES[joined[starts[lengths > 0]]].any():
        return joined[joined != 0], lengths
    cells = [_quoted(neutralise(cell)).encode() for cell in ids]
    lengths = np.fromiter(map(len, cells), dtype=np.int64, count=len(cells))
    return np.frombuffer(b"".join(cells), dtype=np.uint8), lengths


def _quoted(cell: str) -> str:
    """A field as `csv.writer` writes it with its default dialect."""
    return '"' + cell.replace('"', '""') + '"' if any(mark in cell for mark in QUOTED) else cell


def _ragged(cells: ByteArray, lengths: NDArray[np.int64]) -> ByteMatrix:
    """Byte strings given end to end with their lengths: a row each, left-aligned, BLANK after."""
    matrix = np.full((len(lengths), int(lengths.max(initial=0))), BLANK, dtype=np.uint8)
    rows = np.repeat(np.arange(len(lengths)), lengths)
    starts = np.cumsum(lengths) - lengths
    matrix[rows, np.arange(len(cells)) - starts[rows]] = cells
    return matrix


def _float_cells(values: FloatArray) -> list[ByteMatrix]:
    """Each value as the row-by-row writer formatted it (see above): blocks of columns, a row per value."""
    mantissa, decimals, known = _decimal_form(values)
    rest = np.flatnonzero(~known)
    mantissa[rest] = 0
    decimals[rest] = 0

    blocks: list[ByteMatrix] = []
    if (mantissa < 0).any():
        blocks.append(np.where(mantissa < 0, ord("-"), BLANK).astype(np.uint8)[:, None])
    unsigned = np.abs(mantissa).astype(np.uint64)
    places = int(decimals.max(initial=0))
    if places:
        # A fraction is written in `places` digits less its trailing zeros: it has none of its own.
        scale = POWERS[decimals]
        whole = unsigned // scale
        point = np.where(decimals > 0, ord("."), BLANK).astype(np.uint8)
        fraction = (unsigned - whole * scale) * POWERS[places - decimals]
        blocks += [_digits(whole), point[:, None], _digits(fraction, places, trailing=True)]
    else:
        blocks.append(_digits(unsigned))
    if rest.size:
        for block in blocks:
            block[rest] = BLANK
        written = np.array(list(map(_number, values[rest].tolist())), dtype=np.bytes_)
        others = np.full((len(values), written.itemsize), BLANK, dtype=np.uint8)
        others[rest] = written.view(np.uint8).reshape(len(rest), written.itemsize)
        others[others == 0] = BLANK  # the padding of shorter strings
        blocks.append(others)
    return blocks


def _decimal_form(values: FloatArray) -> tuple[IntArray, IntArray, BoolArray]:
    """m and d such that m / 10**d is each value as written (see above), and where they were found."""
    mantissa = np.zeros(len(values), dtype=np.int64)
    decimals = np.zeros(len(values), dtype=np.int64)
    magnitude = np.abs(values)
    integral = (values == np.trunc(values)) & (magnitude < 2.0**53)
    mantissa[integral] = values[integral]
    others = ~integral & (magnitude >= 1e-4) & (magnitude < 2.0**53)  # NaN and inf are not below
    # Up to FEW_PLACES decimals; then 15 to 17 digits; then more decimals, for what is left and
    # what the long form found 15 digits for (see above).
    pending = _short_search(values, np.flatnonzero(others & (magnitude < 2.0**49)), FEW_PLACES, mantissa, decimals)
    rows = np.flatnonzero(others & (decimals == 0))
    number, places, found = _long_form(magnitude[rows])
    signed = np.where(values[rows] < 0, -number, number)
    final = found & (number >= 10**15)  # 16 or 17 digits: nothing shorter reads back
    mantissa[rows[final]], decimals[rows[final]] = signed[final], places[final]
    _short_search(values, pending[decimals[pending] == 0], MAX_PLACES, mantissa, decimals, first=FEW_PLACES + 1)
    fifteen = found & ~final & (decimals[rows] == 0)  # nothing shorter found
    mantissa[rows[fifteen]], decimals[rows[fifteen]] = signed[fifteen], places[fifteen]
    known = integral | (decimals > 0)
    # Below 1e-4 `repr` writes an exponent: positional from 10**(d - 4) up.
    lowest = POWERS[np.clip(decimals - 4, 0, len(POWERS) - 1)]
    known &= (decimals <= 4) | ((decimals < len(POWERS)) & (np.abs(mantissa).astype(np.uint64) >= lowest))
    return mantissa, decimals, known


def _short_search(values: FloatArray, pending: IntArray, last: int, mantissa: IntArray, decimals: IntArray,
                  first: int = 1) -> IntArray:
    """Set m and d for the values at `pending` found short (see above) with `first` to `last` decimals.

    Returns the rows still worth searching with more decimals.
    """
    for places in range(first, last + 1):
        if not pending.size:
            break
        candidates = values[pending]
        scaled = candidates * POWERS_OF_TEN[places]
        near = np.rint(scaled)
        eligible = np.abs(scaled) < 2.0**49
        found = eligible & (near / POWERS_OF_TEN[places] == candidates)
        mantissa[pending[found]] = near[found]
        decimals[pending[found]] = places
        pending = pending[eligible & ~found]
    return pending


def _long_form(magnitude: FloatArray) -> tuple[IntArray, IntArray, BoolArray]:
    """m and d of the fewest digits, 15 to 17, that read back as each positive value (see above); where found."""
    significand, exponent = np.frexp(magnitude)  # magnitude = significand * 2**exponent, in [1/2, 1)
    places = np.clip(16 - np.floor(np.log10(magnitude)).astype(np.int64), 0, MAX_PLACES)
    high, low = _product(magnitude, POWERS_OF_TEN[places])
    below = (high < 1e16) | ((high == 1e16) & (low < 0))
    above = (high > 1e17) | ((high == 1e17) & (low >= 0))
    places = np.clip(places + below - above, 0, MAX_PLACES)
    high, low = _product(magnitude, POWERS_OF_TEN[places])
    found = (high >= 1e16) & (high <= 1e17) & (significand != 0.5)
    nearest = np.rint(low)
    fraction = low - nearest  # exact: X = units + fraction
    units = np.where(found, high, 0).astype(np.int64) + np.where(found, nearest, 0).astype(np.int64)
    gap = np.ldexp(POWERS_OF_TEN[places], exponent - 54)  # half an ulp, times 10**k
    even = (magnitude.view(np.int64) & 1) == 0  # the significand's last bit
    # The nearest integer to X is within the gap (> 1/2): 17 digits. Then the nearest multiple of 10
    # and of 100, for 16 and 15 digits, where within it.
    mantissa, digits, tie = units, np.full(len(units), 17), np.abs(fraction) == 0.5
    for width, step in ((16, 10), (15, 100)):
        quotient = units // step
        remainder = units - quotient * step
        up = (remainder > step / 2) | ((remainder == step / 2) & (fraction > 0))
        within = _within(np.where(up, step - remainder, -remainder), fraction, gap, even)
        mantissa = np.where(within, quotient + up, mantissa)
        digits = np.where(within, width, digits)
        tie = np.where(within, np.abs(remainder + fraction) == step / 2, tie)  # or so close a sum rounds to it
    found &= ~tie & (units >= 10**16) & (units < 10**17) & (mantissa % 10 != 0)  # not 10**digits, say
    return mantissa, places - (17 - digits), found


def _product(a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray]:
    """a * b exactly: the rounded product and its error (Dekker), barring overflow."""
    product = a * b
    a_high, a_low = _halves(a)
    b_high, b_low = _halves(b)
    return product, ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low


def _halves(a: FloatArray) -> tuple[FloatArray, FloatArray]:
    """a as the sum of two floats of 26 significant bits (Dekker's split)."""
    scaled = SPLIT * a
    high = scaled - (scaled - a)
    return high, a - high


def _within(offset: IntArray, fraction: FloatArray, gap: FloatArray, even: BoolArray) -> BoolArray:
    """Whether |offset - fraction| <= gap, exactly; at exactly gap only where `even`."""
    a = offset.astype(np.float64)  # small integers: exact
    total = a - fraction
    back = total - a
    error = (a - (total - back)) + (-fraction - back)  # Knuth's two-sum: total + error == a - fraction
    size, excess = np.abs(total), np.where(total < 0, -error, error)
    within: BoolArray = (size < gap) | ((size == gap) & ((excess < 0) | ((excess == 0) & even)))
    return within


def _number(value: float) -> str:
    """One value as the row-by-row writer wrote it."""
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


def _integer_cells(values: NDArray[np.int64]) -> list[ByteMatrix]:
    """Each integer in decimal: blocks of columns, a row per value."""
    sign = np.where(values < 0, ord("-"), BLANK).astype(np.uint8)
    return [sign[:, None], _digits(np.abs(values).astype(np.uint64))]


def _digits(values: NDArray[np.uint64], width: int = 0, *, trailing: bool = False) -> ByteMatrix:
    """Integers right-aligned in `width` columns (enough if 0): leading zeros BLANK, or trailing ones."""
    largest = int(values.max(initial=0))
    width = width or len(str(largest))
    digits = np.empty((width, len(values)), dtype=np.uint8)
    zeros = np.ones(len(values), dtype=bool)  # trailing: no digit but 0 yet
    rest: NDArray[np.unsignedinteger[Any]] = values.astype(np.uint32) if largest < 2**32 else values
    for row in range(width - 1, -1, -1):
        quotient = rest // 10
        digit = rest - quotient * 10
        if trailing:
            zeros &= digit == 0
            blank = zeros
        else:
            blank = rest == 0
        digits[row] = digit
        digits[row] += ord("0")
        if trailing or row < width - 1:
            digits[row][blank] = BLANK
        rest = quotient
    return digits.T
