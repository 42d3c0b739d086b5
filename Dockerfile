# spoofsense serve in a container: one static binary with the verified models embedded, on
# distroless (no shell, no package manager), running as a non-root user.
#
#   docker build -t spoofsense --build-arg VERSION=$(git describe --tags --always) .
#   docker run --rm -p 8080:8080 -e SPOOFSENSE_API_KEYS=change-me spoofsense
#
# Settings come from SPOOFSENSE_* variables (SPOOFSENSE_MAX_INFLIGHT, SPOOFSENSE_QUEUE, ...) or
# from flags appended to `docker run ... spoofsense --flag value`.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=
ENV GOEXPERIMENT=simd CGO_ENABLED=0
# `make build` pulls and verifies the models (sha256 from the manifest), then builds
# bin/spoofsense statically with them embedded.
RUN make build ${VERSION:+VERSION=$VERSION}

FROM gcr.io/distroless/static:nonroot
COPY --from=build /src/bin/spoofsense /spoofsense
USER 65532:65532
ENV SPOOFSENSE_LOG_FORMAT=json
EXPOSE 8080
# The binary probes itself: no shell or curl in the image. /healthz is "the process answers";
# a failed model load or self-test ends the process (exit 4), and readiness for traffic is
# /readyz, for an orchestrator's readiness probe (see the README).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/spoofsense", "serve", "--healthcheck", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/spoofsense", "serve", "--addr", "0.0.0.0:8080"]
