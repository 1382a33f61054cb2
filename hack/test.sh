#!/usr/bin/env bash
# Runs every unit and integration test. The integration tests start a real
# etcd and kube-apiserver in-process (built from Go modules); the ZooKeeper
# tests of Mesos master detection run a real ZooKeeper 3.8 from Debian's
# zookeeper package (it starts no service), installed here if missing.
# The Helm chart's tests are a module of their own (test/chart, with the Helm
# library) and run first; arguments go to the main module's go test. The
# stateful packages run again under the race detector, then the image
# builder's tests and the Kubernetes 1.35/1.36 compatibility run.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -f /usr/share/java/zookeeper.jar ]]; then
  echo "hack/test.sh: installing Debian's zookeeper package for the ZooKeeper tests" >&2
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends zookeeper >/dev/null
fi

(cd test/chart && go test -timeout 10m ./...)

# The integration tests log a lot (the API server's klog); a failure's own
# lines would scroll out of a CI log's tail. The whole output goes to
# _output/test.log as well, and on failure the failing tests' lines are
# printed again at the end.
mkdir -p _output
log=_output/test.log
set +e
go test -timeout 45m ./... "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
if [[ $rc -ne 0 ]]; then
  echo
  echo "hack/test.sh: go test failed (exit $rc); the failures, from $log:"
  grep -E -B2 -A30 -- '^\s*--- FAIL|^panic:|^FAIL\s|timed out' "$log" | grep -v -E '^[IWE][0-9]{4} ' | tail -200 || true
  # A failing test's own messages (t.Log/t.Error/t.Fatal from a _test.go
  # file, not the components' klog lines the test logger also prints) come
  # last, where a CI log's tail shows them: a failure's reason is often
  # the final line of minutes of output.
  echo
  echo "hack/test.sh: the failing tests' own messages (lines of _test.go files, klog lines left out), from $log:"
  grep -E -- '^\s*--- FAIL|^\s+[A-Za-z0-9_]+_test\.go:[0-9]+: ' "$log" | grep -v -E '_test\.go:[0-9]+: [IWEF][0-9]{4} [0-9:.]+\]' |
    cut -c1-2000 | tail -60 || true
fi
[[ $rc -ne 0 ]] && exit "$rc"

# The packages that hold state shared between goroutines (the cluster
# state, the offer book, the allocator, the plugins, the Mesos source) once
# more under the race detector.
go test -race -timeout 15m ./pkg/cluster/... ./pkg/offer/... ./pkg/allocator/... ./pkg/plugins/... ./pkg/mesos/...

# The image builder (its own module, with go-containerregistry): a
# two-architecture image of a small program, read back and checked.
(cd hack/image && go test -timeout 10m ./...)

# Kubernetes 1.35 and 1.36: the core integration tests once more against
# an API server and a scheduler emulating each (docs/compatibility.md).
hack/test-compat.sh
