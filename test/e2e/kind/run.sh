#!/usr/bin/env bash
# End-to-end on kind: create a cluster (manifests/kind/kind-config.yaml),
# build the image for the nodes' architecture (make image, no Docker engine
# needed for it) and load its docker archive (kind load image-archive),
# give the workers 2
# example.com/slot each, apply the demo workloads (workloads.yaml), install
# the Helm chart (manifests/charts/kube-mesos-scheduler) into kube-system,
# and assert the placements. test/integration/chart_test.go (TestChartInstall)
# asserts the same placements in-process, with the chart's RBAC.
#
# Needs docker, kind, kubectl and helm in PATH. Environment:
#   KIND_CLUSTER_NAME  cluster name (default kms-e2e; node names follow it)
#   KIND_NODE_IMAGE    node image, e.g. kindest/node:v1.37.1 (default: kind's);
#                      Kubernetes must be 1.37 or later
#   IMG                image to build and load (default kube-mesos-scheduler:e2e)
#   SKIP_BUILD=1       load the archive an earlier `make image IMG=...` wrote
#                      (_output/image/kube-mesos-scheduler-<arch>.tar)
#   KEEP_CLUSTER=1     leave the cluster running afterwards
#   TIMEOUT            how long to wait for placements, in seconds with an s (default 180s)
set -euo pipefail
cd "$(dirname "$0")/../../.."

cluster=${KIND_CLUSTER_NAME:-kms-e2e}
img=${IMG:-kube-mesos-scheduler:e2e}
timeout=${TIMEOUT:-180s}
release=kube-mesos-scheduler
ns=kube-system
workloads=test/e2e/kind/workloads.yaml

for tool in docker kind kubectl helm; do
  command -v "$tool" >/dev/null || { echo "run.sh needs $tool in PATH" >&2; exit 2; }
done

log() { echo "== $*"; }
fail() {
  echo "FAIL: $*" >&2
  kubectl get pods -A -o wide >&2 || true
  kubectl -n "$ns" logs -l app.kubernetes.io/name=kube-mesos-scheduler --tail=50 >&2 || true
  exit 1
}
cleanup() {
  if [[ -z "${KEEP_CLUSTER:-}" ]]; then
    kind delete cluster --name "$cluster" || true
  else
    log "cluster $cluster kept (kind delete cluster --name $cluster)"
  fi
}

log "creating kind cluster $cluster"
kind create cluster --name "$cluster" --config manifests/kind/kind-config.yaml \
  ${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"} --wait 120s
trap cleanup EXIT
kubectl config use-context "kind-$cluster" >/dev/null
minor=$(kubectl get --raw /version | sed -n 's/.*"minor": *"\([0-9]*\).*/\1/p')
if (( minor < 37 )); then
  echo "Kubernetes 1.$minor: the scheduler is the kube-scheduler 1.37 and must not be newer than the API server; set KIND_NODE_IMAGE=kindest/node:v1.37.x" >&2
  exit 2
fi

arch=$(kubectl get nodes -o jsonpath='{.items[0].status.nodeInfo.architecture}')
archive=_output/image/kube-mesos-scheduler-$arch.tar
if [[ -z "${SKIP_BUILD:-}" ]]; then
  log "building $img for linux/$arch"
  make image IMG="$img" IMAGE_ARCHS="$arch"
fi
[[ -f "$archive" ]] || { echo "$archive is missing: make image IMG=$img" >&2; exit 2; }
tar -xOf "$archive" manifest.json | grep -F "\"$img\"" >/dev/null ||
  { echo "$archive is not tagged $img: make image IMG=$img" >&2; exit 2; }
log "loading $archive"
kind load image-archive "$archive" --name "$cluster"

log "giving each worker 2 example.com/slot"
workers=("$cluster-worker" "$cluster-worker2")
for node in "${workers[@]}"; do
  kubectl patch node "$node" --subresource=status --type=json \
    -p '[{"op":"add","path":"/status/capacity/example.com~1slot","value":"2"}]'
done
for node in "${workers[@]}"; do
  kubectl wait "node/$node" --for=jsonpath='{.status.allocatable.example\.com/slot}'=2 --timeout=60s
done

# The workloads go in before the scheduler, so that it sees them all at once.
log "applying $workloads"
kubectl apply -f "$workloads"

log "installing the chart into $ns"
repo=${img%:*}
tag=${img##*:}
helm install "$release" manifests/charts/kube-mesos-scheduler --namespace "$ns" \
  --set image.repository="$repo" --set image.tag="$tag" --set image.pullPolicy=IfNotPresent \
  --wait --timeout 3m
holder=$(kubectl -n "$ns" get lease "$release" -o jsonpath='{.spec.holderIdentity}')
[[ -n "$holder" ]] || fail "Lease $ns/$release has no holder"
log "leader: $holder"

# node_of NS POD prints the pod's node ("" if not bound).
node_of() { kubectl -n "$1" get pod "$2" -o jsonpath='{.spec.nodeName}'; }
# bound NS prints how many pods of the namespace are bound.
bound() { kubectl -n "$1" get pods -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | grep -c . || true; }
# unbound_settled NS: every unbound pod of NS carries PodScheduled=False.
unbound_settled() {
  kubectl -n "$1" get pods -o jsonpath='{range .items[*]}{.metadata.name} {.spec.nodeName}|{.status.conditions[?(@.type=="PodScheduled")].status}{"\n"}{end}' |
    awk -F'|' '$1 ~ / $/ && $2 != "False" { bad = 1 } END { exit bad }'
}

log "hello is bound"
kubectl -n kms-e2e-apps wait pod/hello --for=condition=PodScheduled --timeout="$timeout"

log "slots: waiting for gold 3, silver 1 (weighted DRF, weights 3:1)"
deadline=$((SECONDS + ${timeout%s}))
until [[ $(bound kms-e2e-gold) == 3 && $(bound kms-e2e-silver) == 1 ]] &&
  unbound_settled kms-e2e-gold && unbound_settled kms-e2e-silver && unbound_settled kms-e2e-apps; do
  ((SECONDS < deadline)) || fail "slots: gold $(bound kms-e2e-gold), silver $(bound kms-e2e-silver) bound; want 3 and 1"
  sleep 2
done
# Nothing more may land: the four slots are taken.
sleep 10
[[ $(bound kms-e2e-gold) == 3 && $(bound kms-e2e-silver) == 1 ]] ||
  fail "slots changed: gold $(bound kms-e2e-gold), silver $(bound kms-e2e-silver)"

log "host port 18080: two web pods on the two workers, one unschedulable"
nodes=""
waiting=0
for pod in web-0 web-1 web-2; do
  node=$(node_of kms-e2e-apps "$pod")
  if [[ -n "$node" ]]; then
    nodes+="$node "
  elif [[ $(kubectl -n kms-e2e-apps get pod "$pod" -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].status}') == False ]]; then
    waiting=$((waiting + 1))
  fi
done
nodes=$(tr ' ' '\n' <<<"$nodes" | grep . | sort | tr '\n' ' ')
[[ "$nodes" == "${workers[0]} ${workers[1]} " && $waiting == 1 ]] ||
  fail "web pods on [$nodes] with $waiting unschedulable; want one on each worker and one unschedulable"

log "PASS"
