"""Pages: prepared values -> Markdown, through one Jinja environment over `templates/`.

Templates only place values. Everything that comes from a user (titles, column names,
cells, segment names) is escaped here, before it reaches a template, by `text` (Markdown
and HTML inline text) or `attribute` (an HTML attribute value). Jinja's own syntax in data
is inert: values are inserted, never parsed as templates.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from generator.config import OPTIONS, DatasetConfig
from generator.data import Table
from generator.model import Segmentation
from generator.profiles import Profile
from generator.tutorial import Tutorial

TEMPLATES = "templates"  # the folder of Jinja templates, under the project root
# Python-Markdown's backslash-escapable characters, plus `|` (tables); `<>&` become entities.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")
_UNSAFE_LINK = re.compile(r"\]\(\s*<?\s*(?:javascript|vbscript|data)\s*:", re.IGNORECASE)


@dataclass(frozen=True)
class Image:
    """An image of a page: its file name beside the page, alt text and caption, plain text."""

    src: str
    alt: str
    caption: str


@dataclass(frozen=True)
class Report:
    """Everything one report page shows."""

    config: DatasetConfig
    table: Table
    result: Segmentation
    profiles: tuple[Profile, ...]
    images: tuple[Image, ...]
    versions: dict[str, str]


def environment(root: Path) -> jinja2.Environment:
    """The one Jinja environment over the project's templates: strict about undefined names."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(root / TEMPLATES),
        undefined=jinja2.StrictUndefined,
        # Markdown, not HTML: values are escaped by `text` / `attribute` before they arrive.
        autoescape=False,  # noqa: S701
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


# --- escaping --------------------------------------------------------------------------


def text(value: object) -> str:
    """Untrusted text as literal inline Markdown: no markup, no HTML, one line."""
    flat = " ".join(str(value).split())
    return html.escape(_MARKDOWN_PUNCTUATION.sub(r"\\\1", flat), quote=False)


def code(value: object) -> str:
    """Untrusted text shown as code: inline HTML, since a Markdown code span cannot escape."""
    return f"<code>{text(value)}</code>"


def attribute(value: object) -> str:
    """Untrusted text as the value of a double-quoted HTML attribute."""
    return html.escape(" ".join(str(value).split()), quote=True)


def author_markdown(value: str | None) -> str | None:
    """The site author's Markdown, kept as Markdown but with raw HTML and script links disarmed."""
    if value is None:
        return None
    disarmed = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _UNSAFE_LINK.sub("](#", disarmed)


def number(value: float) -> str:
    """A value for a table: thousands separated, decimals by magnitude (1,234 / 42.7 / 0.42 / 31)."""
    magnitude = abs(value)
    if float(value).is_integer() and magnitude < 1e15:
        return f"{int(value):,}"
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def percent(share: float) -> str:
    return f"{100 * share:.1f}%"


# --- report ---------------------------------------------------------------------------


def report_page(report: Report, env: jinja2.Environment) -> str:
    """The Markdown of one dataset's report."""
    config, result = report.config, report.result
    features = list(config.features)
    centroid_rows = [
        [str(s.number), text(p.name), f"{s.size:,}", percent(s.share)]
        + [number(s.center[f]) for f in features]
        for s, p in zip(result.segments, report.profiles, strict=True)
    ]
    centroid_rows.append(["", "All customers", f"{report.table.rows_used:,}", percent(1.0)]
                         + [number(result.overall[f]) for f in features])
    context = {
        "title": text(config.title),
        "description": author_markdown(config.description),
        "credit": author_markdown(config.credit),
        "summary": text(summary(report)),
        "images": [_image(image) for image in report.images],
        "centroids": {"header": ["Segment", "Name", "Customers", "Share"] + [text(config.label(f)) for f in features],
                      "align": ["---:", ":---", "---:", "---:"] + ["---:"] * len(features),
                      "rows": centroid_rows},
        "profiles": [{"number": p.number, "name": text(p.name), "description": text(p.description)}
                     for p in report.profiles],
        "data": _data_section(report),
        "method": _method_section(report),
        "candidates": _candidates(result) if len(result.candidates) > 1 else None,
        "downloads": {"rows": config.publish_rows},
    }
    return env.get_template("report.md.j2").render(context)


def summary(report: Report) -> str:
    """One line about a report, for the reports index and the page's lead."""
    result, table = report.result, report.table
    largest = max(zip(result.segments, report.profiles, strict=True), key=lambda pair: pair[0].size)
    how = "fixed" if len(result.candidates) == 1 else "chosen by silhouette"
    return (f"{table.rows_used:,} customers, {len(report.config.features)} features, "
            f"{result.k} segments ({how}); the largest is '{largest[1].name}' "
            f"with {percent(largest[0].share)} of customers.")


