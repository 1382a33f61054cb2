#!/usr/bin/env bash
# Copies the ElasticQuota CRD into the Helm chart's crds/ and regenerates the
# plain manifests under manifests/install from the chart, with the Helm
# library pinned in test/chart/go.mod (no helm binary needed).
set -euo pipefail
cd "$(dirname "$0")/../test/chart"
go run ./cmd/update-manifests -root ../..
