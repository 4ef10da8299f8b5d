# `make check` is exactly what CI runs after installing system packages and starting services.
PYTHON ?= python3

.PHONY: install lint fmt typecheck test check serve services

install:
	$(PYTHON) -m pip install -q -e '.[dev]'

lint:
	$(PYTHON) -m ruff check src tests benchmarks
	$(PYTHON) -m ruff format --check src tests benchmarks

fmt:
	$(PYTHON) -m ruff format src tests benchmarks
	$(PYTHON) -m ruff check --fix src tests benchmarks

typecheck:
	$(PYTHON) -m mypy

test:
	$(PYTHON) -m pytest

check: install lint typecheck test

serve: install
	vidroom serve

# Start a local PostgreSQL for the suite (needs Debian's postgresql) and print the env to export.
services:
	./scripts/test-services
