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

# Installs the release binary, bash and zsh completion and the manual page under
# $(DESTDIR)$(PREFIX); `make uninstall` removes exactly those files.
PREFIX ?= /usr/local
BINDIR = $(DESTDIR)$(PREFIX)/bin
BASHCOMPDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
MAN1DIR = $(DESTDIR)$(PREFIX)/share/man/man1

.PHONY: install uninstall

install:
	$(SWIFT) build -c release
	install -d $(BINDIR) $(BASHCOMPDIR) $(ZSHCOMPDIR) $(MAN1DIR)
	install -m 755 "$$($(SWIFT) build -c release --show-bin-path)/chkflow" $(BINDIR)/chkflow
	install -m 644 completions/chkflow.bash $(BASHCOMPDIR)/chkflow
	install -m 644 completions/_chkflow $(ZSHCOMPDIR)/_chkflow
	install -m 644 docs/chkflow.1 $(MAN1DIR)/chkflow.1

uninstall:
	rm -f $(BINDIR)/chkflow $(BASHCOMPDIR)/chkflow $(ZSHCOMPDIR)/_chkflow $(MAN1DIR)/chkflow.1
