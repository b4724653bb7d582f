# Two commands do everything on a fresh Debian/Ubuntu machine:
#   make demo   set up what the app needs, then run the kiosk with simulated devices
#   make test   set up what the tests need too, then run the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: demo test bench lint doctor setup-run setup-test clean

setup-run:
	@PYTHON=$(PYTHON) tools/setup.sh run

setup-test:
	@PYTHON=$(PYTHON) tools/setup.sh test

demo: setup-run
	@tools/demo.sh

test: setup-test
	$(PY) -m pytest

bench: setup-test
	$(PY) -m bench

lint: setup-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

doctor: setup-run
	$(PY) main.py doctor

clean:
	rm -rf $(VENV) demo-tour .pytest_cache .mypy_cache .ruff_cache
