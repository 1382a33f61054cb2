# kube-mesos-scheduler image: `make image` (IMG=registry/name:tag).
# Build: the Go toolchain the module asks for, the same flags as `make build`,
# static (no cgo). Run: distroless static, non-root (65532), nothing else.

FROM golang:1.26 AS build
WORKDIR /src
# Dependencies first, so that source changes reuse this layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# VERSION and COMMIT stamp the binary like `make build` does; .git is not
# in the build context (.dockerignore), so `make image` passes the commit.
ARG VERSION=0.1.0
ARG COMMIT=unknown
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
RUN make build VERSION="${VERSION}" COMMIT="${COMMIT}"

FROM gcr.io/distroless/static:nonroot
COPY --from=build /src/bin/kube-mesos-scheduler /usr/local/bin/kube-mesos-scheduler
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/kube-mesos-scheduler"]
