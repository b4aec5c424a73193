# sfn-mcp — every set-up step lives here, so a fresh clone needs only `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
MINISTACK_VENV := .venv-ministack
ANCHOR_VENV := .venv-anchor
PY := $(VENV)/bin/python
STATE := .aws-local

.PHONY: help venv aws-local aws-local-stop generate demo test lint unit integration bench clean

help:
	@echo "make demo            start the local AWS, generate the server, call every example tool, stop"
	@echo "make test            lint + type-check + the whole test suite (starts its own local AWS)"
	@echo "make generate        regenerate generated/ from the local AWS"
	@echo "make aws-local       start ministack + the fake Schema Registry and seed the examples"
	@echo "make aws-local-stop  stop exactly the processes aws-local started"
	@echo "make bench           sfn-mcp vs the anchor server: start-up, memory, blocking, compile time"

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --quiet --upgrade pip
	$(PY) -m pip install --quiet --quiet -e '.[dev]'
	touch $@

# ministack pins botocore exactly, so it lives in a virtualenv of its own.
$(MINISTACK_VENV)/.installed: localaws/ministack-requirements.txt
	test -x $(MINISTACK_VENV)/bin/python || $(PYTHON) -m venv $(MINISTACK_VENV)
	$(MINISTACK_VENV)/bin/python -m pip install --quiet --quiet --upgrade pip
	$(MINISTACK_VENV)/bin/python -m pip install --quiet --quiet -r localaws/ministack-requirements.txt
	touch $@

venv: $(VENV)/.installed $(MINISTACK_VENV)/.installed

# The anchor that sfn-mcp is benchmarked against, in a virtualenv of its own.
$(ANCHOR_VENV)/.installed:
	test -x $(ANCHOR_VENV)/bin/python || $(PYTHON) -m venv $(ANCHOR_VENV)
	$(ANCHOR_VENV)/bin/python -m pip install --quiet --quiet awslabs-stepfunctions-tool-mcp-server==0.2.1
	touch $@

aws-local: venv
	$(PY) -m localaws start --state-dir $(STATE)

aws-local-stop:
	@if [ -x $(PY) ]; then $(PY) -m localaws stop --state-dir $(STATE); fi

generate: aws-local
	. $(STATE)/env && $(VENV)/bin/sfn-mcp generate

# The demo runs its own local AWS on free ports, so it never touches one that `make aws-local`
# started, and stops exactly what it started.
DEMO := $(STATE)/demo
demo: venv
	$(PY) -m localaws start --state-dir $(DEMO)/aws --sfn-port 0 --schemas-port 0
	. $(DEMO)/aws/env && $(VENV)/bin/sfn-mcp generate --output $(DEMO) && \
	  $(PY) -m localaws.demo --package-dir $(DEMO) --package ai_workflows; \
	  status=$$?; $(PY) -m localaws stop --state-dir $(DEMO)/aws; exit $$status

lint: venv
	$(VENV)/bin/ruff check compiler generated tests localaws examples benchmarks
	$(VENV)/bin/ruff format --check compiler generated tests localaws benchmarks
	$(VENV)/bin/mypy compiler localaws benchmarks
	cd generated && ../$(VENV)/bin/mypy --config-file ../pyproject.toml ai_workflows

unit: venv
	$(PY) -m pytest -m "not integration" -q

integration: venv
	$(PY) -m pytest -m integration -q

test: lint
	$(PY) -m pytest -q

bench: venv $(ANCHOR_VENV)/.installed
	$(PY) benchmarks/bench.py

clean: aws-local-stop
	rm -rf $(STATE) build dist *.egg-info
