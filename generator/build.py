"""The pipeline: dataset files -> validated configs -> tables -> segments -> figures -> pages.

`generate` returns every generated file as bytes in memory; it writes nothing. The MkDocs
hook adds the files to the build, the CLI writes them to a folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from generator import __version__
from generator.config import DatasetConfig, load_all
from generator.data import Table, load_table
from generator.downloads import assignments_csv, segments_json
from generator.figures import Scatter, scatter
from generator.model import segment
from generator.pages import (
    Image,
    Report,
    environment,
    map_alt,
    reference_page,
    report_page,
    reports_index,
    tutorial_page,
)
from generator.profiles import profile
from generator.tutorial import run_tutorial

LIBRARIES = ("scikit-learn", "pandas", "numpy", "matplotlib")


@dataclass(frozen=True)
class GeneratedFile:
    """A file of the site that the build makes: its path under the docs root, and its bytes."""

    path: str
    content: bytes


def validate(root: Path) -> list[Table]:
    """Check every configuration, then every table, without clustering; raise `UserError`."""
    return [load_table(root, config) for config in load_all(root)]


def generate(root: Path) -> list[GeneratedFile]:
    """Every generated page, image and download of the site, in a stable order."""
    # Stage 1: every configuration is valid before any data is read.
    configs = load_all(root)
    # Stage 2: every table loads and parses before anything is clustered.
    tables = [load_table(root, config) for config in configs]
    # Stage 3: segment, name and draw each dataset; write its page and downloads.
    env = environment(root)
    reports: list[Report] = []
    files: list[GeneratedFile] = []
    for config, table in zip(configs, tables, strict=True):
        report, images = _report(config, table)
        reports.append(report)
        folder = f"reports/{config.id}"
        files.append(GeneratedFile(f"{folder}/index.md", report_page(report, env).encode()))
        files += [GeneratedFile(f"{folder}/{name}", content) for name, content in images.items()]
        files.append(GeneratedFile(f"{folder}/segments.json", segments_json(report)))
        if config.publish_rows:
            files.append(GeneratedFile(f"{folder}/assignments.csv", assignments_csv(report)))
    # Stage 4: the pages that span datasets, and the tutorial, run from its own code.
    files.append(GeneratedFile("reports/index.md", reports_index(reports, env).encode()))
    files.append(GeneratedFile("reference/configuration.md", reference_page(env).encode()))
    tutorial = run_tutorial()
    files.append(GeneratedFile("tutorial/index.md", tutorial_page(tutorial, env).encode()))
    files.append(GeneratedFile("tutorial/clusters.png", tutorial.image))
    files += [GeneratedFile(f"tutorial/clusters-k{t.k}.png", t.image) for t in tutorial.trials]
    return files


def _report(config: DatasetConfig, table: Table) -> tuple[Report, dict[str, bytes]]:
    result = segment(table, config)
    profiles = profile(result, config)
    names = [p.name for p in profiles]
    x_name, y_name = config.plot_features
    x_label, y_label = config.label(x_name), config.label(y_name)
    centres = [(s.center[x_name], s.center[y_name]) for s in result.segments]
    images = {"segments.png": scatter(Scatter(
        x=table.features[x_name].to_numpy(), y=table.features[y_name].to_numpy(), labels=result.labels,
        centers=np.array(centres), names=names, xlabel=x_label, ylabel=y_label))}
    described = [Image("segments.png",
                       map_alt(result, profiles, (x_label, y_label), centres,
                               f"Scatterplot of {y_label} (vertical) against {x_label} (horizontal)"),
                       f"Customers by {x_label} and {y_label}, coloured by segment; "
                       "circled numbers mark segment centres.")]
    if result.projection is not None:
        pca = result.projection
        axes = (f"PC1 ({pca.explained[0]:.0%} of variance)", f"PC2 ({pca.explained[1]:.0%} of variance)")
        images["pca.png"] = scatter(Scatter(
            x=pca.points[:, 0], y=pca.points[:, 1], labels=result.labels, centers=pca.centers,
            names=names, xlabel=axes[0], ylabel=axes[1]))
        lead = (f"Map of all {len(config.features)} features reduced to two principal components, "
                f"which together explain {sum(pca.explained):.0%} of their variance,")
        pca_alt = map_alt(result, profiles, ("PC1", "PC2"), [(c[0], c[1]) for c in pca.centers], lead)
        described.append(Image("pca.png", pca_alt,
                               f"All {len(config.features)} features on one map (PCA of the scaled "
                               f"features): PC1 explains {pca.explained[0]:.0%} of the variance, "
                               f"PC2 {pca.explained[1]:.0%}."))
    versions = {"generator": __version__} | {name: metadata.version(name) for name in LIBRARIES}
    return Report(config, table, result, profiles, tuple(described), versions), images
