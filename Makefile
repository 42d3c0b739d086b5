# spoofsense build. `make demo` builds and scores the sample photos; `make test` runs every check CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

SHARED  ?= $(abspath ../shared)
# Where ../shared/models exists it is the model mirror; otherwise models come from upstream URLs.
MIRROR  ?= $(if $(wildcard $(SHARED)/models/MiniFASNetV2.onnx),$(SHARED)/models,)
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/spoofsense/spoofsense/cmd.version=$(VERSION)
GOBIN   ?= $(shell go env GOPATH)/bin
STATICCHECK_VERSION := v0.8.2

# The engine's fast kernels use simd/archsimd (Go 1.26 experiment); builds without it use the
# portable fallback kernels, which `make test` also runs.
export GOEXPERIMENT ?= simd

.PHONY: all build models demo test bench bench-all fuzz-short clean tools

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

tools:
	@$(GOBIN)/staticcheck -version 2>/dev/null | grep -qF '($(STATICCHECK_VERSION:v%=%))' || go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

## test: vet, gofmt, staticcheck, the race-enabled tests (SIMD build), then the pipeline on the
## whole dev set without the race detector, with the SIMD and with the fallback kernels
test: tools models
	go vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go'; git ls-files --others --exclude-standard '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GOBIN)/staticcheck ./...
	CGO_ENABLED=1 go test -race -count=1 ./...
	go test -count=1 -tags embedmodels ./models/
	CGO_ENABLED=0 go test -count=1 ./scorer/
	GOEXPERIMENT= CGO_ENABLED=0 go test -count=1 ./scorer/...

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

## bench-all: every benchmark of every package (end to end, check, serve load, kernels)
bench-all:
	go test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin out

FORCE:
