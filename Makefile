# sfn-mcp — every set-up step lives here, so a fresh clone needs only `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
MINISTACK_VENV := .venv-ministack
ANCHOR_VENV := .venv-anchor
PY := $(VENV)/bin/python
STATE := .aws-local

.PHONY: help venv aws-local aws-local-stop generate check check-deployed demo test lint unit integration bench clean \
	inspector test-inspector test-oauth-clients mcpb test-bundle

help:
	@echo "make demo            start the local AWS, generate the server, call every example tool, stop"
	@echo "make test            lint + type-check + the whole test suite (starts its own local AWS)"
	@echo "make generate        regenerate generated/ from examples/template.yaml (no AWS at all)"
	@echo "make check           fail if generated/ is not what examples/template.yaml compiles to"
	@echo "make check-deployed  fail if the local AWS runs other definitions than generated/ reviewed"
	@echo "make aws-local       start ministack + the fake Schema Registry and seed the examples"
	@echo "make aws-local-stop  stop exactly the processes aws-local started"
	@echo "make bench           sfn-mcp vs the anchor server: start-up, memory, blocking, compile time"
	@echo "make inspector       install the pinned MCP Inspector CLI into .node/ (needs Node.js 20+, npm)"
	@echo "make test-inspector  only tests/test_inspector.py: the official MCP Inspector CLI as the client"
	@echo "make test-oauth-clients  only the OAuth tests: the Inspector logs in to the server (local issuer)"
	@echo "make mcpb            install the pinned MCPB CLI into .node/ (needs Node.js 20+, npm)"
	@echo "make test-bundle     only tests/test_bundle.py: sfn-mcp bundle, checked by the MCPB CLI and hadolint"

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

