# Two commands on a fresh clone:  make site  (build the site into site/)  and  make test.
# Each creates the virtual environment .venv when it is missing or out of date.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Material's end-of-life notice is known (see README); keep build logs to what matters.
export NO_MKDOCS_2_WARNING := 1
# Reproducible builds: dates in the site (sitemap) come from the last commit, not the clock.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)
ifneq ($(SOURCE_DATE_EPOCH),)
export SOURCE_DATE_EPOCH
endif

.PHONY: site serve test validate clean

site: $(STAMP)
	$(BIN)/mkdocs build --strict

serve: $(STAMP)
	$(BIN)/mkdocs serve

validate: $(STAMP)
	$(BIN)/python -m generator validate

test: $(STAMP)
	$(BIN)/ruff check generator hooks tests
	$(BIN)/mypy
	$(BIN)/pytest -q

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf site .venv .pytest_cache .mypy_cache .ruff_cache
