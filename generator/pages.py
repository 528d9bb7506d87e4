"""Pages: prepared values -> Markdown, through one Jinja environment over `templates/`.

Templates only place values. Everything that comes from a user (titles, column names,
cells, segment names) is escaped here, before it reaches a template: `text` for inline
Markdown, `code` for names shown as code, `attribute` inside raw HTML. Jinja syntax in data
is inert: values are inserted, never parsed as templates.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from generator import recommendation
from generator.config import OPTIONS
from generator.formats import (
    WITHHELD,
    count,
    entry,
    exact,
    fewer_than,
    index,
    number,
    percent,
    plural,
    points,
    score,
    silhouette,
    stability,
    tenths,
)
from generator.illustrations import Image, centre_formats, inertia_texts
from generator.maps import MAP_SAMPLE
from generator.measures import REFERENCE_RUNS, SILHOUETTE_SAMPLE, STABILITY_RUNS, STABILITY_SAMPLE
from generator.migration import largest_moves
from generator.model import SPARK_SAMPLE
from generator.profiles import NOTABLE
from generator.purchases import meanings
from generator.results import Report, Tutorial
from generator.rules import AGREEMENT, DEPTH, LOW_FIDELITY
from generator.scaling import FIT_SAMPLE
from generator.scorer import nearest

TEMPLATES = "templates"  # the folder of Jinja templates, under the project root
# Python-Markdown's backslash-escapable characters, plus `|` (tables).
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")
# Characters that start block syntax of the enabled extensions (`??? note`, `=== "tab"`),
# written as character references, which Markdown leaves alone and HTML shows as the character.
_ENTITIES = {"?": "&#63;", "=": "&#61;"}
# A link destination (inline `](...)` or a reference definition `]: ...`) with a script
# scheme, even with spaces or line breaks inside, which browsers ignore in URLs.
_SCRIPT_LINK = re.compile(
    r"(\]\s*\(\s*<?\s*|\]\s*:\s*<?\s*)("
    + "|".join(r"\s*".join(word) for word in ("javascript", "vbscript", "data"))
    + r")(\s*:)",
    re.IGNORECASE,
)


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
    escaped = html.escape(_MARKDOWN_PUNCTUATION.sub(r"\\\1", flat), quote=False)
    return "".join(_ENTITIES.get(char, char) for char in escaped)


def code(value: object) -> str:
    """Untrusted text shown as code: inline HTML, since a Markdown code span cannot escape."""
    return f"<code>{text(value)}</code>"


def attribute(value: object) -> str:
    """Untrusted text as the value of a double-quoted HTML attribute."""
    return html.escape(" ".join(str(value).split()), quote=True)


def front_matter_title(value: object) -> str:
    """A page title for YAML front matter. MkDocs and the theme place a page's title in
    `<title>`, the navigation and the search index without escaping it, so it arrives here
    HTML-escaped (browsers show the entities as the characters) and JSON-quoted (valid YAML)."""
    return json.dumps(html.escape(" ".join(str(value).split()), quote=False))


def author_markdown(value: str | None) -> str | None:
    """The site author's Markdown, kept as Markdown but disarmed: no raw HTML, no attribute
    lists (`{: onclick=... }`), no script links (inline, reference-style or split by spaces)."""
    if value is None:
        return None
    disarmed = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("{", "\\{")
    # `#javascript:...` is a harmless link to a fragment of the same page.
    return _SCRIPT_LINK.sub(r"\1#\2\3", disarmed)


# --- report ---------------------------------------------------------------------------


def report_page(report: Report, env: jinja2.Environment, *, standalone: bool = False) -> str:
    """The Markdown of one dataset's report; `standalone` for the single-file copy (no tabs,
    no dark-palette images, no links into the rest of the site)."""
    config, result = report.config, report.result
    art = report.illustrations
    withheld = config.withheld(s.size for s in result.segments)
    context = {
        "title": text(config.title),
        "page_title": front_matter_title(config.title),
        "description": author_markdown(config.description),
        "credit": author_markdown(config.credit),
        "summary": text(summary(report)),
        "structure": result.structure,
        "verdict": text(result.evidence.verdict.text),
        "skewed": _skewed(report),
        "outliers": _outliers(report),
        "average_band": "a quarter" if NOTABLE == 0.25 else exact(NOTABLE),
        "maps": [_image(image) for image in art.maps],
        "centroids": _centroids(report),
        "indices": _indices(report),
        "profiles": [{"number": p.number, "name": text(p.name), "band": s.band, "stability": stability(s.stability)}
                     | ({"description": "Its statistics are withheld (see above).", "rule": None,
                         "rule_fidelity": None}
                        if p.number in withheld else {"description": text(p.description)} | _rule(report, p.number))
                     for s, p in zip(result.segments, report.profiles, strict=True)],
        "withheld": _withheld(report),
        "rules": _rules(report),
        "calculator": _calculator(report),
        "distributions": _image(art.distributions),
        "profile_chart": _image(art.profiles),
        "choosing": _choosing(report),
        "scaling": _scaling(report),
        "data": _data_section(report),
        "method": _method_section(report),
        "downloads": {"rows": config.publish_rows, "scorer": report.scorer is not None,
                      "below": count(config.suppress_below) if config.suppress_below > 1 else None},
        "standalone": standalone,
        "transactions": _transactions(report),
        "migration": _migration(report),
    }
    return env.get_template("report.md.j2").render(context)


def summary(report: Report) -> str:
    """One line about a report, for the reports index and the page's lead."""
    result, table = report.result, report.table
    largest = max(zip(result.segments, report.profiles, strict=True), key=lambda pair: pair[0].size)
    how = "fixed" if result.evidence.fixed else "recommended"
    verdict = {"clear": "clear structure", "weak": "weak structure", "none": "no clear structure"}
    return (f"{plural(table.rows_used, 'customer')}, {len(report.config.features)} features, "
            f"{result.k} segments ({how}; {verdict[result.structure]}); the largest is "
            f"'{largest[1].name}' with {percent(largest[0].share)} of customers.")


