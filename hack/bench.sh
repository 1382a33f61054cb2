#!/usr/bin/env bash
# scheduler_perf SchedulingBasic with the default kube-scheduler profile and
# with ours (MesosOffers + DRF + Hetero), in one invocation. Scale:
#   KMS_BENCH_NODES      nodes (default 500; 5000 reachable)
#   KMS_BENCH_INIT_PODS  pods placed before measuring (default = nodes)
#   KMS_BENCH_PODS       measured pods (default 1000)
#   BENCH_COUNT          repetitions, each a separate process running both
#                        profiles (scheduler_perf reports once per process);
#                        the median is reported (default 1)
# Throughput = measured pods / SchedulingDuration (the time from the first to
# the last measured pod bound, as scheduler_perf reports it).
# The last line is: throughput default=<pods/s> ours=<pods/s> ratio=<ours/default>
set -euo pipefail
cd "$(dirname "$0")/.."
hack/build-etcd.sh
export PATH="$PWD/bin:$PATH"
mkdir -p _output
raw=_output/bench.txt
log=_output/bench.log
pods=${KMS_BENCH_PODS:-1000}
echo "scheduler_perf: nodes=${KMS_BENCH_NODES:-500} initPods=${KMS_BENCH_INIT_PODS:-${KMS_BENCH_NODES:-500}} pods=$pods count=${BENCH_COUNT:-1} (log: $log)"
: >"$raw"
: >"$log"
for ((i = 1; i <= ${BENCH_COUNT:-1}; i++)); do
  go test -run '^$' -bench 'BenchmarkPerfScheduling' -benchtime=1x -count 1 \
    -timeout 120m ./test/bench >>"$raw" 2>>"$log" || { tail -50 "$raw" "$log"; exit 1; }
done
grep -E '^Benchmark' "$raw" | awk '{print $1}' | sed 's/^/  ran /'
awk -v pods="$pods" '
  /^BenchmarkPerfScheduling\// {
    prof = ($1 ~ /SchedulingBasicOurs/) ? "ours" : "default"
    for (i = 2; i <= NF; i++) if ($i == "SchedulingDuration/Duration") { v[prof, ++n[prof]] = pods / $(i-1) }
  }
  function median(p,   k, j, t, a) {
    for (k = 1; k <= n[p]; k++) a[k] = v[p, k]
    for (k = 1; k <= n[p]; k++) for (j = k + 1; j <= n[p]; j++) if (a[j] < a[k]) { t = a[k]; a[k] = a[j]; a[j] = t }
    return (n[p] % 2) ? a[(n[p] + 1) / 2] : (a[n[p] / 2] + a[n[p] / 2 + 1]) / 2
  }
  END {
    if (!n["default"] || !n["ours"]) { print "bench: no SchedulingDuration found" > "/dev/stderr"; exit 1 }
    for (p in n) for (k = 1; k <= n[p]; k++) printf "  %s run %d: %.1f pods/s\n", p, k, v[p, k]
    d = median("default"); o = median("ours")
    printf "throughput default=%.1f ours=%.1f ratio=%.3f\n", d, o, o / d
  }' "$raw"