# The official MCP Inspector CLI, a client nobody here wrote, for tests/test_inspector.py; it
# lives in .node/ (git-ignored). Exact pin: on Node 20 an unpinned install resolves to 0.15.0,
# while 2.12.0 installs with an engine warning and its --cli mode works. Only `make test`,
# `make integration` and `make test-inspector` need Node.js; `make demo` does not.
INSPECTOR_VERSION := 2.12.0
# mcpc, a second client nobody here wrote, drives 2025-11-25 MCP Tasks in tests/test_tasks.py.
MCPC_VERSION := 0.2.6
NODE_PREFIX := .node
INSPECTOR := $(NODE_PREFIX)/node_modules/.bin/mcp-inspector
MCPC := $(NODE_PREFIX)/node_modules/.bin/mcpc
NODE_MISSING := the MCP Inspector CLI used by the tests needs Node.js 20 or newer and npm; install \
  them (https://nodejs.org/en/download, or your package manager if it has Node 20+) and run make again

$(NODE_PREFIX)/.installed-$(INSPECTOR_VERSION)-$(MCPC_VERSION):
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || \
	  { echo "error: node or npm not found: $(NODE_MISSING)" >&2; exit 1; }
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || \
	  { echo "error: Node.js $$(node --version) is too old: $(NODE_MISSING)" >&2; exit 1; }
	rm -f $(NODE_PREFIX)/.installed-*
	npm install --prefix $(NODE_PREFIX) --save-exact --ignore-scripts --no-audit --no-fund \
	  --loglevel=error @modelcontextprotocol/inspector@$(INSPECTOR_VERSION) \
	  @apify/mcpc@$(MCPC_VERSION)
	test "$$($(INSPECTOR) --version)" = $(INSPECTOR_VERSION)
	test "$$($(MCPC) --version)" = $(MCPC_VERSION)
	touch $@

inspector: $(NODE_PREFIX)/.installed-$(INSPECTOR_VERSION)-$(MCPC_VERSION)

# The MCPB CLI (@anthropic-ai/mcpb) validates and packs what `sfn-mcp bundle` writes, for
# tests/test_bundle.py. Also in .node/, with a marker of its own (the Inspector's target removes
# only its own markers). Exact pin.
MCPB_VERSION := 2.1.2
MCPB := $(NODE_PREFIX)/node_modules/.bin/mcpb
MCPB_NODE_MISSING := the MCPB CLI used by tests/test_bundle.py needs Node.js 20 or newer and npm; \
  install them (https://nodejs.org/en/download, or your package manager if it has Node 20+) and run make again

$(NODE_PREFIX)/.mcpb-installed-$(MCPB_VERSION):
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || \
	  { echo "error: node or npm not found: $(MCPB_NODE_MISSING)" >&2; exit 1; }
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || \
	  { echo "error: Node.js $$(node --version) is too old: $(MCPB_NODE_MISSING)" >&2; exit 1; }
	rm -f $(NODE_PREFIX)/.mcpb-installed-*
	npm install --prefix $(NODE_PREFIX) --save-exact --ignore-scripts --no-audit --no-fund \
	  --loglevel=error @anthropic-ai/mcpb@$(MCPB_VERSION)
	test "$$($(MCPB) --version)" = $(MCPB_VERSION)
	touch $@

mcpb: $(NODE_PREFIX)/.mcpb-installed-$(MCPB_VERSION)

# tests/test_oauth_clients.py (the Inspector logging in to the server over OAuth) needs no local
# AWS, so `make unit` runs it too: it installs the Inspector when Node.js is here; without Node.js
# those tests skip (and fail when CI is set).
UNIT_NODE := $(if $(shell command -v node 2>/dev/null),inspector mcpb)

# Other ports: make aws-local AWS_LOCAL_ARGS="--sfn-port 0 --schemas-port 0" (0 = any free one).
AWS_LOCAL_ARGS ?=
aws-local: venv
	$(PY) -m localaws start --state-dir $(STATE) $(AWS_LOCAL_ARGS)

aws-local-stop:
	@if [ -x $(PY) ]; then $(PY) -m localaws stop --state-dir $(STATE); fi

# The examples compile from their SAM template ([tool.sfn-mcp] source = "cloudformation"): no
# AWS environment, no local AWS, no credentials.
generate: venv
	$(VENV)/bin/sfn-mcp generate

# Read-only: exit 1 (and say which tools differ, and how) when generated/ is stale.
check: venv
	$(VENV)/bin/sfn-mcp check

# The other direction: does the (local) account run what generated/ was reviewed as?
check-deployed: aws-local
	. $(STATE)/env && $(VENV)/bin/sfn-mcp check --against-account

# The demo runs its own local AWS on free ports, so it never touches one that `make aws-local`
# started, and stops exactly what it started.
DEMO := $(STATE)/demo
demo: venv
	$(PY) -m localaws start --state-dir $(DEMO)/aws --sfn-port 0 --schemas-port 0
	. $(DEMO)/aws/env && $(VENV)/bin/sfn-mcp generate --source account --output $(DEMO) && \
	  $(VENV)/bin/sfn-mcp check --against-account && \
	  $(PY) -m localaws.demo --package-dir $(DEMO) --package ai_workflows; \
	  status=$$?; $(PY) -m localaws stop --state-dir $(DEMO)/aws; exit $$status

lint: venv
	$(VENV)/bin/ruff check compiler generated tests localaws examples benchmarks
	$(VENV)/bin/ruff format --check compiler generated tests localaws benchmarks
	$(VENV)/bin/mypy compiler/sfn_mcp compiler/sfn_mcp_runtime localaws benchmarks
	$(VENV)/bin/lint-imports --no-cache
	cd generated && ../$(VENV)/bin/mypy --config-file ../pyproject.toml ai_workflows
	$(VENV)/bin/sfn-mcp check --offline

unit: venv $(UNIT_NODE)
	$(PY) -m pytest -m "not integration" -q

integration: venv inspector
	$(PY) -m pytest -m integration -q

test: lint inspector mcpb
	$(PY) -m pytest -q

test-inspector: venv inspector
	$(PY) -m pytest tests/test_inspector.py -q

test-oauth-clients: venv inspector
	$(PY) -m pytest tests/test_oauth.py tests/test_oauth_clients.py -q

test-bundle: venv mcpb
	$(PY) -m pytest tests/test_bundle.py -q

bench: venv $(ANCHOR_VENV)/.installed
	PYTHONPATH=. $(PY) benchmarks/bench.py $(BENCH_ARGS)

clean: aws-local-stop
	rm -rf $(STATE) build dist *.egg-info