def _image(image: Image) -> dict[str, Any]:
    # Inside a raw HTML block Markdown is not parsed: HTML escaping alone is right there.
    data = None
    if image.data:
        header, *rows = image.data
        data = {"header": [text(cell) for cell in header], "align": ["---:"] * len(header),
                "rows": [[text(cell) for cell in row] for row in rows]}
    return {"src": attribute(image.src), "dark": attribute(image.dark_src), "alt": attribute(image.alt),
            "caption": attribute(image.caption), "data": data}


def _table(header: list[str], align: list[str], columns: list[list[str]]) -> dict[str, Any]:
    rows = [list(row) for row in zip(*columns, strict=True)]
    return {"header": header, "align": align, "rows": rows}


def _centroids(report: Report) -> dict[str, Any]:
    config, result, table = report.config, report.result, report.table
    features = list(config.features)
    segments = result.segments
    columns = [
        [str(s.number) for s in segments] + [""],
        [text(p.name) for p in report.profiles] + ["All customers"],
        [count(s.size) for s in segments] + [count(table.rows_used)],
        [percent(s.share) for s in segments] + [percent(1.0)],
    ]
    shown = centre_formats(config, result)
    withheld = config.withheld(s.size for s in segments)
    columns += [[WITHHELD if s.number in withheld else shown[f](s.center[f]) for s in segments]
                + [shown[f](result.population.overall[f])] for f in features]
    header = ["Segment", "Name", "Customers", "Share"] + [text(config.label(f)) for f in features]
    return _table(header, ["---:", ":---", "---:", "---:"] + ["---:"] * len(features), columns)


def _indices(report: Report) -> dict[str, Any]:
    config = report.config
    features = list(config.features)
    columns = [[str(p.number) for p in report.profiles], [text(p.name) for p in report.profiles]]
    withheld = config.withheld(s.size for s in report.result.segments)
    for f in features:
        columns.append([WITHHELD if p.number in withheld else index(p.index[f]) for p in report.profiles])
    header = ["Segment", "Name"] + [text(config.label(f)) for f in features]
    return _table(header, ["---:", ":---"] + ["---:"] * len(features), columns)


