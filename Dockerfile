# kube-mesos-scheduler image, the Docker alternative to `make image` (which
# needs no Docker engine: hack/image, docs/install.md "The image"). Same
# binary and the same run-time contract: static (no cgo, -trimpath), the
# `make build` version stamp, user 65532:65532, the binary as entrypoint,
# SSL_CERT_FILE, the OCI labels. The base, distroless static:nonroot, holds
# what make image puts next to the binary (/etc/passwd and /etc/group with
# nonroot 65532, a CA bundle, /tmp).
#
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     --build-arg VERSION=0.1.0 --build-arg COMMIT=$(git rev-parse --short=12 HEAD) \
#     --build-arg SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) \
#     -t ghcr.io/kube-mesos/kube-mesos-scheduler:0.1.0 .

# The build stage runs on the build machine and cross-compiles.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src
# Dependencies first, so that source changes reuse this layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# VERSION and COMMIT stamp the binary like `make build` does; .git is not
# in the build context (.dockerignore), so they are build arguments.
# SOURCE_DATE_EPOCH, when given, is the build date (make image uses the
# commit's time).
ARG VERSION=0.1.0
ARG COMMIT=unknown
ARG SOURCE_DATE_EPOCH
ARG TARGETOS=linux
ARG TARGETARCH
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
RUN export GOOS="${TARGETOS}" GOARCH="${TARGETARCH:-$(go env GOARCH)}"; \
    set -- VERSION="${VERSION}" COMMIT="${COMMIT}"; \
    if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then \
      set -- "$@" BUILD_DATE="$(date -u -d "@${SOURCE_DATE_EPOCH}" +%Y-%m-%dT%H:%M:%SZ)"; \
    fi; \
    make build "$@"

FROM gcr.io/distroless/static:nonroot
ARG VERSION=0.1.0
ARG COMMIT=unknown
LABEL org.opencontainers.image.source="https://github.com/kube-mesos/kube-mesos-scheduler" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}"
COPY --from=build /src/bin/kube-mesos-scheduler /usr/local/bin/kube-mesos-scheduler
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/kube-mesos-scheduler"]
