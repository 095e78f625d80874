# `make run`: the tracker against the built-in exchange simulator, on embedded defaults.
# `make test`: the whole suite on the PostgreSQL and Redis at 127.0.0.1.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: install run test clean chromium

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# Debian's chromium, for the browser test (Playwright drives it; its own browser download is not used).
chromium: /usr/bin/chromium
/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

run: install
	$(PY) manage.py run_demo

test: install chromium
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(PY) -m pytest

clean:
	rm -rf $(VENV) var
