#!/usr/bin/env bash
# Runs every unit and integration test. The integration tests start a real
# etcd and kube-apiserver in-process (built from Go modules); the ZooKeeper
# tests of Mesos master detection run a real ZooKeeper 3.8 from Debian's
# zookeeper package (it starts no service), installed here if missing.
# The Helm chart's tests are a module of their own (test/chart, with the Helm
# library) and run first; arguments go to the main module's go test.
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
exec go test -timeout 45m ./... "$@"
