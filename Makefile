# sandwatch: `make run` builds and starts the collector on config/default.yaml;
# `make test` installs what the tests need (idempotently) and runs them all.
SHELL := /bin/bash
GO ?= go
BUILDER_VERSION := v0.165.0
TOOLS := $(CURDIR)/.tools
BUILDER := $(TOOLS)/builder-$(BUILDER_VERSION)
VERSITYGW_VERSION := v1.8.0
VERSITYGW := $(TOOLS)/versitygw-$(VERSITYGW_VERSION)
# Emulators for the gs:// and azblob:// archive tests.
FAKEGCS_VERSION := v1.56.1
FAKEGCS := $(TOOLS)/fake-gcs-server-$(FAKEGCS_VERSION)
# The linter of `make lint`, beside gofmt and go vet.
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(TOOLS)/staticcheck-$(STATICCHECK_VERSION)
AZURITE_VERSION := 3.37.0
AZURITE := $(TOOLS)/azurite-$(AZURITE_VERSION)/node_modules/.bin/azurite-blob
# The JS host kit's npm install (see its rule below).
HOSTKIT_JS_STAMP := sdk/js/node_modules/.installed
# The MCP harness of test/mcp: real MCP servers, client and instrumentation from npm.
MCP_HARNESS_STAMP := test/mcp/harness/node_modules/.installed
NODE_PREFIX := $(abspath $(dir $(shell command -v node 2>/dev/null))..)
# Every Go source of the root module: the collector is rebuilt only when one changes.
GO_SOURCES := $(shell find . -name '*.go' -not -path './cmd/sandwatch/*' -not -path './.tools/*' -not -path './data/*' -not -path './sdk/*' -not -path './deploy/*') go.mod go.sum
TEST_TIMEOUT ?= 40m
# Packages with unit tests and fuzz targets: everything but the suites
# under test/ that drive the real binaries.
UNIT_PKGS = $$($(GO) list ./... | grep -v /test/)
export SANDWATCH_BIN := $(CURDIR)/bin/sandwatch
export SANDWATCHCTL_BIN := $(CURDIR)/bin/sandwatchctl
export SANDWATCH_TOOLS := $(TOOLS)

.PHONY: all build run test test-unit test-gitleaks-parity test-auth fuzz deps bench bench-search lint generate clean

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

# Test dependencies: Prometheus (Debian), an S3-compatible server
# (versitygw) and a GCS emulator (fake-gcs-server), both built from the Go
# module proxy, Azurite (npm), and the JS host kit's npm packages. Every
# step is a no-op when already done.
deps: $(VERSITYGW) $(FAKEGCS) $(AZURITE) $(HOSTKIT_JS_STAMP) $(MCP_HARNESS_STAMP)
	@command -v prometheus >/dev/null && command -v promtool >/dev/null || \
	  (export DEBIAN_FRONTEND=noninteractive; (apt-get update -qq || sudo apt-get update -qq) && \
	   (apt-get install -y -qq --no-install-recommends prometheus >/dev/null || sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null))
	@# The Debian package starts a service on :9090; tests start their own.
	@(systemctl stop prometheus 2>/dev/null || service prometheus stop 2>/dev/null || pkill -x prometheus 2>/dev/null) || true

# The JS host kit (sdk/js) and its test dependencies from npm, with the
# machine's Node and npm. isolated-vm compiles with node-gyp: it needs
# python3, make and g++ (Debian's build-essential), and Node's headers,
# taken from the Node installation (npm_config_nodedir) so nothing is
# downloaded but the packages. Re-runs only when the lock file changes.
$(HOSTKIT_JS_STAMP): sdk/js/package.json sdk/js/package-lock.json
	@command -v python3 >/dev/null && command -v make >/dev/null && command -v g++ >/dev/null || \
	  (export DEBIAN_FRONTEND=noninteractive; (apt-get update -qq || sudo apt-get update -qq) && \
	   (apt-get install -y -qq --no-install-recommends build-essential python3 >/dev/null || sudo apt-get install -y -qq --no-install-recommends build-essential python3 >/dev/null))
	cd sdk/js && $(if $(wildcard $(NODE_PREFIX)/include/node/node.h),npm_config_nodedir=$(NODE_PREFIX)) npm ci --no-audit --no-fund
	touch $@

# test/mcp's harness: @modelcontextprotocol/server-filesystem and
# server-everything 2026.8.31, @modelcontextprotocol/sdk 1.32.2 and
# @traceloop/instrumentation-mcp 0.27.0, pinned by the lock file (pure JS,
# no build step). Re-runs only when the lock file changes.
$(MCP_HARNESS_STAMP): test/mcp/harness/package.json test/mcp/harness/package-lock.json
	cd test/mcp/harness && npm ci --no-audit --no-fund
	touch $@

$(VERSITYGW):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)
	mv $(TOOLS)/versitygw $(VERSITYGW)

$(FAKEGCS):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install github.com/fsouza/fake-gcs-server@$(FAKEGCS_VERSION)
	mv $(TOOLS)/fake-gcs-server $(FAKEGCS)

$(AZURITE):
	@mkdir -p $(TOOLS)/azurite-$(AZURITE_VERSION)
	npm install --prefix $(TOOLS)/azurite-$(AZURITE_VERSION) --no-audit --no-fund --loglevel=error azurite@$(AZURITE_VERSION)

