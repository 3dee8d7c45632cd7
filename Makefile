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

# Tests run one at a time: many start servers and processes and wait on real time, and on a
# 2-core machine running them all at once starves them. Debian's chromium, for the test that
# screenshots the run timeline, is installed when missing (scripts/install-chromium), and so
# are stunnel4 and openssl, for the TLS tests against a real TLS endpoint
# (scripts/install-tls-tools).
test: deps
	@scripts/make-venv
	@scripts/install-chromium
	@scripts/install-tls-tools
	$(SWIFT) build --build-tests
	CHKFLOW_SDK_PYTHON=$(CURDIR)/.venv/bin/python $(SWIFT) test --skip-build --no-parallel
	@$(MAKE) --no-print-directory schemas check-install lint
	@$(MAKE) --no-print-directory bench-quick
	@$(MAKE) --no-print-directory fuzz-quick

schemas:
	.venv/bin/python scripts/check-schemas.py

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

clean:
	rm -rf .build out .venv

# Each target below builds its binary from the module sources with swiftc, outside SwiftPM;
# only `fuzz-quick` is part of `make test`.
.PHONY: fuzz fuzz-quick bench-playbook

# libFuzzer on the YAML loader, the playbook checks and the expression parser. Runs
# FUZZ_SECONDS (10 minutes unless told), then merges what it found into Fuzz/corpus.
FUZZ_SECONDS ?= 600
FUZZ_OUT ?= .build/fuzz

fuzz:
	Fuzz/build $(FUZZ_OUT)
	@mkdir -p $(FUZZ_OUT)/corpus $(FUZZ_OUT)/artifacts
	SWIFT_BACKTRACE=enable=no $(FUZZ_OUT)/fuzz-playbook -max_total_time=$(FUZZ_SECONDS) \
	    -timeout=10 -dict=Fuzz/playbook.dict -artifact_prefix=$(FUZZ_OUT)/artifacts/ \
	    -print_final_stats=1 $(FUZZ_OUT)/corpus Fuzz/corpus
	SWIFT_BACKTRACE=enable=no $(FUZZ_OUT)/fuzz-playbook -merge=1 Fuzz/corpus $(FUZZ_OUT)/corpus

# The time-boxed run that `make test` makes: the same target for FUZZ_QUICK_SECONDS (a minute)
# from the kept corpus, failing on any crash, leak or hang; it leaves Fuzz/corpus as it is.
FUZZ_QUICK_SECONDS ?= 60

fuzz-quick:
	@Fuzz/build $(FUZZ_OUT) >/dev/null
	@rm -rf $(FUZZ_OUT)/quick && mkdir -p $(FUZZ_OUT)/quick $(FUZZ_OUT)/artifacts
	@status=0; SWIFT_BACKTRACE=enable=no $(FUZZ_OUT)/fuzz-playbook \
	    -max_total_time=$(FUZZ_QUICK_SECONDS) -timeout=10 -dict=Fuzz/playbook.dict \
	    -artifact_prefix=$(FUZZ_OUT)/artifacts/ -print_final_stats=1 $(FUZZ_OUT)/quick \
	    Fuzz/corpus >$(FUZZ_OUT)/quick.log 2>&1 || status=$$?; \
	tail -8 $(FUZZ_OUT)/quick.log; \
	[ $$status -eq 0 ] || echo "fuzz-quick: the fuzzer failed (exit $$status);" \
	    "any input that crashed it is in $(FUZZ_OUT)/artifacts/"; \
	exit $$status

# Validating and planning a generated 10,000-step playbook, in release mode: the time (under a
# second) and the peak memory (against ten times the file size).
BENCH_OUT ?= .build/bench-playbook
BENCH_STEPS ?= 10000

bench-playbook:
	Benchmarks/Playbook/build $(BENCH_OUT)
	$(BENCH_OUT)/bench-playbook generate $(BENCH_STEPS) $(BENCH_OUT)/playbook.yaml
	$(BENCH_OUT)/bench-playbook time $(BENCH_OUT)/playbook.yaml 5
	-$(BENCH_OUT)/bench-playbook memory-yaml $(BENCH_OUT)/playbook.yaml
	$(BENCH_OUT)/bench-playbook memory $(BENCH_OUT)/playbook.yaml

