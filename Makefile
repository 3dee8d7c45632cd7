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

schemas:
	.venv/bin/python scripts/check-schemas.py

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

clean:
	rm -rf .build out .venv

# Repeated exports under random faults for an hour (CHKFLOW_SOAK_SECONDS to change it); memory
# and descriptors must not grow. Not part of `make test`.
.PHONY: soak
soak: deps
	$(SWIFT) build --build-tests
	CHKFLOW_SOAK_SECONDS=$${CHKFLOW_SOAK_SECONDS:-3600} $(SWIFT) test --skip-build \
		--filter ReliabilityTests.SoakTests
