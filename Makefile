# kube-mesos-scheduler. Targets call scripts under hack/.
SHELL := /usr/bin/env bash

# The binary is the kube-scheduler 1.37.1 with our plugins; the Kubernetes
# version stays the semantic version (feature gates and emulation versions
# are derived from it) and ours rides in its build metadata.
KUBE_VERSION := v1.37.1
VERSION      ?= 0.1.0
COMMIT       := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
BUILD_DATE   := $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -X k8s.io/component-base/version.gitVersion=$(KUBE_VERSION)+kms.$(VERSION).g$(COMMIT) \
	-X k8s.io/component-base/version.gitCommit=$(COMMIT) \
	-X k8s.io/component-base/version.buildDate=$(BUILD_DATE) \
	-X k8s.io/component-base/version/verflag.programName=kube-mesos-scheduler

# The image `make image` builds (and test/e2e/kind/run.sh loads into kind);
# the chart's default image.repository, tagged with its appVersion (= VERSION).
IMG ?= ghcr.io/kube-mesos/kube-mesos-scheduler:$(VERSION)
# Its architectures (all linux), and the time stamped into it and into its
# binaries (the commit's: same commit, same digests).
IMAGE_ARCHS ?= amd64 arm64
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
IMAGE_LDFLAGS = $(subst $(BUILD_DATE),$(shell date -u -d @$(SOURCE_DATE_EPOCH) +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r $(SOURCE_DATE_EPOCH) +%Y-%m-%dT%H:%M:%SZ),$(LDFLAGS))

.PHONY: build test test-compat bench bench-scale verify generate fuzz image manifests e2e-kind demo simulate

## build: the kube-mesos-scheduler binary in bin/
build:
	go build -ldflags "$(LDFLAGS)" -o bin/kube-mesos-scheduler ./cmd/scheduler

## demo: etcd, kube-apiserver and the scheduler locally on examples/demo.yaml; report, chart in _output/ (MODE=mesos: Mesos master emulator)
demo:
	@SCENARIO=examples/demo.yaml OUTPUT=text SVG=_output/demo-shares.svg LOG=_output/demo.log hack/simulate.sh

## simulate: run SCENARIO=file (OUTPUT=text|json, MODE=embedded|mesos, SVG=chart.svg), see docs/simulate.md
simulate:
	@hack/simulate.sh

## test: unit and integration tests (real etcd + kube-apiserver in-process)
test:
	hack/test.sh

## test-compat: the core integration tests against Kubernetes 1.35 and 1.36 (API server and scheduler --emulated-version; make test runs it too)
test-compat:
	hack/test-compat.sh

## bench: scheduler_perf, default profile vs ours; last line is the throughput ratio
bench:
	hack/bench.sh

## bench-scale: scheduler_perf with many namespaces (roles), GPU nodes and mixed pods, default vs ours; p99, memory, last line the throughput ratio (knobs: hack/bench-scale.sh)
bench-scale:
	hack/bench-scale.sh

## verify: gofmt, go vet, go mod tidy and generated code are clean
verify:
	hack/verify.sh

## generate: regenerate deepcopy, defaults and conversions of the plugin args
generate:
	hack/update-codegen.sh

## fuzz: run every fuzz target for FUZZTIME each
fuzz:
	FUZZTIME=$(or $(FUZZTIME),30s) hack/fuzz.sh

## image: image $(IMG) for linux/amd64+arm64 without Docker (hack/image): OCI layout _output/image/oci, docker archives _output/image/kube-mesos-scheduler-<arch>.tar, verified; PUSH=1 pushes (docs/install.md)
image:
	@set -euo pipefail; for arch in $(IMAGE_ARCHS); do \
	  echo "go build linux/$$arch: _output/image/bin/$$arch/kube-mesos-scheduler"; \
	  GOOS=linux GOARCH=$$arch CGO_ENABLED=0 go build -trimpath -ldflags "$(IMAGE_LDFLAGS)" \
	    -o _output/image/bin/$$arch/kube-mesos-scheduler ./cmd/scheduler; \
	done
	@go -C hack/image build -o $(CURDIR)/_output/image/bin/build-image .
	@_output/image/bin/build-image --tag $(IMG) --version $(VERSION) \
	  --revision $$(git rev-parse HEAD 2>/dev/null || echo unknown) --created-epoch $(SOURCE_DATE_EPOCH) \
	  $(foreach a,$(IMAGE_ARCHS),--binary linux/$(a)=_output/image/bin/$(a)/kube-mesos-scheduler) \
	  --oci-dir _output/image/oci --tar-dir _output/image --verify $(if $(filter 1 true yes,$(PUSH)),--push)
	@echo "image $(IMG) in _output/image: load one with docker load -i (or kind load image-archive) _output/image/kube-mesos-scheduler-<arch>.tar"

## manifests: regenerate manifests/install from the Helm chart (and copy the CRD into it)
manifests:
	hack/update-manifests.sh

## e2e-kind: install the chart on a kind cluster and check placements (needs docker, kind, kubectl, helm)
e2e-kind:
	test/e2e/kind/run.sh
