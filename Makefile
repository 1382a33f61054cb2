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

# The image `make image` builds (and test/e2e/kind/run.sh loads into kind).
IMG ?= ghcr.io/kube-mesos/kube-mesos-scheduler:$(VERSION)

.PHONY: build test bench bench-scale verify generate fuzz image manifests e2e-kind demo simulate

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

## image: the container image $(IMG) (Dockerfile; needs a Docker engine)
image:
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) -t $(IMG) .

## manifests: regenerate manifests/install from the Helm chart (and copy the CRD into it)
manifests:
	hack/update-manifests.sh

## e2e-kind: install the chart on a kind cluster and check placements (needs docker, kind, kubectl, helm)
e2e-kind:
	test/e2e/kind/run.sh