def _choosing(report: Report) -> dict[str, Any]:
    result = report.result
    cands = result.evidence.candidates
    passed = {p.k for p in result.evidence.choice.passed_over}
    marked = [f"**{c.k}**" if c.k == result.k else f"{c.k} (passed over)" if c.k in passed else str(c.k)
              for c in cands]
    columns = [marked, inertia_texts(result), [silhouette(c.silhouette) for c in cands],
               [number(c.calinski_harabasz) if c.calinski_harabasz is not None else "-" for c in cands],
               [silhouette(c.davies_bouldin) for c in cands], [percent(c.min_share) for c in cands],
               [stability(c.stability) for c in cands]]
    header = ["k", "Inertia", "Silhouette", "Calinski-Harabasz", "Davies-Bouldin", "Smallest segment", "Stability"]
    return {
        "reason": text(result.evidence.reason),
        "fixed": result.evidence.fixed,
        "chart": _image(report.illustrations.diagnostics),
        "table": _table(header, ["---:"] * len(header), columns),
        "candidates": _image(report.illustrations.candidates),
        "knee": result.evidence.knee,
        "reference": silhouette(result.reference_silhouette),
        "min_share": percent(result.evidence.choice.min_share),
        "stable": stability(recommendation.STABLE_ARI),
        "runs": count(STABILITY_RUNS),
        "silhouette_sampled": result.evidence.silhouette_sampled,
        "silhouette_sample": count(SILHOUETTE_SAMPLE),
        "stability_sampled": result.evidence.stability_sampled,
        "stability_sample": count(STABILITY_SAMPLE),
        "fit_sampled": 0 < result.population.fitted < result.population.rows,
        "fitted": count(result.population.fitted),
        "engine": "Spark MLlib" if report.config.engine == "spark" else "",
    }


def _scaling(report: Report) -> dict[str, Any] | None:
    check = report.result.cautions.scaling
    if check is None:
        return None
    label = report.config.label
    return {"widest": text(label(check.widest)), "narrowest": text(label(check.narrowest)),
            "ratio": number(round(check.ratio)), "agreement": stability(check.agreement),
            "moved": plural(check.moved, "customer")}


def _transactions(report: Report) -> dict[str, Any] | None:
    """The purchase log a report's customers come from, and how each feature was derived."""
    log, config = report.purchases, report.config
    if log is None:
        return None
    return {
        "as_of": log.as_of.isoformat(),
        "origin": text(log.origin),
        "customer": code(log.customer),
        "rows": plural(log.rows, "row"),
        "used": count(log.used),
        "first": log.first.isoformat(),
        "last": log.last.isoformat(),
        "customers": plural(log.customers, "customer"),
        "later": plural(log.later, "customer") if log.later else None,
        "line_items": (code(config.transactions.quantity), code(config.transactions.price))
        if config.transactions is not None and config.transactions.amount is None else None,
        "blank": ", ".join(f"{plural(rows, 'row')} without {'an' if role == 'amount' else 'a'} {role}"
                           for role, rows in log.left_out.blank if rows),
        "returns": plural(log.left_out.returns, "return row") if log.left_out.returns else None,
        "returns_only": plural(log.returns_only, "person", "people") if log.returns_only else None,
        "derived": [(code(feature), text(config.label(feature)), text(meaning))
                    for feature, meaning in meanings(config)],
    }


def _migration(report: Report) -> dict[str, Any] | None:
    """Segments across the snapshot dates: the chart, one table per pair of dates, the largest moves."""
    migration = report.migration
    if migration is None:
        return None
    k = migration.k
    names = [p.name for p in report.profiles]
    below = report.config.suppress_below

    def row_name(row: int) -> str:
        return "Not yet a customer" if row == k else f"{row}: {text(names[row])}"

    tables = []
    for flow in migration.flows:
        header = [f"{flow.start.isoformat()} (rows) to {flow.end.isoformat()} (columns)",
                  *(f"{j}: {text(names[j])}" for j in range(k))]
        shown = flow.shown(below)
        columns = [[row_name(i) for i in range(k + 1)]] + [[_cell_text(shown[i][j]) for i in range(k + 1)]
                                                           for j in range(k)]
        tables.append({"start": flow.start.isoformat(), "end": flow.end.isoformat(),
                       "table": _table(header, [":---"] + ["---:"] * k, columns)})
    moves = [f"{plural(n, 'customer')} moved from {'not yet a customer' if i == k else f'segment {i}'} to segment "
             f"{j} between {f.start.isoformat()} and {f.end.isoformat()}"
             for f, i, j, n in largest_moves(migration, below=below)]
    sizes = _table(["Date", "Customers", *(f"{j}: {text(names[j])}" for j in range(k))], ["---:"] * (k + 2),
                   [[d.date.isoformat() for d in migration.dates], [count(d.customers) for d in migration.dates]]
                   + [[count(d.segments[j].size) for d in migration.dates] for j in range(k)])
    moved = []
    for before, d in zip(migration.dates, migration.dates[1:], strict=False):
        assert d.moved is not None
        # A withheld centre's move is withheld too (segments too small at either date).
        kept = [j for j in range(k) if not (report.config.withholds(d.segments[j].size)
                                             or report.config.withholds(before.segments[j].size))]
        if not kept:
            continue
        distances = d.moved
        far = max(kept, key=lambda j: (distances[j], -j))
        moved.append({"date": d.date.isoformat(), "largest": number(round(distances[far], 2)), "segment": far,
                      "mean": number(round(float(np.mean([distances[j] for j in kept])), 2))})
    return {
        "dates": [d.date.isoformat() for d in migration.dates],
        "k": k,
        "chart": _image(report.illustrations.flows) if report.illustrations.flows is not None else None,
        "tables": tables,
        "sizes": sizes,
        "moves": [text(m) for m in moves],
        "moved": moved,
        "published": report.config.publish_rows,
        "suppressed": fewer_than(below) if any(0 < n < below for f in migration.flows for n in f.counts.ravel())
        else None,
        "secondary": any(cell == WITHHELD for f in migration.flows for row in f.shown(below) for cell in row),
        "below": count(below),
    }


