# The two commands of the README: `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
export SARABAN_HOME ?= $(CURDIR)/var

.PHONY: demo test install serve lint
install:
	@scripts/bootstrap.sh

demo: install
	@$(VENV)/bin/saraban migrate --no-input -v 0
	@$(VENV)/bin/saraban load_demo
	@$(VENV)/bin/saraban serve --host $${SARABAN_HOST:-127.0.0.1} --port $${SARABAN_PORT:-8000}

test:
	@SARABAN_WITH_BROWSER=1 scripts/bootstrap.sh
	@$(VENV)/bin/ruff check src tests bench
	@$(VENV)/bin/mypy
	@$(VENV)/bin/lint-imports --no-cache
	@$(VENV)/bin/pytest -q

lint:
	@$(VENV)/bin/ruff check src tests bench
	@$(VENV)/bin/mypy
	@$(VENV)/bin/lint-imports --no-cache
