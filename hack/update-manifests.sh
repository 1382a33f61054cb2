#!/usr/bin/env bash
# Copies the ElasticQuota CRD into the Helm chart's crds/ and regenerates the
# plain manifests under manifests/install from the chart, with the Helm
# library pinned in test/chart/go.mod (no helm binary needed): the chart's
# default values (mode: embedded), and ci/mesos-values.yaml (mode: mesos)
# for the Mesos variant (test/chart/render lists them). The `helm test`
# objects are left out: kubectl apply has no test to run.
set -euo pipefail
cd "$(dirname "$0")/../test/chart"
go run ./cmd/update-manifests -root ../..