def _cell_text(cell: int | str) -> str:
    """A published count of customers, or what stands for a withheld one ("< 10", "withheld")."""
    return count(cell) if isinstance(cell, int) else cell


def _skewed(report: Report) -> str | None:
    """Heavily skewed features under standard scaling, each with its numbers (the report suggests `scale: log`)."""
    found = report.result.cautions.skewed
    if not found:
        return None
    label = report.config.label
    # A maximum is one customer's own value: published only where a figure of one customer may be.
    listed = "; ".join(f"{label(s.feature)} (skewness {score(s.skewness, 1)}"
                       + (f", maximum {number(s.maximum)} against a median of {number(s.median)})"
                          if not report.config.withholds(1) else f", median {number(s.median)})")
                       for s in found)
    return text(f"Standard scaling keeps the long tail of heavily skewed features, so a few customers far out "
                f"decide their distances: {listed}.")


def _outliers(report: Report) -> str | None:
    """The shown k's segments under `min_segment_share`, with their sizes, and the keys that change them."""
    config, result = report.config, report.result
    small = [s for s in result.segments if s.share < config.min_segment_share]
    if not small:
        return None
    floor = percent(config.min_segment_share)
    sizes = "; ".join(f"segment {s.number} holds {plural(s.size, 'customer')} ({percent(s.share)})" for s in small)
    evidence = result.evidence
    why = ("the configuration fixes k (n_clusters)" if evidence.fixed
           else f"every k from {evidence.candidates[0].k} to {evidence.candidates[-1].k} has a segment under it")
    return text(f"Of {plural(result.population.rows, 'customer')}, {sizes}: under the {floor} of customers that a "
                f"recommended k's segments must hold, kept because {why}.")


def _data_section(report: Report) -> dict[str, Any]:
    table, config = report.table, report.config
    return {
        "origin": text(table.origin),
        "reading": text(", ".join(table.reading)),
        "read": count(table.rows_read),
        "used": count(table.rows_used),
        "dropped": [(text(reason), count(rows)) for reason, rows in table.dropped.items()],
        "notes": [text(note) for note in table.notes],
        "sha256": table.sha256,
        "feature_names": [text(f) for f in config.features],
        "labelled": [(code(f), text(config.label(f))) for f in config.features if config.label(f) != f],
        "id_column": code(config.customer_column) if config.customer_column else None,
        "withheld": text(table.personal) if table.personal and not config.publish_personal else None,
        "published": config.publish_rows,
    }


def _method_section(report: Report) -> dict[str, Any]:
    config, result = report.config, report.result
    return {
        "scale": config.scale,
        "random_state": config.random_state,
        "n_init": config.n_init,
        "inertia": number(result.inertia),
        "silhouette": silhouette(result.silhouette),
        "versions": [(text(name), text(version)) for name, version in report.versions.items()],
    }


