# Two commands do all set-up on a fresh Linux machine with Python 3.11:
#   make demo   — venv, install, embedded Redis + engine + web + simulator; prints the wallboard URL
#   make test   — venv, install (with test extras and Debian chromium), run the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: demo test bench lint chromium clean

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

bench: $(STAMP)
	$(VENV)/bin/pip install --quiet -e '.[bench]'
	for script in bench/*.py; do $(VENV)/bin/python $$script --quick || exit 1; done

clean:
	rm -rf $(VENV) data .pytest_cache
