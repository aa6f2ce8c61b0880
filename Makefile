# Duet — the two set-up commands are `make run` and `make test`; both install what they need.
SWIFT        ?= swift
DUET_BIN     := .build/debug/duet
# Libraries Duet links, then the tools its tests and demos drive.
APT_PACKAGES := pkg-config libsodium-dev libsrtp2-dev libopus-dev libvpx-dev libchafa-dev libglib2.0-dev libncurses-dev \
                libssl-dev libsqlite3-dev ncurses-term \
                tmux ffmpeg opus-tools openssl tshark coturn iproute2 nftables ethtool postgresql man-db
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build test run demo bench fuzz clean format lint check-imports install uninstall
.PHONY: check check-asan check-tsan

## deps: install the Debian packages above that are missing (non-interactive; sudo when not root)
deps:
	@missing=$$(for p in $(APT_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "make deps: installing" $$missing; \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

## build: the duet executable and its libraries (debug)
build: deps
	$(SWIFT) build

## test: the whole Swift Testing suite. One test at a time: many tests run real calls (Opus,
## SRTP, a 20 ms media clock) and on a 2-core machine they starve each other when run in
## parallel; serially the suite is also faster.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-xctest --no-parallel

## fuzz: only the fuzz tests, with a long budget (docs/testing.md); it takes minutes. Override with
## DUET_FUZZ_ITERATIONS=N, another seed with DUET_FUZZ_SEED=S.
fuzz: deps
	$(SWIFT) build --build-tests
	DUET_FUZZ_ITERATIONS=$${DUET_FUZZ_ITERATIONS:-200000} $(SWIFT) test --skip-build --disable-xctest --no-parallel --filter Fuzz

## run: the terminal UI (pass options with ARGS, e.g. make run ARGS="--profile bob")
run: build
	@$(DUET_BIN) $(ARGS)

## demo: the scripted story of docs/demo.md (Assets/demo/tour.duet), every promise checked;
## pass options with ARGS, e.g. make demo ARGS="--tui" or ARGS="--json"
demo: build
	@$(DUET_BIN) demo $(ARGS)

## bench: cost ratios measured in one run (release build)
bench: deps
	$(SWIFT) build -c release --product duet-bench
	$(SWIFT) build -c release --product duet
	.build/release/duet-bench

## check: the whole suite under AddressSanitizer, then under ThreadSanitizer (docs/sanitizers.md).
## Each sanitizer builds in its own scratch path, so the plain debug build in .build stays.
## DUET_SANITIZER (address or thread) tells the few tests that must adapt (listed in the doc);
## DUET_TSAN_LOCKS=1 swaps in a Mutex ThreadSanitizer can see; tsan.supp is for third-party C only.
SAN_SUPP   := $(CURDIR)/Tests/Sanitizers
ASAN_ENV   := DUET_SANITIZER=address ASAN_OPTIONS=detect_leaks=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1
TSAN_ENV   := DUET_SANITIZER=thread DUET_TSAN_LOCKS=1 TSAN_OPTIONS=halt_on_error=0:second_deadlock_stack=1:suppressions=$(SAN_SUPP)/tsan.supp
check: check-asan check-tsan

check-asan: deps
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build/asan
	env $(ASAN_ENV) $(SWIFT) test --skip-build --sanitize=address --scratch-path .build/asan --disable-xctest --no-parallel

check-tsan: deps
	env $(TSAN_ENV) $(SWIFT) build --build-tests --sanitize=thread --scratch-path .build/tsan
	env $(TSAN_ENV) $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build/tsan --disable-xctest --no-parallel

## format: the tree formatted by swift-format with the repo's .swift-format (the toolchain ships it)
format:
	$(SWIFT) format --in-place --recursive --parallel Sources Tests Plugins Package.swift

## lint: what `make format` would change, as warnings (nothing is written), then check-imports
lint: check-imports
	$(SWIFT) format lint --recursive --parallel Sources Tests Plugins Package.swift

## check-imports: fails if a target imports a module it does not declare in Package.swift
check-imports:
	SWIFT=$(SWIFT) scripts/check-imports.sh

## install: a release build of duet into PREFIX/bin, its man pages (swift-argument-parser's
## manual generator, one page per subcommand) into PREFIX/share/man/man1, and bash, zsh and
## fish completions; DESTDIR stages it for a package. CONFIG=debug installs the debug build:
## the install test does, to reuse the build `make test` made, with SWIFTPM_FLAGS=--ignore-lock
## because it runs inside `swift test`, which holds the build folder's lock.
PREFIX  ?= /usr/local
CONFIG  ?= release
SWIFTPM_FLAGS ?=
BINDIR   = $(DESTDIR)$(PREFIX)/bin
MANDIR   = $(DESTDIR)$(PREFIX)/share/man/man1
BASHDIR  = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR   = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR  = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
MANOUT   = .build/plugins/GenerateManual/outputs/duet
install: deps
	$(SWIFT) build $(SWIFTPM_FLAGS) -c $(CONFIG) --product duet
	rm -rf $(MANOUT)
	$(SWIFT) package $(SWIFTPM_FLAGS) plugin generate-manual --configuration $(CONFIG) --multi-page
	install -d $(BINDIR) $(MANDIR) $(BASHDIR) $(ZSHDIR) $(FISHDIR)
	install -m 0755 .build/$(CONFIG)/duet $(BINDIR)/duet
	install -m 0644 $(MANOUT)/*.1 $(MANDIR)/
	.build/$(CONFIG)/duet --generate-completion-script bash > $(BASHDIR)/duet
	.build/$(CONFIG)/duet --generate-completion-script zsh > $(ZSHDIR)/_duet
	.build/$(CONFIG)/duet --generate-completion-script fish > $(FISHDIR)/duet.fish
	@echo "installed duet in $(BINDIR); man duet; completions for bash, zsh and fish"

## uninstall: removes what install put under PREFIX (the same PREFIX and DESTDIR)
uninstall:
	rm -f $(BINDIR)/duet $(MANDIR)/duet.1 $(MANDIR)/duet.*.1 $(BASHDIR)/duet $(ZSHDIR)/_duet $(FISHDIR)/duet.fish

clean:
	rm -rf .build
