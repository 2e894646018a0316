# weir: the two commands a newcomer needs are `make up` and `make test`; each installs what is missing.
SHELL := /bin/bash
export UV_SYSTEM_CERTS := 1
PY := .venv/bin/python
WEIR := .venv/bin/weir
PYTEST_ARGS ?=

.PHONY: setup binaries tools ui browser check fmt test test-unit test-integration test-e2e fuzz up down bench bench-fleet bench-flux

setup:            ## install uv, the locked Python env, the Go-built Kubernetes binaries and kustomize
	@scripts/setup.sh

binaries:         ## build (or find cached) kube-apiserver, kcm, scheduler, etcd, kwok
	@scripts/build-k8s-binaries.sh

tools:            ## test-only tools and real peers built from Go modules, cached (docs/testing.md)
	@scripts/build-sops.sh >/dev/null
	@scripts/build-versitygw.sh >/dev/null
	@scripts/build-alertmanager.sh >/dev/null
	@scripts/build-gitea.sh >/dev/null
	@scripts/build-helm.sh >/dev/null

ui:               ## build the UI bundle into weir/web/static (skipped when up to date)
	@scripts/build-ui.sh

browser:          ## Debian chromium for the browser tests (idempotent)
	@scripts/install-chromium.sh

check: setup      ## format check, lint, type check, layer rule (docs/architecture.md)
	uv run --frozen ruff format --check .
	uv run --frozen ruff check .
	uv run --frozen mypy
	uv run --frozen lint-imports --no-cache

fmt:
	uv run --frozen ruff format .
	uv run --frozen ruff check --fix .

test: setup tools ui browser ## the whole suite: unit, integration (real API server) and e2e (kwok nodes)
	$(PY) -m pytest $(PYTEST_ARGS)

test-unit: setup tools
	$(PY) -m pytest -m unit $(PYTEST_ARGS)

test-integration: setup tools
	$(PY) -m pytest -m integration $(PYTEST_ARGS)

test-e2e: setup tools ui browser
	$(PY) -m pytest -m e2e $(PYTEST_ARGS)

FUZZ_SCALE ?= 100
fuzz: setup       ## longer fuzz campaigns (FUZZ_SCALE x the examples `make test` runs; tests/unit/test_*_fuzz.py)
	WEIR_FUZZ_SCALE=$(FUZZ_SCALE) $(PY) -m pytest tests/unit/test_*_fuzz.py -p no:cacheprovider \
		--hypothesis-show-statistics --durations=0 -q $(PYTEST_ARGS)

up: export WEIR_UP_STARTED := $(shell date +%s.%N)
up: setup         ## the etherwurst fleet on a local control plane, synced by weir (Ctrl-C stops it; UP_ARGS=--help)
	@scripts/up.sh $(UP_ARGS)

down:             ## stop what `make up` started (from another terminal, or after a crash)
	-$(PY) -m weir.demo down

bench: setup      ## benchmarks (not part of `make test`)
	$(PY) -m bench

bench-fleet: setup ## N Kustomizations, this tree against BEFORE=<older tree> (FLEET_ARGS=--count 500)
	$(PY) -m bench.fleet_bench $(if $(BEFORE),--before "$(BEFORE)") --after . $(FLEET_ARGS)

bench-flux: setup  ## weir and the real Flux controllers alternating (FLUX_ARGS="--counts 100,500 --kinds ks,helm")
	$(PY) -m bench.flux_bench $(FLUX_ARGS)