def _numbers(segments: frozenset[int]) -> str | None:
    """'segment 3', 'segments 2 and 3': the withheld segments, for a sentence; None for none."""
    if not segments:
        return None
    listed = [str(s) for s in sorted(segments)]
    both = listed[0] if len(listed) == 1 else f"{', '.join(listed[:-1])} and {listed[-1]}"
    return f"segment{'s' if len(listed) > 1 else ''} {both}"


def _withheld(report: Report) -> dict[str, Any] | None:
    """The one place a report says which segments' statistics are withheld, and why."""
    config, segments = report.config, report.result.segments
    withheld = config.withheld(s.size for s in segments)
    if not withheld:
        return None
    small = frozenset(s.number for s in segments if config.withholds(s.size))
    secondary = _numbers(withheld - small)
    everything = len(withheld) == len(segments)
    sizes = "; ".join(f"segment {s.number}: {plural(s.size, 'customer')}" for s in segments if s.number in withheld)
    many = len(withheld) > 1
    parts = [f"{'Every segment' if everything else str(_numbers(withheld)).capitalize()} "
             f"{'keep their' if many and not everything else 'keeps its'} number, name, size and share, but "
             f"{'their' if many and not everything else 'its'} statistics are withheld ({sizes})."]
    if small:
        parts.append(f"A segment of fewer than {count(config.suppress_below)} customers (suppress_below) would publish "
                     "figures close to its customers' own values (the threshold rule of statistical disclosure "
                     "control).")
    if secondary:
        parts.append(f"{secondary.capitalize()} is withheld as well: the overall average, less the published "
                     "centres, would otherwise give the small segments' centre away.")
    parts.append("A withheld centre, percentile, index, profile or rule appears nowhere in this report or its "
                 "downloads, and the maps draw these customers without a centre marker.")
    if not everything:
        parts.append("The calculator and scorer.sql do not know a withheld centre: they place a customer nearest "
                     "to one in the nearest published segment.")
    return {"text": text(" ".join(parts)), "all": everything}


def _rule(report: Report, segment: int) -> dict[str, Any]:
    """A segment's rule beside its description: its text, and the share of its customers it matches."""
    if report.rules is None:
        return {"rule": None, "rule_fidelity": None}
    rule = report.rules.segments[segment]
    return {"rule": text(rule.text), "rule_fidelity": percent(rule.recall) if rule.paths else None}


def _rules(report: Report) -> dict[str, Any] | None:
    rules = report.rules
    if rules is None:
        return None
    shortened = [r for r in rules.segments if r.short is not None]
    return {"fidelity": percent(rules.fidelity), "low": rules.low, "threshold": percent(LOW_FIDELITY),
            "depth": count(DEPTH), "agreement": points(AGREEMENT), "shortened": len(shortened),
            "conditions": count(sum(sum(len(p) for p in r.paths) for r in rules.segments)),
            "said": count(sum(r.conditions for r in rules.segments))}


def _calculator(report: Report) -> dict[str, Any] | None:
    """The calculator's fields prefilled with the average customer, the segment of those values,
    and the model the script applies (JSON, HTML-escaped for a `data-` attribute)."""
    config, result = report.config, report.result
    if result.scoring is None or result.scoring.centers.shape != (result.k, len(config.features)):
        return None
    affine, centers = result.scoring.affine, result.scoring.centers
    withheld = config.withheld(s.size for s in result.segments)
    if len(withheld) == result.k:
        return None
    prefill = [entry(result.population.overall[f]) for f in config.features]
    names = [p.name for p in report.profiles]
    start = nearest([float(v) for v in prefill], affine, centers, withheld)
    # A withheld centre is null: the script skips it, as `nearest` does (suppress_below).
    model = {"shift": list(affine.shift), "width": list(affine.width), "log": affine.log,
             "centers": [None if s in withheld else c for s, c in enumerate(centers.tolist())], "names": names}
    fields = [{"id": f"segment-calculator-{j}", "name": attribute(f), "label": attribute(config.label(f)),
               "value": value} for j, (f, value) in enumerate(zip(config.features, prefill, strict=True))]
    return {"fields": fields, "inputs": " ".join(f["id"] for f in fields),
            "model": html.escape(json.dumps(model, ensure_ascii=True, separators=(",", ":")), quote=True),
            "segment": start, "shown": attribute(f"Segment {start}: {names[start]}"),
            "withheld": (f"The centre{'s' if len(withheld) > 1 else ''} of {_numbers(withheld)} "
                         f"{'are' if len(withheld) > 1 else 'is'} withheld, so the calculator places a customer "
                         f"nearest to {'one' if len(withheld) > 1 else 'it'} in the nearest published segment.")
            if withheld else None}