def map_alt(result: Segmentation, profiles: tuple[Profile, ...], axes: tuple[str, str],
            centres: Sequence[tuple[float, float]], lead: str) -> str:
    """Alt text for a segment map: what it plots, then every segment's size and centre."""
    parts = [f"{lead} for {sum(s.size for s in result.segments):,} customers in {result.k} segments."]
    for segment, profile, (x, y) in zip(result.segments, profiles, centres, strict=True):
        parts.append(f"Segment {segment.number}, {profile.name}: {segment.size:,} customers "
                     f"({percent(segment.share)}), centre at {axes[0]} {number(x)}, {axes[1]} {number(y)}.")
    return " ".join(parts)


def _image(image: Image) -> dict[str, str]:
    # Inside a raw HTML block Markdown is not parsed: HTML escaping alone is right there.
    return {"src": attribute(image.src), "alt": attribute(image.alt), "caption": attribute(image.caption)}


def _data_section(report: Report) -> dict[str, Any]:
    table = report.table
    return {
        "origin": text(table.origin),
        "read": f"{table.rows_read:,}",
        "used": f"{table.rows_used:,}",
        "dropped": [(text(reason), f"{count:,}") for reason, count in table.dropped.items()],
        "notes": [text(note) for note in table.notes],
        "sha256": table.sha256,
        "features": [(code(f), text(report.config.label(f))) for f in report.config.features
                     if report.config.label(f) != f] or None,
        "feature_names": [text(f) for f in report.config.features],
        "id_column": code(report.config.id_column) if report.config.id_column else None,
    }


def _method_section(report: Report) -> dict[str, Any]:
    config, result = report.config, report.result
    return {
        "scale": config.scale,
        "structure": result.structure,
        "k": result.k,
        "reason": text(result.reason),
        "random_state": config.random_state,
        "n_init": config.n_init,
        "inertia": number(result.inertia),
        "silhouette": f"{result.silhouette:.3f}" if result.silhouette is not None else "not defined",
        "sampled": result.silhouette_sampled,
        "versions": [(text(name), text(version)) for name, version in report.versions.items()],
    }


def _candidates(result: Segmentation) -> list[list[str]]:
    return [
        [("**" + str(c.k) + "**") if c.k == result.k else str(c.k), number(c.inertia),
         f"{c.silhouette:.3f}" if c.silhouette is not None else "-"]
        for c in result.candidates
    ]


def reports_index(reports: Sequence[Report], env: jinja2.Environment) -> str:
    """The list of every report with its one-line summary."""
    entries = [{"id": r.config.id, "title": text(r.config.title), "summary": text(summary(r))} for r in reports]
    return env.get_template("reports.md.j2").render(reports=entries)


# --- configuration reference ------------------------------------------------------------


def reference_page(env: jinja2.Environment) -> str:
    """The configuration reference, straight from the schema in `generator.config`."""
    options = [{"key": o.key, "default": o.default, "doc": o.doc} for o in OPTIONS]
    return env.get_template("reference.md.j2").render(options=options)


# --- tutorial ---------------------------------------------------------------------------


def tutorial_page(tutorial: Tutorial, env: jinja2.Environment) -> str:
    """The tutorial, with each snippet's output placed under it."""
    return env.get_template("tutorial.md.j2").render(
        t=tutorial,
        frame=frame_table,
        number=number,
        facts=tutorial.facts,
        plot_alt=attribute(_tutorial_alt(tutorial.centres.shown)),
        trial_alts=[attribute(_tutorial_alt(trial.centres.shown)) for trial in tutorial.trials],
    )


def _tutorial_alt(centres: pd.DataFrame) -> str:
    """Alt text for a tutorial chart, read off the centres table shown beside it."""
    parts = [f"Scatterplot of AnnualSpend against Age for the six customers in {len(centres)} "
             "clusters, each centre marked with a red cross."]
    for cluster, row in centres.iterrows():
        parts.append(f"Cluster {cluster}: {int(row['Customers'])} customers, centre at Age "
                     f"{number(row['Age'])}, AnnualSpend {number(row['AnnualSpend'])}.")
    return " ".join(parts)


def frame_table(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """A DataFrame as header, alignment and rows of escaped cells, index included."""
    header = [text(frame.index.name or "")] + [text(c) for c in frame.columns]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    align = ["---:"] + ["---:" if n else ":---" for n in numeric]
    rows = [[text(index)] + [_cell(v) for v in values]
            for index, values in zip(frame.index, frame.to_numpy(), strict=True)]
    return {"header": header, "align": align, "rows": rows}


def _cell(value: object) -> str:
    if isinstance(value, float):
        return text(f"{value:,.1f}" if not value.is_integer() else f"{value:,.0f}")
    return text(value)
