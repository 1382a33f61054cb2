#!/usr/bin/env bash
# Builds the etcd server pinned in go.mod (tool directive) into bin/etcd:
# the scheduler_perf harness starts one per workload from PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x bin/etcd ]]; then
  go build -o bin/etcd go.etcd.io/etcd/server/v3
fi
