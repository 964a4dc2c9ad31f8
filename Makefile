# sipstreams — build, test, demo, benchmarks.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BIN      := bin
# Every plugin main package: plugins/<name>/main.go and sdk/examples/<name>/main.go
# build to bin/plugins/sipstreams-plugin-<name>.
PLUGIN_MAINS := $(wildcard plugins/*/main.go sdk/examples/*/main.go)
PLUGIN_DIRS  := $(patsubst %/main.go,%,$(PLUGIN_MAINS))
# Python plugins: sdk/examples/<name>/<name>/ (a package with main()) is
# packaged by the kit into bin/plugins/sipstreams-plugin-<name>, one
# executable file like a Go plugin (docs/vendors.md).
PY_PLUGINS   := $(foreach d,$(wildcard sdk/examples/*),$(wildcard $(d)/$(notdir $(d))/__init__.py))
PYTHON       ?= /usr/bin/python3
TEST_FLAGS   ?= -race -timeout 20m
FUZZTIME     ?= 30s
# Codec modules: C built with Debian's clang for wasm32-wasi as reactors
# against the ABI header (sdk/codec/codectest.CFlags builds the same way).
CLANG        ?= clang
CODEC_CFLAGS := --target=wasm32-wasi -O2 -Wall -Werror -mexec-model=reactor -I sdk/codec/include
CODEC_DIR    := $(BIN)/plugins/codecs
CODEC_SRC    := plugins/audio/codecs

.PHONY: all build host plugins codecs lock deps test test-deps soak demo bench sipload audioload fuzz proto proto-check lint clean

all: build

build: host plugins codecs

host:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/sipstreams ./cmd/host

# The audio plugin links libopus (cgo): deps installs it when missing.
plugins: deps
	@mkdir -p $(BIN)/plugins
	@for d in $(PLUGIN_DIRS); do \
		n=$$(basename $$d); \
		echo "$(GO) build -o $(BIN)/plugins/sipstreams-plugin-$$n ./$$d"; \
		$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/plugins/sipstreams-plugin-$$n ./$$d || exit 1; \
	done
	@for f in $(PY_PLUGINS); do \
		d=$$(dirname $$f); n=$$(basename $$d); \
		echo "python3 -m sipstreams_plugin.package --main $$n:main -o $(BIN)/plugins/sipstreams-plugin-$$n $$d"; \
		PYTHONPATH=sdk/python $(PYTHON) -B -m sipstreams_plugin.package --main $$n:main --version $(VERSION) \
			-o $(BIN)/plugins/sipstreams-plugin-$$n $$d || exit 1; \
	done

# lock pins the built plugins: bin/plugins.lock, which the host then
# enforces (docs/vendors.md, "Package and pin"). A later build changes the
# binaries: lock again, or delete the lock file, before running them.
lock: build
	$(BIN)/sipstreams plugins lock --plugin-dir $(BIN)/plugins

# The codec modules shipped with the audio plugin, in its codec directory
# (codecs/ beside the plugin binaries): G.726-32 with RFC 3551's packing.
# extra/ is not loaded: G.726-32 with the AAL2 packing baresip 1.0 sends
# (install it instead of g726-32.wasm to call baresip with G.726), and
# G.711 as modules (installed, they override the built-in PCMU and PCMA).
codecs: deps
	@mkdir -p $(CODEC_DIR)/extra
	$(CLANG) $(CODEC_CFLAGS) -o $(CODEC_DIR)/g726-32.wasm $(CODEC_SRC)/g726/g726.c
	$(CLANG) $(CODEC_CFLAGS) -DG726_PACKING_AAL2 -o $(CODEC_DIR)/extra/g726-32-aal2.wasm $(CODEC_SRC)/g726/g726.c
	$(CLANG) $(CODEC_CFLAGS) -o $(CODEC_DIR)/extra/pcmu.wasm $(CODEC_SRC)/g711/g711.c
	$(CLANG) $(CODEC_CFLAGS) -DG711_ALAW -o $(CODEC_DIR)/extra/pcma.wasm $(CODEC_SRC)/g711/g711.c

# deps installs what the build and the tests need on a fresh Debian
# machine (as root; .ci/deps lists the packages).
deps:
	@./.ci/deps

# test-deps also fills Go's module cache with every module go.sum lists,
# test dependencies of dependencies included: the vendor guide's test
# (docs) builds a plugin module of its own with GOPROXY=off and this
# go.sum, whose `go mod tidy` needs them. (`go mod download all` would
# add the sums of the whole module graph to go.sum.)
test-deps: deps
	$(GO) mod download $$(awk '{ v = $$2; sub("/go.mod$$", "", v); print $$1 "@" v }' go.sum | sort -u)

test: test-deps
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) test $(TEST_FLAGS) ./...
	$(MAKE) soak

# The attack soak of issue 16 (cmd/host TestAttackSoak): one host taking
# 200 good calls/s from sipp for 45 s under garbage SIP, idle and slowloris
# connections, big-offset MSRP chunks and RTP floods; then its memory and
# goroutines must come back. It wants the machine to itself, so it runs
# alone, after the other tests (about 5 minutes, most of it waiting for the
# plugins' runtimes to give their memory back).
soak: test-deps
	SIPSTREAMS_SOAK=1 $(GO) test -race -count=1 -v -timeout 15m -run '^TestAttackSoak$$' ./cmd/host/

# The main job: two accounts on loopback, a session carrying every stream
# type the plugins provide, then a virtual desktop shared over MSRP
# (scripts/demo.sh).
demo: build
	$(BIN)/sipstreams plugins --plugin-dir $(BIN)/plugins
	./scripts/demo.sh $(BIN)

# Each registry figure runs in its own process so one does not skew another
# (RSS above all). Figures and the machine they came from: BENCHMARKS.md.
# The SIP load benchmark of issue 15 (BENCHMARKS.md, "SIP throughput and
# overload"): sipp against listen --auto-answer, the highest clean rate
# measured, then twice that; about three minutes. Needs sipp (make deps).
sipload: build
	scripts/sipload.sh 2000 60 4000 30

# The audio benchmark of issue 14 (BENCHMARKS.md, "Audio at scale"): two
# hosts on loopback, sipstreams load placing 1,000 SRTP calls to listen
# --auto-answer, a tone each way, 30 s of media each; about a minute.
audioload: build
	scripts/audioload.sh 1000 100 60s

bench: build
	$(GO) test -run=NONE -bench=. -benchmem ./framework/notify/
	$(GO) test -run=NONE -bench='^BenchmarkIdleRSS$$' -benchtime=1x ./registry/
	$(GO) test -run=NONE -bench='^BenchmarkPluginStart$$' -benchtime=40x ./registry/
	# The Python echo plugin beside the Go one (docs/vendors.md).
	$(GO) test -run=NONE -bench='^BenchmarkLanguageStart$$' -benchtime=20x ./registry/
	$(GO) test -run=NONE -bench='^BenchmarkLanguageRPC$$' -benchtime=2000x ./registry/
	for b in RPCRoundTrip Lifecycle LifecycleFused NotificationLatency; do \
		$(GO) test -run=NONE -bench="^Benchmark$$b\$$" -benchtime=5000x ./registry/ || exit 1; \
	done
	# Media: per packet, per 20 ms tick, per codec frame, concurrent calls.
	$(GO) test -run=NONE -bench=SendReceive -benchmem ./plugins/audio/internal/rtpsession/
	$(GO) test -run=NONE -bench=. -benchmem ./plugins/audio/internal/rtpcrypto/
	$(GO) test -run=NONE -bench='PCMU|PCMA|G722|Opus' -benchmem ./plugins/audio/internal/builtin/
	$(GO) test -run=NONE -bench=PortTick -benchmem ./plugins/audio/internal/audiostream/
	$(GO) test -run=NONE -bench=ConcurrentCalls -benchtime=1x ./plugins/audio/internal/audiostream/
	# Codec modules beside the built-in codecs: per frame, load, memory per stream.
	$(GO) test -run=NONE -bench='Frame|ModuleLoad' -benchmem ./plugins/audio/codecs/
	$(GO) test -run=NONE -bench=StreamMemory -benchtime=1x ./plugins/audio/codecs/
	# MSRP and chat payloads.
	$(GO) test -run=NONE -bench=. -benchmem ./sdk/msrp/ ./sdk/cpim/ ./sdk/iscomposing/ ./plugins/chat/internal/payload/
	$(GO) test -run=NONE -bench=Messages -benchtime=20000x ./plugins/chat/internal/chatstream/
	# Chat end to end between two hosts (two chat plugin processes).
	$(GO) test -run=NONE -bench='ChatThroughput/.*/batched' -benchtime=100000x ./framework/application/
	$(GO) test -run=NONE -bench='ChatThroughput/.*/per-call' -benchtime=3000x ./framework/application/
	# File transfer: raw TCP, MSRP without disk and the 1 GiB end to end, in one run.
	$(GO) test -run=NONE -bench='^Benchmark(RawTCP|MSRP|EndToEnd)$$' -benchtime=3x -benchmem ./plugins/filetransfer/internal/ftstream/
	# Desktop sharing: a real Xvnc read directly and through the tunnel.
	$(GO) test -run=NONE -bench='Throughput|FirstUpdate' -benchtime=40x ./plugins/desktopsharing/internal/dsstream/
	$(GO) test -run=NONE -bench=StalledViewer -benchtime=3x ./plugins/desktopsharing/internal/dsstream/

fuzz:
	@for pkg in $$($(GO) list ./...); do \
		dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
		for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/func //'); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run=NONE -fuzz="^$$f\$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

proto:
	./sdk/proto/generate.sh

# proto-check is also a test (sdk TestGeneratedCodeIsCurrent).
proto-check:
	$(GO) test -run TestGeneratedCodeIsCurrent ./sdk/

lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }

clean:
	rm -rf $(BIN)
