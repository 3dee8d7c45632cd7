# chkflow: `make demo` and `make test` do all the set-up on a fresh Debian machine with Swift.
SWIFT ?= swift
BIN := .build/debug/chkflow

.PHONY: all deps build demo test unit lint schemas clean

all: build

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build

demo: build
	@mkdir -p out
	$(BIN) run playbooks/smc-export.yaml --simulator --report out/smc-export-report.json
	@echo "report: out/smc-export-report.json"

test: deps
	@scripts/make-venv
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	@$(MAKE) --no-print-directory schemas lint
	@$(MAKE) --no-print-directory bench-quick

schemas:
	.venv/bin/python scripts/check-schemas.py

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

clean:
	rm -rf .build out .venv

# Benchmarks (Benchmarks/, figures in docs/performance.md). `make bench` builds in release mode,
# sets up the Python SDK and Ansible in Benchmarks/.venv and measures everything side by side;
# `make bench-quick` is the tiny run that `make test` checks, with the debug build, and skips
# whatever is not installed.
BENCH_SCRATCH ?= /tmp/build-bench
BENCH_RESULTS := Benchmarks/results

.PHONY: bench bench-quick

bench: deps
	@Benchmarks/setup
	$(SWIFT) build -c release
	$(SWIFT) build -c release --package-path Benchmarks --scratch-path $(BENCH_SCRATCH)
	@mkdir -p $(BENCH_RESULTS)
	CHKFLOW_BENCHMARK=1 $(SWIFT) test -c release --filter YAMLBenchmark 2>&1 \
		| tee $(BENCH_RESULTS)/yaml.txt
	python3 Benchmarks/bench.py --chkflow .build/release/chkflow \
		--bench-bin $(BENCH_SCRATCH)/release/chkflow-bench --yaml-output $(BENCH_RESULTS)/yaml.txt

bench-quick:
	@$(SWIFT) build --product chkflow >/dev/null
	python3 Benchmarks/bench.py --quick --chkflow .build/debug/chkflow \
		--out $(BENCH_RESULTS)/quick.json
