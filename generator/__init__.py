"""Customer-segment site generator: tables -> K-Means -> figures -> Markdown pages.

The stages run one way, each in the module named after what it produces:
config -> data -> scaling -> kmeans -> measures -> maps -> segmentation -> model ->
profiles -> figures -> pages -> build. Only `build` knows the whole pipeline; the MkDocs hook and the CLI are the
only code that writes anywhere.
"""

__version__ = "0.1.0"
