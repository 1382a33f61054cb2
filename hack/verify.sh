#!/usr/bin/env bash
# Fails if formatting, vet, go.mod/go.sum (of the main module, test/chart
# and hack/image), generated code or the manifests generated from the Helm chart
# are not clean.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t gofiles < <(git ls-files --cached --others --exclude-standard '*.go' | while read -r f; do [[ -f "$f" ]] && echo "$f"; done)
unformatted=$(gofmt -l "${gofiles[@]}")
if [[ -n "$unformatted" ]]; then
  echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi

go vet ./...
(cd test/chart && go vet ./...)
(cd hack/image && go vet ./...)

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# The main module, and the modules of the chart tests (test/chart) and of
# the image builder (hack/image) on their own.
for mod in . test/chart hack/image; do
  mkdir -p "$tmp/mod/$mod"
  cp "$mod/go.mod" "$mod/go.sum" "$tmp/mod/$mod/"
  (cd "$mod" && go mod tidy)
  if ! diff -q "$tmp/mod/$mod/go.mod" "$mod/go.mod" >/dev/null || ! diff -q "$tmp/mod/$mod/go.sum" "$mod/go.sum" >/dev/null; then
    cp "$tmp/mod/$mod/go.mod" "$tmp/mod/$mod/go.sum" "$mod/"
    echo "go mod tidy changes $mod/go.mod or go.sum: run it there and commit"; exit 1
  fi
done

# The plain manifests and the chart's CRD copy are generated from the chart.
generated=(manifests/install/*.yaml manifests/charts/kube-mesos-scheduler/crds/*.yaml)
mkdir -p "$tmp/manifests"
for f in "${generated[@]}"; do cp "$f" "$tmp/manifests/$(echo "$f" | tr / _)"; done
hack/update-manifests.sh >/dev/null
after=(manifests/install/*.yaml manifests/charts/kube-mesos-scheduler/crds/*.yaml)
if [[ "${after[*]}" != "${generated[*]}" ]]; then
  echo "make manifests writes files that are not committed: ${after[*]}"; exit 1
fi
for f in "${generated[@]}"; do
  if ! diff -q "$tmp/manifests/$(echo "$f" | tr / _)" "$f" >/dev/null; then
    echo "$f is stale: run make manifests and commit"; exit 1
  fi
done

gen=$(find pkg/apis -name 'zz_generated.*.go' | sort)
for f in $gen; do cp "$f" "$tmp/$(echo "$f" | tr / _)"; done
hack/update-codegen.sh
for f in $gen; do
  if ! diff -q "$tmp/$(echo "$f" | tr / _)" "$f" >/dev/null; then
    echo "generated code is stale ($f): run make generate and commit"; exit 1
  fi
done
echo "verify: ok"
