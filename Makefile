# Two commands do all set-up on a fresh Linux machine with Python 3.11:
#   make demo   — venv, install, embedded Redis + engine + web + simulator; prints the wallboard URL
#   make test   — venv, install (with test extras and Debian chromium), run the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: demo test screenshots bench lint chromium clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(STAMP)
	$(VENV)/bin/livemon demo

test: $(STAMP) chromium
	$(VENV)/bin/pytest

chromium:
	@scripts/ensure-chromium.sh

# Refresh docs/screenshots/ from the page tests (a plain test run saves them to a scratch directory).
screenshots: $(STAMP) chromium
	LIVEMON_UPDATE_SCREENSHOTS=1 $(VENV)/bin/pytest tests/test_wallboard_page.py tests/test_overlay_page.py \
		tests/test_incidents_page.py tests/test_report_page.py

# Short runs of every benchmark; each prints a table and ends with one JSON line (docs/performance.md).
bench: $(STAMP) chromium
	$(VENV)/bin/pip install --quiet -e '.[bench]'
	$(VENV)/bin/python bench/engine.py --events 100000 --memory-hours 1
	$(VENV)/bin/python bench/engine_release.py --ended 50 --live 5
	$(VENV)/bin/python bench/ingest.py --quick
	$(VENV)/bin/python bench/dedup_markers.py --events 50000
	$(VENV)/bin/python bench/sentiment.py --quick
	$(VENV)/bin/python bench/detect.py --quick
	$(VENV)/bin/python bench/detect_delay.py --quick
	$(VENV)/bin/python bench/reorder.py --seeds 10 --minutes 60
	$(VENV)/bin/python bench/report.py --quick
	$(VENV)/bin/python bench/frontend.py --quick
	$(VENV)/bin/python bench/scale.py --quick
	$(VENV)/bin/python bench/soak.py --quick

# ruff and mypy strict over every Python file (versions pinned by the `lint` extra); bench's own imports
# (bytewax) come with its extra. bench/ has no __init__.py, so mypy would name bench/ingest.py `ingest`
# and report "Duplicate module named ingest": `explicit_package_bases` in pyproject.toml names each
# file from the project root instead (`bench.ingest`), so one mypy run checks everything.
lint: $(STAMP)
	$(VENV)/bin/pip install --quiet -e '.[lint,bench]'
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy monitor ingest livemon frontend tests bench

clean:
	rm -rf $(VENV) data .pytest_cache
