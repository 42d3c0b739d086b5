# spoofsense build. `make demo` builds and scores the sample photos; `make test` runs every check CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

SHARED  ?= $(abspath ../shared)
# Where ../shared/models exists it is the model mirror; otherwise models come from upstream URLs.
MIRROR  ?= $(if $(wildcard $(SHARED)/models/MiniFASNetV2.onnx),$(SHARED)/models,)
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/spoofsense/spoofsense/cmd.version=$(VERSION)

# The engine's fast kernels use simd/archsimd (Go 1.26 experiment); builds without it use the
# portable fallback kernels, which `make test` also runs.
export GOEXPERIMENT ?= simd

# The container image (make image, make image-test). ENGINE is docker where a docker engine
# answers (`docker info`; the docker CLI alone is not enough), else podman where it is installed.
# Podman on this project's machines runs rootful with vfs storage, runc and the containers.conf in
# deploy/podman/ (no default ulimits); PODMAN_FLAGS= and CONTAINERS_CONF= undo that elsewhere.
IMAGE          ?= spoofsense
PODMAN_FLAGS   ?= --storage-driver vfs --runtime runc
CONTAINERS_CONF ?= $(CURDIR)/deploy/podman/containers.conf
export CONTAINERS_CONF
ENGINE ?= $(eval ENGINE := $(shell if docker info >/dev/null 2>&1; then echo docker; \
  elif command -v podman >/dev/null 2>&1; then echo podman $(PODMAN_FLAGS); fi))$(ENGINE)
# SPDX summary of what the image holds (texts in /licenses): spoofsense itself, the models
# (Apache-2.0, MIT) and the Go modules the binary links.
IMAGE_LICENSES := LicenseRef-spoofsense AND Apache-2.0 AND MIT AND BSD-3-Clause AND BSD-2-Clause AND CC-BY-4.0 AND OFL-1.1 AND (FTL OR GPL-2.0-or-later)

.PHONY: all build models demo deps test test-arm64 bench bench-decode bench-e2e bench-all mutation fuzz-short clean image image-test image-load engine

all: build

## build: bin/spoofsense with the verified models embedded (works offline from any directory)
build: models
	CGO_ENABLED=0 go build -trimpath -tags embedmodels -ldflags '$(LDFLAGS)' -o bin/spoofsense .

bin/spoofsense-nomodels: FORCE
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o $@ .

## models: fetch (or copy from the mirror) and verify the models into models/embedded/
models: bin/spoofsense-nomodels
	bin/spoofsense-nomodels models pull --models models/embedded $(if $(MIRROR),--mirror $(MIRROR))

## demo: build, then score the sample photos of the dev set
demo: build
	bin/spoofsense models list
	@if [ -d "$(SHARED)/data/dev" ]; then \
	  bin/spoofsense check -o table $(SHARED)/data/dev/live/image_T1.jpg $(SHARED)/data/dev/spoof/image_F1.jpg $(SHARED)/data/dev/spoof/image_F2.jpg --exit-zero; \
	fi

## deps: what `make test` needs besides Go and ../shared: Debian's ONNX backend node tests
## (libonnx-testdata, for the engine's conformance tests), a C compiler (the race detector
## needs cgo) and qemu-user-static (test-arm64 runs the arm64 tests under it). Installed with
## apt-get when run as root; otherwise it says what to install.
ONNX_NODE_TESTS := /usr/share/libonnx-testdata/data/node
QEMU_ARM64 ?= qemu-aarch64-static
deps:
	@need=""; \
	  [ -d $(ONNX_NODE_TESTS) ] || need="$$need libonnx-testdata"; \
	  command -v gcc >/dev/null 2>&1 || need="$$need gcc libc6-dev"; \
	  command -v $(QEMU_ARM64) >/dev/null 2>&1 || need="$$need qemu-user-static"; \
	  if [ -n "$$need" ]; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	      echo "make deps: apt-get install$$need"; \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null 2>&1 || \
	        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; }; \
	    else \
	      echo "make test needs Debian packages:$$need (run: sudo apt-get install$$need)" >&2; exit 1; \
	    fi; \
	  fi

## test: vet, gofmt, staticcheck (a go.mod tool, fetched like any module), the race-enabled
## tests (SIMD build), then the pipeline on the whole dev set without the race detector, with
## the SIMD and with the fallback kernels, the arm64 build and its kernels under qemu
## (test-arm64), every fuzz target for 5s, then image-test where docker or podman is there
test: deps models
	go vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go'; git ls-files --others --exclude-standard '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go tool staticcheck ./...
	CGO_ENABLED=1 go test -race -count=1 ./...
	go test -count=1 -tags embedmodels ./models/
	CGO_ENABLED=0 go test -count=1 ./scorer/
	GOEXPERIMENT= CGO_ENABLED=0 go test -count=1 -timeout 30m ./scorer/...
	$(MAKE) --no-print-directory test-arm64
	$(MAKE) --no-print-directory fuzz-short FUZZTIME=5s
	@if [ -n "$(ENGINE)" ]; then $(MAKE) --no-print-directory image-test ENGINE='$(ENGINE)'; \
	  else echo "make test: image-test not run: no docker engine answers and podman is not installed (.ci/run installs it)"; fi

