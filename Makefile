# The command surface. README and CI call these targets and nothing else.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
# Chromium's headless shell (the same Blink, without the desktop browser), which the browser tests drive.
HEADLESS_CHROMIUM := /usr/lib/chromium/chromium-headless-shell
# Debian's tools the tests read the site with: Chromium (Lighthouse in the benchmark) and its headless shell
# (the tests), poppler (PDF text and pixels) and Java (the Nu checker).
SYSTEM_TOOLS := $(CHROMIUM) $(HEADLESS_CHROMIUM) /usr/bin/pdftotext /usr/bin/java
AXE := node_modules/axe-core/axe.min.js
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# Python keeps compiled modules in __pycache__/ (git ignores them). Where the environment turns that off,
# every build, and every process of the test suite, compiles our modules and tests again (0.06 s a build).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: serve build release offline test bench check lint lock clean

serve: $(INSTALLED)  ## render and serve at http://127.0.0.1:8000 with live reload
	$(BIN)/python build.py --serve

ENGINE ?= mkdocs
build: $(INSTALLED)  ## render and write the static site to site/ (ENGINE=properdocs or ENGINE=zensical to switch)
	$(BIN)/python build.py --site --engine $(ENGINE)

release: $(INSTALLED)  ## build site/ for publishing: refuses the placeholder address (set SITE_URL or url)
	RELEASE=1 $(BIN)/python build.py --site --engine $(ENGINE)

offline: $(INSTALLED)  ## write site-offline.zip, a copy of the site that works from the file system
	$(BIN)/python build.py --offline site-offline.zip

test: $(INSTALLED) $(SYSTEM_TOOLS) $(AXE)  ## lint and type-check, then every test (browser tests use Debian's Chromium)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest --numprocesses=auto --maxprocesses=4 --dist loadgroup

bench: $(INSTALLED) $(SYSTEM_TOOLS) $(AXE)  ## time live preview and full builds (real data, 100, 1,000 studies); Lighthouse at 100
	$(BIN)/python bench.py

check: $(INSTALLED)  ## validate data/ only
	$(BIN)/python build.py --check

lock: $(INSTALLED)  ## re-pin requirements.txt after editing requirements.in
	$(BIN)/pip install --quiet --upgrade -r requirements.in
	$(BIN)/pip freeze --exclude-editable | grep -v '^pip==' > requirements.txt

$(INSTALLED): requirements.txt
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# Playwright's own browser download does not work here; the tests drive Debian's Chromium headless shell.
# One grouped rule, so a machine missing several tools runs apt once.
$(SYSTEM_TOOLS) &:
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-headless-shell poppler-utils default-jre-headless

# axe-core and Lighthouse, pinned in package-lock.json, run with Debian's Chromium.
$(AXE): package.json package-lock.json
	command -v npm >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) node_modules site site-offline.zip .pytest_cache .ruff_cache
