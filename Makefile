# sandwatch: `make run` builds and starts the collector on config/default.yaml;
# `make test` installs what the tests need (idempotently) and runs them all.
SHELL := /bin/bash
GO ?= go
BUILDER_VERSION := v0.165.0
TOOLS := $(CURDIR)/.tools
BUILDER := $(TOOLS)/builder-$(BUILDER_VERSION)
VERSITYGW_VERSION := v1.8.0
VERSITYGW := $(TOOLS)/versitygw-$(VERSITYGW_VERSION)
# Every Go source of the root module: the collector is rebuilt only when one changes.
GO_SOURCES := $(shell find . -name '*.go' -not -path './cmd/sandwatch/*' -not -path './.tools/*' -not -path './data/*') go.mod go.sum
TEST_TIMEOUT ?= 40m
# Packages with unit tests and fuzz targets: everything but the suites
# under test/ that drive the real binaries.
UNIT_PKGS = $$($(GO) list ./... | grep -v /test/)
export SANDWATCH_BIN := $(CURDIR)/bin/sandwatch
export SANDWATCHCTL_BIN := $(CURDIR)/bin/sandwatchctl
export SANDWATCH_TOOLS := $(TOOLS)

.PHONY: all build run test test-unit test-gitleaks-parity fuzz deps bench lint generate clean

all: build

build: bin/sandwatch bin/sandwatchctl

$(BUILDER):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install go.opentelemetry.io/collector/cmd/builder@$(BUILDER_VERSION)
	mv $(TOOLS)/builder $(BUILDER)

# The builder writes cmd/sandwatch/{main.go,components.go,go.mod} and
# compiles it; a lock keeps two concurrent builds from clobbering each other.
bin/sandwatch: builder-config.yaml $(GO_SOURCES) | $(BUILDER)
	@mkdir -p bin
	flock /tmp/sandwatch-builder.lock $(BUILDER) --config builder-config.yaml
	cp cmd/sandwatch/sandwatch bin/sandwatch.tmp && mv bin/sandwatch.tmp bin/sandwatch

generate: | $(BUILDER)
	flock /tmp/sandwatch-builder.lock $(BUILDER) --config builder-config.yaml --skip-compilation

bin/sandwatchctl: $(GO_SOURCES)
	@mkdir -p bin
	$(GO) build -o bin/sandwatchctl ./cmd/sandwatchctl

run: build
	@mkdir -p data
	./bin/sandwatch --config config/default.yaml

# Test dependencies: Prometheus (Debian) and an S3-compatible server
# (versitygw, built from the Go module proxy). Both steps are no-ops when
# already done.
deps: $(VERSITYGW)
	@command -v prometheus >/dev/null && command -v promtool >/dev/null || \
	  (export DEBIAN_FRONTEND=noninteractive; (apt-get update -qq || sudo apt-get update -qq) && \
	   (apt-get install -y -qq --no-install-recommends prometheus >/dev/null || sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null))
	@# The Debian package starts a service on :9090; tests start their own.
	@(systemctl stop prometheus 2>/dev/null || service prometheus stop 2>/dev/null || pkill -x prometheus 2>/dev/null) || true

$(VERSITYGW):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)
	mv $(TOOLS)/versitygw $(VERSITYGW)

# Unit tests (cached by Go), then the tests that drive the real binaries
# (never cached: the binaries are outside Go's view).
test: deps build lint
	$(GO) test -timeout $(TEST_TIMEOUT) $(UNIT_PKGS)
	$(MAKE) --no-print-directory fuzz
	@# Every benchmark once, so none rots between `make bench` runs.
	$(GO) test -run '^$$' -bench . -benchtime 1x ./internal/... ./processor/... ./connector/... ./exporter/... | grep -vE "^(Benchmark|goos|goarch|pkg|cpu)"; test $${PIPESTATUS[0]} -eq 0
	$(GO) test -count=1 -p 1 -timeout $(TEST_TIMEOUT) ./test/...
	$(MAKE) --no-print-directory test-gitleaks-parity

# scrub against gitleaks' default rules: a module of its own, so the
# collector never carries gitleaks (see processor/scrubprocessor/README.md).
# -mod=mod: it replaces the root module, whose requirements may have moved.
test-gitleaks-parity:
	cd processor/scrubprocessor/gitleaksparity && $(GO) vet -mod=mod ./... && $(GO) test -mod=mod -timeout 10m ./...

# Every fuzz target, briefly (longer on demand: make fuzz FUZZTIME=5m).
# A run fails on a reproducer the fuzzer wrote, not on the engine's own
# flakes (see scripts/fuzz-all).
FUZZTIME ?= 5s
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz-all $(UNIT_PKGS)

test-unit:
	$(GO) test $(UNIT_PKGS)

# Go benchmarks of every hot path, then the whole-collector harness:
# passthrough vs stock vs sandwatch, spans per CPU-second of the collector.
BENCH_DURATION ?= 20s
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./internal/... ./processor/... ./connector/... ./exporter/... | tee bench/go-bench.txt
	$(GO) run ./bench/harness --duration $(BENCH_DURATION) --out bench/results.md

lint:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './cmd/sandwatch/*' -not -path './.tools/*')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin data cmd/sandwatch/sandwatch
