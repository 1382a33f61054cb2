#!/usr/bin/env bash
# scheduler_perf BenchmarkPerfScale (test/bench/scale_test.go) with the
# default kube-scheduler profile and with ours (MesosOffers + DRF + Hetero):
# many namespaces (each its own DRF role, every third of weight 2), CPU and
# 8-GPU nodes, small, large and GPU pods. Scale:
#   KMS_BENCH_NODES       nodes, every 10th an 8-GPU node (default 1000)
#   KMS_BENCH_NAMESPACES  namespaces = roles the pods are spread over (default 100)
#   KMS_BENCH_INIT_PODS   pods placed before measuring (default = nodes)
#   KMS_BENCH_PODS        measured pods (default 2000)
#   BENCH_COUNT           repetitions (default 1); medians are reported
# Each repetition runs each profile in its own process (KMS_BENCH_PROFILE),
# default first in odd repetitions and ours first in even ones, so that a
# profile's memory figures hold nothing of the other's run.
# Figures (per run, then the median over the runs):
#   throughput  measured pods / scheduler_perf's SchedulingDuration (from
#               the start of metrics collection, before the measured pods
#               are created, to the end of the barrier that waits for all of
#               them bound; the barrier polls once a second), as make bench
#   throughput-span  measured pods / the time from the first measured pod
#               created to the last one bound, as a pod watch sees them (no
#               polling granularity)
#   p99         scheduler_scheduling_attempt_duration_seconds{result=scheduled}
#               p99 of the measured pods: one scheduling attempt, from the
#               start of its cycle to the pod bound (binding cycle and Bind
#               API call included, the time waiting in the queue not)
#   p99-algorithm  scheduler_scheduling_algorithm_duration_seconds p99 of
#               the measured pods' attempts: filter and score only (what
#               the profile's plugins cost), without Reserve, Permit, binding
#   p99-e2e     scheduler_pod_scheduling_sli_duration_seconds p99 of the
#               measured pods: from entering the scheduling queue to scheduled
#   memory      Go live heap of the test process after the workload (after
#               a forced GC): scheduler plus in-process kube-apiserver and
#               scheduler_perf's controllers; the apiserver part is the same
#               for both profiles, so the difference is the scheduler's
#   peak-rss    peak RSS of the test process over the workload (reset after
#               the apiserver and the scheduler started)
#   cycles      (ours) the embedded allocator's cycles over the workload and
#               their summed duration
# Percentiles come from the scheduler's histograms (bucket interpolation).
# The last line is: throughput default=<pods/s> ours=<pods/s> ratio=<ours/default>
set -euo pipefail
cd "$(dirname "$0")/.."
hack/build-etcd.sh
export PATH="$PWD/bin:$PATH"
export KMS_BENCH_NODES=${KMS_BENCH_NODES:-1000}
export KMS_BENCH_NAMESPACES=${KMS_BENCH_NAMESPACES:-100}
export KMS_BENCH_INIT_PODS=${KMS_BENCH_INIT_PODS:-$KMS_BENCH_NODES}
export KMS_BENCH_PODS=${KMS_BENCH_PODS:-2000}
count=${BENCH_COUNT:-1}
out=$PWD/_output/bench-scale
raw=$out/bench.txt
log=$out/bench.log
bin=$out/bench.test
rm -rf "$out/data"
mkdir -p "$out/data"
echo "scheduler_perf scale: nodes=$KMS_BENCH_NODES (every 10th with 8 GPUs) namespaces=$KMS_BENCH_NAMESPACES initPods=$KMS_BENCH_INIT_PODS pods=$KMS_BENCH_PODS count=$count (log: ${log#"$PWD"/})"
: >"$raw"
: >"$log"
go test -c -o "$bin" ./test/bench
for ((i = 1; i <= count; i++)); do
  if ((i % 2)); then order="default ours"; else order="ours default"; fi
  for p in $order; do
    # The test binary runs in the package directory, as go test runs it.
    (cd test/bench && KMS_BENCH_PROFILE=$p "$bin" -test.run '^$' -test.bench '^BenchmarkPerfScale$' \
      -test.benchtime 1x -test.count 1 -test.timeout 120m -data-items-dir "$out/data") \
      >>"$raw" 2>>"$log" || { tail -50 "$raw" "$log"; exit 1; }
  done
