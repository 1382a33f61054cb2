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

.PHONY: build test bench verify generate fuzz

## build: the kube-mesos-scheduler binary in bin/
build:
	go build -ldflags "$(LDFLAGS)" -o bin/kube-mesos-scheduler ./cmd/scheduler

## test: unit and integration tests (real etcd + kube-apiserver in-process)
test:
	hack/test.sh

## bench: scheduler_perf, default profile vs ours; last line is the throughput ratio
bench:
	hack/bench.sh

## verify: gofmt, go vet, go mod tidy and generated code are clean
verify:
	hack/verify.sh

## generate: regenerate deepcopy, defaults and conversions of the plugin args
generate:
	hack/update-codegen.sh

## fuzz: run every fuzz target for FUZZTIME each
fuzz:
	FUZZTIME=$(or $(FUZZTIME),30s) hack/fuzz.sh
