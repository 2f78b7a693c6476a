# make demo: set up and run the demo on the embedded default (DuckDB). make test: set up and run the tests.
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: setup demo test bench lint
setup: $(STAMP)

$(STAMP): pyproject.toml setup.py scripts/setup.sh src/narcotrace/_textcore.c
	bash scripts/setup.sh
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/narcotrace demo

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(VENV)/bin/python $$b; done
