#!/usr/bin/env bash
# Fails if formatting, vet, go.mod/go.sum or generated code are not clean.
set -euo pipefail
cd "$(dirname "$0")/.."

unformatted=$(gofmt -l $(git ls-files --cached --others --exclude-standard '*.go'))
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

hack/update-codegen.sh
if ! git diff --quiet -- pkg/apis; then
  git diff --stat -- pkg/apis
  echo "generated code is stale: run make generate and commit"; exit 1
fi
echo "verify: ok"
