"""The tutorial's code, run at build time so every number and chart on the page is its output.

Each step is a snippet of plain Python that a reader can copy. Steps run one after another
in one namespace, as cells of a notebook do; like a notebook, a step whose last line is an
expression "shows" that value: a figure becomes an image, a DataFrame a table. Whatever a
step prints is shown under it. Nothing here is written to disk.
"""

from __future__ import annotations

import ast
import contextlib
import io
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from generator.figures import snapshot
from generator.results import Facts, Step, Trial, Tutorial

TRIED_K = (2, 3, 4)

LOAD = '''\
import pandas as pd

data = {
    "CustomerID": [1, 2, 3, 4, 5, 6],
    "Age": [19, 35, 26, 27, 50, 45],
    "AnnualSpend": [15000, 35000, 18000, 22000, 55000, 48000],
}
df = pd.DataFrame(data)
df
'''

FIT = '''\
from sklearn.cluster import KMeans

kmeans = KMeans(n_clusters=2, random_state=42)
df["Cluster"] = kmeans.fit_predict(df[["Age", "AnnualSpend"]])
df
'''

PLOT = '''\
from matplotlib.figure import Figure


def plot_clusters(df, kmeans):
    """Customers coloured by cluster, each centre marked with a cross."""
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.scatter(df["Age"], df["AnnualSpend"], c=df["Cluster"], cmap="viridis", s=80)
    centres = kmeans.cluster_centers_
    ax.scatter(centres[:, 0], centres[:, 1], c="red", marker="X", s=200, label="Centre")
    ax.set_xlabel("Age")
    ax.set_ylabel("Annual Spending ($)")
    ax.set_title(f"{kmeans.n_clusters} clusters")
    ax.legend()
    return fig


plot_clusters(df, kmeans)  # in a script: plot_clusters(df, kmeans).savefig("clusters.png")
'''

CENTRES = '''\
centres = pd.DataFrame(kmeans.cluster_centers_, columns=["Age", "AnnualSpend"])
centres["Customers"] = df["Cluster"].value_counts().sort_index()
centres.round(1)
'''

SCALED = '''\
from sklearn.preprocessing import StandardScaler

scaled = StandardScaler().fit_transform(df[["Age", "AnnualSpend"]])
df["ClusterScaled"] = KMeans(n_clusters=2, random_state=42).fit_predict(scaled)
df
'''

COMPARE = '''\
fig = Figure(figsize=(9, 4), layout="constrained")
left, right = fig.subplots(1, 2)
left.scatter(df["Age"], df["AnnualSpend"], c=df["Cluster"], cmap="viridis", s=80)
left.set_aspect("equal", adjustable="datalim")  # one unit of age = one dollar, as K-Means sees it
left.set_title("Unscaled: the distances K-Means measures")
left.set_xlabel("Age")
left.set_ylabel("AnnualSpend")
right.scatter(scaled[:, 0], scaled[:, 1], c=df["ClusterScaled"], cmap="viridis", s=80)
right.set_aspect("equal", adjustable="datalim")
right.set_title("Standardised")
right.set_xlabel("Age (standard deviations)")
right.set_ylabel("AnnualSpend (standard deviations)")
fig
'''

TRY_K = '''\
kmeans = KMeans(n_clusters={k}, random_state=42)
df["Cluster"] = kmeans.fit_predict(df[["Age", "AnnualSpend"]])
print(f"inertia: {{kmeans.inertia_:,.0f}}")
plot_clusters(df, kmeans)
'''


def run_tutorial() -> Tutorial:
    """Run every snippet in order in one namespace and collect what each shows."""
    namespace: dict[str, Any] = {}
    load = _run(LOAD, namespace)
    fit = _run(FIT, namespace)
    plot, image = _drawn(_run(PLOT, namespace))
    centres = _run(CENTRES, namespace)
    scaled = _run(SCALED, namespace)
    facts = _facts(namespace["df"], namespace["kmeans"])  # the first fit's model; df now has both fits
    compare, comparison = _drawn(_run(COMPARE, namespace))
    trials = []
    for k in TRIED_K:
        step, picture = _drawn(_run(TRY_K.format(k=k), namespace))
        trials.append(Trial(k, step, picture, _run(CENTRES, namespace),
                            float(namespace["kmeans"].inertia_)))
    return Tutorial(load, fit, plot, image, centres, scaled, compare, comparison, tuple(trials), facts)


def _run(code: str, namespace: dict[str, Any]) -> Step:
    """Execute `code` as a notebook cell: statements, then the value of a final expression."""
    tree = ast.parse(code)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    body = ast.Module(body=tree.body[:-1] if last else tree.body, type_ignores=[])
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(body, "<tutorial>", "exec"), namespace)  # noqa: S102 - our own snippets
        shown = eval(compile(ast.Expression(last.value), "<tutorial>", "eval"), namespace) if last else None  # noqa: S307
    if isinstance(shown, pd.DataFrame):
        shown = shown.copy()
    return Step(code, output.getvalue(), shown)


def _drawn(step: Step) -> tuple[Step, bytes]:
    """A step that drew a figure: the step without the figure object, and the figure's PNG."""
    return replace(step, shown=None), snapshot(step.shown)


def _facts(df: pd.DataFrame, kmeans: Any) -> Facts:
    """The numbers the prose quotes, from the unscaled fit (`Cluster`) and the scaled one."""
    age = df["Age"]
    spend = df["AnnualSpend"]
    # How many customers the scaled clustering groups as the unscaled one does (labels aside).
    pairs = pd.crosstab(df["Cluster"], df["ClusterScaled"]).to_numpy()
    return Facts(
        age_range=float(age.max() - age.min()),
        spend_range=float(spend.max() - spend.min()),
        age_std=float(age.std(ddof=0)),
        spend_std=float(spend.std(ddof=0)),
        inertia=float(kmeans.inertia_),
        members={int(c): [int(i) for i in df.loc[df["Cluster"] == c, "CustomerID"]]
                 for c in sorted(df["Cluster"].unique())},
        centres_equal_means=bool(np.allclose(
            kmeans.cluster_centers_,
            df.groupby("Cluster")[["Age", "AnnualSpend"]].mean().sort_index().to_numpy())),
        scaled_agree=int(max(np.trace(pairs), np.trace(pairs[:, ::-1]))),
        customers=len(df),
    )
