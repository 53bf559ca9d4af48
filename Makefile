# tpo-check: one command to set up and run, one to test. See README.md.
PY      ?= python3.11
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
# llama.cpp built for a generic x86-64 with AVX2: a native build picked up AMX/AVX-512 kernels
# that crash (general protection fault) on this kind of machine.
export CMAKE_ARGS := -DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

.PHONY: run serve install system-packages index check test lint typecheck fast bench clean

## make run: set everything up on a fresh machine, build the index, classify a sample description.
run: index
	$(BIN)/tpo classify "Our pharmacy wants to text patients a reminder to refill the drug they take now; the manufacturer pays only our cost of sending it." --llm none

## make serve: the web app on http://127.0.0.1:8501 (after make run).
serve: index
	$(BIN)/tpo serve

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned: pip then takes the CPU wheel from this machine's disk.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## make system-packages: Debian packages the slow tests use (a real browser, a PostgreSQL
## server, network namespaces); needs root. Installed only where missing.
SYSTEM_PACKAGES := chromium chromium-driver postgresql iproute2 util-linux
system-packages:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		apt-get update -qq && apt-get install -y -qq $$missing; \
	else echo "system packages present: $(SYSTEM_PACKAGES)"; fi

## make index: build the index the first time, update it incrementally afterwards.
index: install
	@if $(BIN)/tpo index status --json | grep -q '"version": null'; then \
		$(BIN)/tpo index build; else $(BIN)/tpo index update; fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check app indexer evaluation

typecheck: install
	$(BIN)/mypy

fast: install
	$(BIN)/python -m pytest -q -m "not slow"

## make check: lint, types and the fast tests (what you run before every commit).
check: lint typecheck fast

## make test: everything, the slow tests included (real model, real Chroma server, kills,
## a real browser, a real PostgreSQL server, a network namespace).
test: system-packages lint typecheck
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/tpo bench --out bench.json

clean:
	rm -rf $(VENV) .tpo .pytest_cache .mypy_cache .ruff_cache