# Installs the release binary, bash and zsh completion and the manual page under
# $(DESTDIR)$(PREFIX); `make uninstall` removes exactly those files. The binary carries the
# Swift runtime, FoundationEssentials and, when its static library is installed, libstdc++
# inside it (--static-swift-stdlib, scripts/static-libstdcxx): it can be copied to a jump host
# that has no Swift, and needs only Debian's libcurl, libyaml and OpenSSL there. (The static
# Foundation makes the linker warn about its own use of mktemp.)
RELEASE = -c release --static-swift-stdlib $(shell scripts/static-libstdcxx)
PREFIX ?= /usr/local
BINDIR = $(DESTDIR)$(PREFIX)/bin
BASHCOMPDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
MAN1DIR = $(DESTDIR)$(PREFIX)/share/man/man1

.PHONY: release install uninstall check-install

release: deps
	$(SWIFT) build $(RELEASE) --product chkflow

install:
	$(SWIFT) build $(RELEASE)
	install -d $(BINDIR) $(BASHCOMPDIR) $(ZSHCOMPDIR) $(MAN1DIR)
	install -m 755 "$$($(SWIFT) build $(RELEASE) --show-bin-path)/chkflow" $(BINDIR)/chkflow
	install -m 644 completions/chkflow.bash $(BASHCOMPDIR)/chkflow
	install -m 644 completions/_chkflow $(ZSHCOMPDIR)/_chkflow
	install -m 644 docs/chkflow.1 $(MAN1DIR)/chkflow.1

uninstall:
	rm -f $(BINDIR)/chkflow $(BASHCOMPDIR)/chkflow $(ZSHCOMPDIR)/_chkflow $(MAN1DIR)/chkflow.1

# Both recipes above, run on the debug build into temporary folders (PREFIX alone, then DESTDIR):
# exactly those four files go in and come out. `make test` runs it; it takes a second.
check-install:
	@scripts/check-install

# Repeated exports under random faults for an hour (CHKFLOW_SOAK_SECONDS to change it); memory
# and descriptors must not grow. Not part of `make test`.
.PHONY: soak
soak: deps
	$(SWIFT) build --build-tests
	CHKFLOW_SOAK_SECONDS=$${CHKFLOW_SOAK_SECONDS:-3600} $(SWIFT) test --skip-build \
		--filter ReliabilityTests.SoakTests

# Benchmarks (Benchmarks/, figures in docs/performance.md). `make bench` builds in release mode,
# sets up the Python SDK and Ansible in Benchmarks/.venv and measures everything side by side;
# `make bench-quick` is the tiny run that `make test` checks, with the debug build, and skips
# whatever is not installed.
BENCH_SCRATCH ?= /tmp/build-bench
BENCH_RESULTS := Benchmarks/results

.PHONY: bench bench-quick

bench: deps
	@Benchmarks/setup
	$(SWIFT) build -c release --package-path Benchmarks --scratch-path $(BENCH_SCRATCH)
	@mkdir -p $(BENCH_RESULTS)
	CHKFLOW_BENCHMARK=1 $(SWIFT) test -c release --filter YAMLBenchmark 2>&1 \
		| tee $(BENCH_RESULTS)/yaml.txt
	@# Last, so that the binary measured is the one `make install` installs.
	@$(MAKE) --no-print-directory release
	python3 Benchmarks/bench.py --chkflow .build/release/chkflow \
		--bench-bin $(BENCH_SCRATCH)/release/chkflow-bench --yaml-output $(BENCH_RESULTS)/yaml.txt

bench-quick:
	@$(SWIFT) build --product chkflow >/dev/null
	python3 Benchmarks/bench.py --quick --chkflow .build/debug/chkflow \
		--out $(BENCH_RESULTS)/quick.json
