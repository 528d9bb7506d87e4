# Two commands on a fresh clone:  make site  (build the site into site/)  and  make test.
# Each creates the virtual environment .venv when it is missing or out of date.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE := node_modules/.installed
# Material's end-of-life notice is known (see README); keep build logs to what matters.
export NO_MKDOCS_2_WARNING := 1
# Reproducible builds: dates in the site (sitemap) come from the last commit, not the clock.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)
ifneq ($(SOURCE_DATE_EPOCH),)
export SOURCE_DATE_EPOCH
endif

.PHONY: site site-mkdocs site-zensical serve test validate offline browser clean zensical lighthouse

# The engine that builds site/: mkdocs (Material for MkDocs) or zensical, Material's successor. The day
# Material stops, `make site ENGINE=zensical` (or ENGINE := zensical here) publishes the same site.
ENGINE ?= mkdocs

site: site-$(ENGINE)

site-mkdocs: $(STAMP)
	$(BIN)/mkdocs build --strict

# site/ is replaced only once Zensical has built the whole site.
site-zensical: zensical
	rm -rf site
	cp -R build/zensical site

serve: $(STAMP)
	$(BIN)/mkdocs serve

validate: $(STAMP)
	$(BIN)/python -m generator validate

test: $(STAMP) browser
	$(BIN)/ruff check generator hooks tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q -n 2 --dist loadfile --ignore=tests/test_lighthouse.py
	$(MAKE) lighthouse

# Lighthouse (mobile) on the home page, the tutorial and a report of the built site: accessibility, best
# practices and SEO >= 95, and every score printed. Alone, after the other tests: its performance score is
# simulated from measured work, which load inflates.
lighthouse: site browser
	$(BIN)/pytest -q -s -p no:xdist tests/test_lighthouse.py

# A copy of the site that works opened from disk (file://), search included, as one zip.
offline: $(STAMP) $(NODE)
	rm -rf build/offline site-offline.zip
	OFFLINE=true $(BIN)/mkdocs build --strict --site-dir build/offline
	cd build/offline && $(abspath $(BIN))/python -m zipfile -c ../../site-offline.zip .
	@echo "site-offline.zip: unzip it anywhere and open index.html"

# What the browser tests need: Debian's Chromium (never a browser download), Java for vnu-jar, and npm's tools.
browser: $(NODE)
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
	@command -v chromium >/dev/null || \
		{ echo "The browser tests need Chromium: run 'apt-get install chromium' as root, then make test."; exit 1; }
	@command -v java >/dev/null || \
		{ echo "The Nu Html Checker needs Java 17: run 'apt-get install openjdk-17-jre-headless', then make test."; exit 1; }

# JavaScript from npm (package.json): iframe-worker for the offline copy; axe-core, vnu-jar (the Nu Html
# Checker, run with the system's Java 17) and lighthouse for tests. No install scripts run: vnu-jar's would
# fetch a Java, and nothing here may download a browser (Lighthouse drives Debian's chromium).
$(NODE): package.json package-lock.json
	PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --silent --ignore-scripts
	touch $(NODE)

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf site build site-offline.zip .venv .pytest_cache .mypy_cache .ruff_cache node_modules

# The same pages built by Zensical (Material's successor, which runs no hooks) into build/zensical/:
# the generator renders them, hooks/zensical_site.py adds the hand-written pages and the configuration
# (Material's look, GLightbox served with the site). tests/test_browser.py checks it as the MkDocs site.
zensical: $(STAMP)
	rm -rf build/zensical build/zensical-docs
	$(BIN)/python -m generator render build/zensical-docs
	$(BIN)/python hooks/zensical_site.py build
	$(BIN)/zensical build --clean --config-file build/zensical.yml
	@echo "build/zensical/: the site as Zensical builds it (open build/zensical/index.html)"