done
grep -E '^BenchmarkPerfScale/' "$raw" | awk '{print $1}' | sed 's/^/  ran /'
awk -v pods="$KMS_BENCH_PODS" '
  BEGIN {
    key["SchedulingDuration/Duration"] = "dur"
    key["scheduler_scheduling_attempt_duration_ms/Perc99"] = "p99"
    key["scheduler_scheduling_algorithm_duration_ms/Perc99"] = "alg"
    key["scheduler_pod_scheduling_sli_duration_ms/Perc99"] = "e2e"
    key["measured_span_s"] = "span"
    key["live_heap_after_MiB"] = "mem"
    key["peak_rss_MiB"] = "rss"
    key["allocation_cycles"] = "cyc"
    key["allocation_cycle_s"] = "cycs"
  }
  /^BenchmarkPerfScale\// {
    prof = ($1 ~ /\/ScaleOurs\//) ? "ours" : "default"
    r = ++n[prof]
    for (i = 3; i <= NF; i++) if ($i in key) {
      m = key[$i]; v[prof, m, r] = $(i-1); has[prof, m, r] = 1
      if (m == "dur") { v[prof, "tput", r] = pods / $(i-1); has[prof, "tput", r] = 1 }
      if (m == "span") { v[prof, "tspan", r] = pods / $(i-1); has[prof, "tspan", r] = 1 }
    }
  }
  function fmt(p, m, r, f) { return has[p, m, r] ? sprintf(f ? f : "%.1f", v[p, m, r]) : "n/a" }
  function median(p, m,   k, j, t, a, c) {
    c = 0
    for (k = 1; k <= n[p]; k++) if (has[p, m, k]) a[++c] = v[p, m, k]
    if (!c) return ""
    for (k = 1; k <= c; k++) for (j = k + 1; j <= c; j++) if (a[j] < a[k]) { t = a[k]; a[k] = a[j]; a[j] = t }
    return (c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
  }
  function line(name, m, unit, fmtv,   d, o) {
    d = median("default", m); o = median("ours", m)
    if (d == "" || o == "") { printf "%s default=n/a ours=n/a ratio=n/a\n", name; return }
    printf "%s default=" fmtv "%s ours=" fmtv "%s ratio=%.3f\n", name, d, unit, o, unit, (d > 0 ? o / d : 0)
  }
  END {
    if (!n["default"] || !n["ours"]) { print "bench-scale: no benchmark result for both profiles" > "/dev/stderr"; exit 1 }
    for (p = 0; p < 2; p++) {
      prof = p ? "ours" : "default"
      for (r = 1; r <= n[prof]; r++)
        printf "  %s run %d: %s pods/s (span %s pods/s), attempt p99 %s ms, algorithm p99 %s ms, e2e p99 %s ms, live heap after %s MiB, peak RSS %s MiB%s\n",
          prof, r, fmt(prof, "tput", r), fmt(prof, "tspan", r), fmt(prof, "p99", r, "%.2f"), fmt(prof, "alg", r, "%.2f"), fmt(prof, "e2e", r), fmt(prof, "mem", r), fmt(prof, "rss", r),
          has[prof, "cyc", r] ? sprintf(", allocator %d cycles (%s s)", v[prof, "cyc", r], fmt(prof, "cycs", r, "%.2f")) : ""
    }
    if (!median("default", "tput") || !median("ours", "tput")) { print "bench-scale: no SchedulingDuration found" > "/dev/stderr"; exit 1 }
    d = median("default", "mem"); o = median("ours", "mem")
    if (d != "" && o != "") printf "  live heap ours-default: %+.1f MiB (both figures include the same in-process kube-apiserver)\n", o - d
    line("p99", "p99", "ms", "%.2f")
    line("p99-algorithm", "alg", "ms", "%.2f")
    line("p99-e2e", "e2e", "ms", "%.1f")
    line("memory", "mem", "MiB", "%.1f")
    line("peak-rss", "rss", "MiB", "%.1f")
    line("throughput-span", "tspan", "", "%.1f")
    line("throughput", "tput", "", "%.1f")
  }' "$raw"
