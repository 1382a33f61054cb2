#!/usr/bin/env bash
# Runs every unit and integration test. The integration tests start a real
# etcd and kube-apiserver in-process; nothing needs to be installed first.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go test -timeout 45m ./... "$@"
