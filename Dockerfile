# spoofsense serve in a container: the static binary that `make build` produces (models embedded
# and verified at every load), copied into an empty image: no base image, no shell, no package
# manager, nothing fetched. `make image` lays out out/image/ (deploy/image/rootfs.sh: the binary,
# /etc/passwd for the non-root user 65532 and the licence texts under /licenses) and builds this
# file with docker where a docker engine answers, else podman:
#
#   make image                                   # tags spoofsense:<version> and spoofsense:latest
#   docker run --rm -p 8080:8080 -e SPOOFSENSE_API_KEYS=change-me spoofsense
#
# Settings come from SPOOFSENSE_* variables (SPOOFSENSE_MAX_INFLIGHT, SPOOFSENSE_DRAIN_DELAY, ...)
# or from flags appended to `docker run ... spoofsense --flag value`.
FROM scratch
ARG VERSION=dev
ARG SOURCE=https://github.com/spoofsense/spoofsense
ARG LICENSES=LicenseRef-spoofsense
LABEL org.opencontainers.image.title="spoofsense" \
      org.opencontainers.image.description="Offline face liveness (presentation attack detection) REST service" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="${LICENSES}"
COPY out/image/ /
USER 65532:65532
ENV SPOOFSENSE_ADDR=0.0.0.0:8080 SPOOFSENSE_LOG_FORMAT=json
EXPOSE 8080
# The binary probes itself (no shell or curl in the image): healthy means ready, i.e. the models
# loaded and the self-test ran them; a failed load or self-test ends the process (exit 4).
# Podman keeps a HEALTHCHECK only in docker-format images (make image builds with --format docker).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/spoofsense", "serve", "--healthcheck", "http://127.0.0.1:8080/readyz"]
ENTRYPOINT ["/spoofsense", "serve"]
