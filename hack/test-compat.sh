#!/usr/bin/env bash
# Kubernetes version compatibility: the core integration tests (foundation,
# DRF, offers, Hetero, the chart install, Mesos tasks, explain) against a
# kube-apiserver emulating each older supported version (--emulated-version,
# KEP-4330 compatibility versions: the 1.37 API server serves that version's
# APIs and feature gates), with the scheduler emulating it too, as
# `kube-mesos-scheduler --emulated-version` does (the chart sets it from the
# cluster's version). TestCompatAPIServerVersion checks that the emulation
# is in effect. docs/compatibility.md says what this proves and what not.
# The plain 1.37 run is `make test`. Arguments go to go test.
set -euo pipefail
cd "$(dirname "$0")/.."
versions=(${KMS_COMPAT_VERSIONS:-1.35 1.36})
tests='^(TestCompatAPIServerVersion|TestBindsOwnPodsOnly|TestBadArgsRefuseToStart|TestDRF.*|TestOffers.*|TestHetero.*|TestChart.*|TestMesosPodsAreTasks|TestMesosGPUResources|TestExplainPendingPod)$'
mkdir -p _output
for v in "${versions[@]}"; do
  echo "hack/test-compat.sh: Kubernetes $v (kube-apiserver and scheduler --emulated-version=$v)"
  log=_output/test-compat-$v.log
  set +e
  KMS_EMULATED_VERSION=$v go test -count=1 -timeout 20m -run "$tests" ./test/integration/ "$@" > "$log" 2>&1
  rc=$?
  set -e
  grep -E '^(ok|FAIL|---)' "$log" || true
  if [[ $rc -ne 0 ]]; then
    echo "hack/test-compat.sh: Kubernetes $v failed (exit $rc); the failures, from $log:"
    grep -E -B2 -A30 -- '^\s*--- FAIL|^panic:|^FAIL\s|timed out' "$log" | grep -v -E '^[IWE][0-9]{4} ' | tail -200
    exit "$rc"
  fi
done
