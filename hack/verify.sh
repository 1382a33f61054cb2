#!/usr/bin/env bash
# Fails if formatting, vet, go.mod/go.sum or generated code are not clean.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t gofiles < <(git ls-files --cached --others --exclude-standard '*.go' | while read -r f; do [[ -f "$f" ]] && echo "$f"; done)
unformatted=$(gofmt -l "${gofiles[@]}")
if [[ -n "$unformatted" ]]; then
  echo "gofmt needed on:"; echo "$unformatted"; exit 1
fi

go vet ./...

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cp go.mod go.sum "$tmp/"
go mod tidy
if ! diff -q "$tmp/go.mod" go.mod >/dev/null || ! diff -q "$tmp/go.sum" go.sum >/dev/null; then
  cp "$tmp/go.mod" "$tmp/go.sum" .
  echo "go mod tidy changes go.mod/go.sum: run it and commit"; exit 1
fi

gen=$(find pkg/apis -name 'zz_generated.*.go' | sort)
for f in $gen; do cp "$f" "$tmp/$(echo "$f" | tr / _)"; done
hack/update-codegen.sh
for f in $gen; do
  if ! diff -q "$tmp/$(echo "$f" | tr / _)" "$f" >/dev/null; then
    echo "generated code is stale ($f): run make generate and commit"; exit 1
  fi
done
echo "verify: ok"
