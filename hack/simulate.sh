#!/usr/bin/env bash
# Builds bin/simulate (cmd/simulate: etcd, kube-apiserver and the scheduler
# in one process; never part of the scheduler binary) and runs a scenario,
# see docs/simulate.md. Environment:
#   SCENARIO  scenario file (required)
#   OUTPUT    text (default) or json
#   MODE      embedded or mesos (default: mesos if the scenario has a mesos section)
#   SVG       where to write the chart of dominant shares over time (optional)
#   LOG       where the scheduler's logs go (default _output/simulate.log)
#   HOLD      1: after the report, keep the cluster and the scheduler running
#             until Ctrl-C, for kubectl and `kube-mesos-scheduler explain`
set -euo pipefail
cd "$(dirname "$0")/.."
: "${SCENARIO:?set SCENARIO to a scenario file, e.g. SCENARIO=examples/drf-paper.yaml}"
if [[ ! -x bin/simulate ]]; then
  echo "Building bin/simulate; the first build compiles the Kubernetes dependencies (7-10 minutes on two cores)..." >&2
fi
go build -o bin/simulate ./cmd/simulate
args=(--scenario "$SCENARIO" --output "${OUTPUT:-text}" --log-file "${LOG:-_output/simulate.log}")
if [[ -n "${MODE:-}" ]]; then args+=(--mode "$MODE"); fi
if [[ -n "${SVG:-}" ]]; then args+=(--svg "$SVG"); fi
if [[ "${HOLD:-}" == 1 ]]; then args+=(--hold); fi
exec bin/simulate "${args[@]}"