# Unit tests (cached by Go), then the tests that drive the real binaries
# (never cached: the binaries are outside Go's view).
test: deps build lint
	$(GO) test -timeout $(TEST_TIMEOUT) $(UNIT_PKGS)
	@# The host kits: sdk/go is a module of its own; sdk/js runs on node's test runner.
	cd sdk/go && $(GO) test -timeout $(TEST_TIMEOUT) -bench . -benchtime 1x ./...
	cd sdk/js && npm test
	@# The Kubernetes manifests, validated offline (a module of its own: k8s.io/api).
	cd deploy && $(GO) vet ./... && $(GO) test -count=1 ./...
	$(MAKE) --no-print-directory fuzz
	@# Every benchmark once, so none rots between `make bench` runs.
	$(GO) test -run '^$$' -bench . -benchtime 1x ./internal/... ./processor/... ./connector/... ./exporter/... | grep -vE "^(Benchmark|goos|goarch|pkg|cpu)"; test $${PIPESTATUS[0]} -eq 0
	$(GO) test -count=1 -p 1 -timeout $(TEST_TIMEOUT) ./test/...
	$(MAKE) --no-print-directory test-gitleaks-parity

# The gateway's TLS, authentication and identity binding on the real
# binary (certificates made in the test); `make test` runs it with ./test/...
test-auth: build
	$(GO) test -count=1 -timeout 10m ./test/auth/

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
# passthrough vs stock vs sandwatch, spans (records on the agent mix) per
# CPU-second of the collector. BENCH_PROFILE=DIR: a CPU profile per setup
# and mix, and the CPU per part in bench/results.md.
BENCH_DURATION ?= 20s
BENCH_PROFILE ?=
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./internal/... ./processor/... ./connector/... ./exporter/... | tee bench/go-bench.txt
	$(GO) run ./bench/harness --duration $(BENCH_DURATION) --out bench/results.md $(if $(BENCH_PROFILE),--profile $(BENCH_PROFILE))

# Tempo search over a generated 1M-trace archive (written once under
# $TMPDIR, reused): p50/p99 latency, spans per CPU-second, pages skipped.
bench-search:
	SANDWATCH_SEARCH_BENCH_TRACES=1000000 $(GO) test -run '^$$' -bench 'BenchmarkSearch$$' -benchtime 20x ./internal/archive/ | tee bench/search-bench.txt

$(STATICCHECK):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(TOOLS)/staticcheck $(STATICCHECK)

# gofmt, go vet and staticcheck (its default checks) over every module of ours.
lint: | $(STATICCHECK)
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './cmd/sandwatch/*' -not -path './.tools/*' -not -path './sdk/js/node_modules/*')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd sdk/go && $(GO) vet ./...
	$(STATICCHECK) ./...
	cd sdk/go && $(STATICCHECK) ./...

clean:
	rm -rf bin data cmd/sandwatch/sandwatch

# ---- The image and the Helm chart (issue 23) --------------------------------
# `make image`: an OCI image of bin/sandwatch without a container engine
# (tools/imagebuild, go-containerregistry, a module of its own), written to
# bin/image: oci/ (the layout `make push` sends), image.tar (podman load),
# digest (the manifest digest the chart pins: --set image.digest=...).
IMAGE_DIR := bin/image
IMAGE_VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMAGE_REPO ?= localhost/sandwatch
IMAGEBUILD := $(TOOLS)/imagebuild
HELM_VERSION := v3.22.0
HELM := $(TOOLS)/helm-$(HELM_VERSION)
export SANDWATCH_IMAGE := $(CURDIR)/$(IMAGE_DIR)
export SANDWATCH_HELM := $(HELM)

.PHONY: image push podman test-cluster

$(IMAGEBUILD): $(wildcard tools/imagebuild/*.go) tools/imagebuild/go.mod tools/imagebuild/go.sum
	@mkdir -p $(TOOLS)
	cd tools/imagebuild && $(GO) build -o $(IMAGEBUILD) .

image: $(IMAGE_DIR)/digest

$(IMAGE_DIR)/digest: bin/sandwatch config/default.yaml | $(IMAGEBUILD)
	@test -f /etc/ssl/certs/ca-certificates.crt || \
	  (export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates >/dev/null)
	$(IMAGEBUILD) build --binary bin/sandwatch --config config/default.yaml --out $(IMAGE_DIR) \
	  --tag $(IMAGE_REPO):$(IMAGE_VERSION) --version $(IMAGE_VERSION) \
	  --revision $$(git rev-parse HEAD)$$(git diff --quiet HEAD 2>/dev/null || echo -dirty) \
	  --source-date-epoch $$(git log -1 --format=%ct)

# make push IMAGE=ghcr.io/you/sandwatch:0.1.0 (credentials: podman login / docker login)
push: image
	@test -n "$(IMAGE)" || (echo "usage: make push IMAGE=registry/repo:tag"; exit 1)
	$(IMAGEBUILD) push --layout $(IMAGE_DIR)/oci $(IMAGE)

# Debian's podman and runc, to run the image in test/image (no Docker engine).
podman:
	@command -v podman >/dev/null && command -v runc >/dev/null || \
	  (export DEBIAN_FRONTEND=noninteractive; (apt-get update -qq || sudo apt-get update -qq) && \
	   (apt-get install -y -qq --no-install-recommends podman runc >/dev/null || sudo apt-get install -y -qq --no-install-recommends podman runc >/dev/null))

$(HELM):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	mv $(TOOLS)/helm $(HELM)

# make test runs these first: the image tool's tests, the image built, podman
# installed (test/image then runs it), helm lint (test/deploy renders the chart).
test: test-cluster
test-cluster: image podman $(HELM)
	cd tools/imagebuild && $(GO) vet ./... && $(GO) test ./...
	$(HELM) lint --strict deploy/helm/sandwatch
	$(HELM) lint --strict deploy/helm/sandwatch --set mode=gateway --set serviceMonitor.enabled=true
	@# Kafka between agent and gateway: kfake is a module of the test only.
	cd test/kafka && $(GO) vet -mod=mod ./... && $(GO) test -mod=mod -count=1 -timeout 10m ./...