## test-arm64: the arm64 build, checked on this amd64 machine: vet, staticcheck and a build for
## GOARCH=arm64, then the kernels' tests and the engine's (golden, conformance) under qemu-user,
## where the NEON kernels run (SPOOFSENSE_TEST_EXEC lets a test start its own binary again).
## The engine's steady-state allocation test runs its NHWC layout only there: the NCHW one is
## gonum's plain Go, tested natively above, and takes two minutes under qemu.
test-arm64: deps
	GOARCH=arm64 go vet ./scorer/... ./cmd/version/
	GOARCH=arm64 CGO_ENABLED=0 go build ./...
	GOARCH=arm64 $$(go tool -n staticcheck) ./scorer/...
	GOARCH=arm64 CGO_ENABLED=0 SPOOFSENSE_TEST_EXEC=$(QEMU_ARM64) go test -count=1 -exec $(QEMU_ARM64) \
	  -skip 'TestSteadyStateAllocs/.*/nchw' ./scorer/engine/kernels/ ./scorer/engine/

engine:
	@[ -n "$(ENGINE)" ] || { echo "make image: no container engine: docker info fails and podman is not installed (apt-get install podman runc)" >&2; exit 1; }

## image: the container image of bin/spoofsense FROM scratch, tagged $(IMAGE):$(VERSION) and :latest
image: build engine
	deploy/image/rootfs.sh bin/spoofsense out/image
	$(ENGINE) build $(if $(findstring podman,$(ENGINE)),--format docker --layers=false) \
	  --build-arg VERSION=$(VERSION) --build-arg LICENSES='$(IMAGE_LICENSES)' \
	  -t $(IMAGE):$(VERSION) -t $(IMAGE):latest .
	@# The build it replaces is left untagged: remove it (only spoofsense's dangling images).
	@$(ENGINE) image prune -f --filter label=org.opencontainers.image.title=spoofsense >/dev/null
	@$(ENGINE) image inspect --format '{{.Size}}' $(IMAGE):$(VERSION) | \
	  awk '{printf "image $(IMAGE):$(VERSION): %.1f MiB (%d bytes)\n", $$1/1048576, $$1}'

## image-test: run the image for real (deploy/image/image-test.sh): probes, verdicts on dev photos,
## API keys, non-root, read-only, no capabilities, HEALTHCHECK, graceful stop, podman kube play
image-test: image
	ENGINE='$(ENGINE)' SHARED='$(SHARED)' deploy/image/image-test.sh $(IMAGE):$(VERSION)

## image-load: the load test the Kubernetes resources come from (deploy/image/load.sh): one pod's
## size (2 CPUs, 1.5 GiB), 600 requests from 16 clients, then the 49-megapixel worst case
image-load: image
	ENGINE='$(ENGINE)' SHARED='$(SHARED)' deploy/image/load.sh $(IMAGE):$(VERSION)

## fuzz-short: every fuzz target for FUZZTIME each (serve's request parsers, the decoders, the loader)
FUZZTIME ?= 10s
fuzz-short:
	@set -e; for spec in ./cmd/serve:FuzzJSONBody ./cmd/serve:FuzzMultipart ./cmd/serve:FuzzQuery \
	    ./preprocess/internal/jpeg:FuzzDecode ./scorer/engine:FuzzLoad; do \
	  echo "fuzz $${spec#*:} ($${spec%%:*}) for $(FUZZTIME)"; \
	  go test -run '^$$' -fuzz "^$${spec#*:}$$" -fuzztime $(FUZZTIME) "$${spec%%:*}"; \
	done

## bench: the engine's model benchmarks (SIMD and fallback builds, one core) beside onnxruntime's, with the ratio
bench:
	SHARED=$(SHARED) scorer/engine/benchcmp.sh

## bench-decode: the decode stage (JPEG bytes → upright RGB) on the first 200 dev photos beside
## OpenCV's cv2.imdecode (libjpeg-turbo, one thread), alternately, one core, with the ratio
bench-decode:
	preprocess/internal/jpeg/bench/bench-decode.sh $(SHARED) $(or $(ROUNDS),3)

## bench-e2e: spoofsense check against the OpenCV pipeline on 200 dev photos, one core, CPU time (cmd/check/bench-opencv.sh)
bench-e2e: build
	SHARED=$(SHARED) cmd/check/bench-opencv.sh

## bench-all: every benchmark of every package (end to end, check, serve load, kernels)
bench-all:
	go test -run '^$$' -bench . -benchmem ./...

## mutation: apply each change of .ci/mutations.tsv in turn and check a test fails (not in make test)
mutation:
	.ci/mutation.sh

clean:
	rm -rf bin out

FORCE:
