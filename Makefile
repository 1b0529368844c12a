# The two entry points of README.md: `make demo` and `make test`. Both set up .venv first.
VENV ?= .venv
PYTHON ?= python3
ARGS ?=

.PHONY: setup demo test lint system-deps

$(VENV)/.installed: pyproject.toml
	@echo "setting up $(VENV): installing innosearch and its dependencies (once; about a minute)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --progress-bar on -e '.[test]'
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/innosearch demo $(ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

system-deps:
	bash .ci/system-deps

test: lint system-deps
	$(VENV)/bin/pytest -q $(ARGS)