def reports_index(reports: list[Report], env: jinja2.Environment) -> str:
    """The list of every report with its one-line summary."""
    entries = [{"id": r.config.id, "title": text(r.config.title), "summary": text(summary(r))} for r in reports]
    return env.get_template("reports.md.j2").render(reports=entries)


# --- configuration reference ------------------------------------------------------------


def reference_page(env: jinja2.Environment) -> str:
    """The configuration reference and the rule for choosing k, from the code that applies them."""
    options = [{"key": o.key, "default": o.default, "doc": o.doc} for o in OPTIONS]
    rule = {
        "min_share": percent(recommendation.MIN_SHARE),
        "stable": exact(recommendation.STABLE_ARI),
        "runs": count(STABILITY_RUNS),
        "stability_sample": count(STABILITY_SAMPLE),
        "silhouette_sample": count(SILHOUETTE_SAMPLE),
        "none_silhouette": exact(recommendation.NO_STRUCTURE_SILHOUETTE),
        "clear_silhouette": exact(recommendation.CLEAR_SILHOUETTE),
        "min_gap": exact(recommendation.MIN_GAP),
        "reach_sd": exact(recommendation.REACH_SD),
        "clear_reaches": ("twice" if recommendation.CLEAR_REACHES == 2
                          else f"{exact(recommendation.CLEAR_REACHES)} times"),
        "reference_runs": count(REFERENCE_RUNS),
        "noise_sd": "one" if recommendation.NOISE_SD == 1 else exact(recommendation.NOISE_SD),
        "dissolved": exact(recommendation.DISSOLVED),
        "bands": _bands(),
        "fit_sample": count(FIT_SAMPLE),
        "map_sample": count(MAP_SAMPLE),
        "spark_sample": count(SPARK_SAMPLE),
        "rules_depth": count(DEPTH),
        "low_fidelity": percent(LOW_FIDELITY),
    }
    return env.get_template("reference.md.j2").render(options=options, rule=rule)


def _bands() -> list[tuple[str, str]]:
    """Hennig's bands as rows of the reference page: (range of Jaccard, reading)."""
    (unstable, first), (doubtful, second), (stable, third), (_, top) = recommendation.BANDS
    low, mid, high = stability(unstable), stability(doubtful), stability(stable)
    return [(f"below {low}", first), (f"{low} to below {mid}", second), (f"{mid} to {high}", third),
            (f"above {high}", top)]


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
        comparison_alt=attribute(_comparison_alt(tutorial)),
    )


def _tutorial_alt(centres: pd.DataFrame) -> str:
    """Alt text for a tutorial chart, read off the centres table shown beside it."""
    parts = [f"Scatterplot of AnnualSpend against Age for the six customers in {len(centres)} "
             "clusters, each centre marked with a red cross."]
    for cluster, row in centres.iterrows():
        parts.append(f"Cluster {cluster}: {plural(int(row['Customers']), 'customer')}, centre at Age "
                     f"{number(row['Age'])}, AnnualSpend {number(row['AnnualSpend'])}.")
    return " ".join(parts)


def _comparison_alt(tutorial: Tutorial) -> str:
    facts = tutorial.facts
    return (f"Two panels of the six customers. Left, as unscaled K-Means measures distance, with both "
            f"axes in the same units: Age spans only {number(facts.age_range)} of the "
            f"{number(facts.spend_range)} units on the spending axis, so the points form a vertical "
            f"line. Right, standardised: both features spread over a few standard deviations. "
            f"{facts.scaled_agree} of {facts.customers} customers keep the same companions.")


def frame_table(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """A DataFrame as header, alignment and rows of escaped cells, index included."""
    header = [text(frame.index.name or "")] + [text(c) for c in frame.columns]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    align = ["---:"] + ["---:" if n else ":---" for n in numeric]
    rows = [[text(index)] + [_cell(v) for v in values]
            for index, values in zip(frame.index, frame.to_numpy(), strict=True)]
    return {"header": header, "align": align, "rows": rows}


def _cell(value: object) -> str:
    return text(tenths(value) if isinstance(value, float) else value)
