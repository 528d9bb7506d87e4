"""The site's navigation with every report in it, for both ways the site is built.

mkdocs.yml lists the reports index (`reports/index.md`) once; the reports themselves are generated, so
neither the site author nor mkdocs.yml knows them. The MkDocs hook (segments.py) and Zensical's way in
(zensical_site.py) both expand that entry into a section holding the index and every report, here.
Plain Python: no MkDocs, no generator, so either side imports it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REPORTS_INDEX = "reports/index.md"
REPORT_PAGE = re.compile(r"reports/[^/]+/index\.md")  # reports/<id>/index.md


def with_reports(nav: list[object], pages: Iterable[str]) -> list[object]:
    """`nav` with the reports index expanded into a section holding it and every report among `pages`
    (paths relative to the docs folder), reports in the order of their paths."""
    reports = sorted(page for page in pages if REPORT_PAGE.fullmatch(page))
    expanded: list[object] = []
    for item in nav:
        if isinstance(item, dict) and list(item.values()) == [REPORTS_INDEX]:
            (title,) = item
            item = {title: [REPORTS_INDEX, *reports]}
        expanded.append(item)
    return expanded
