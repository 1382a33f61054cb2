package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/component-base/metrics/legacyregistry"
	schedmetrics "k8s.io/kubernetes/pkg/scheduler/metrics"
	perf "k8s.io/kubernetes/test/integration/scheduler_perf"
	"k8s.io/kubernetes/test/utils/client-go/ktesting"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins"
)

// Shape of the BenchmarkPerfScale cluster and workload. The node and pod
// templates in testdata hold the resources; the constants here must agree
// with them (they are used for the capacity check only).
const (
	// scaleGPUEvery: node i is an 8-GPU node when i % scaleGPUEvery == 0
	// (testdata/scale-node.yaml, template parameter gpuEvery).
	scaleGPUEvery = 10
	// scaleWeight2Every: namespace i has weight 2 when
	// i % scaleWeight2Every == scaleWeight2Every-1.
	scaleWeight2Every = 3
	// scaleShapePattern is the cycle of pod shapes (S small, L large, G
	// GPU): 70 % small, 25 % large, 5 % GPU, spread out so that a short
	// stretch of it has about these fractions too.
	scaleShapePattern = "SLSSSLSSSLGSSLSSSLSS"
	// scaleMaxFill bounds the requested share of the cluster (per resource,
	// init plus measured pods) so that both profiles can place every pod
	// despite fragmentation; a larger workload is refused up front.
	scaleMaxFill = 0.8
)

// scaleShape is one pod template of BenchmarkPerfScale with its requests
// (milli-CPU, MiB, GPUs), which must match the template file.
type scaleShape struct {
	name, file     string
	cpu, mem, gpus int64
}

var scaleShapes = []scaleShape{
	{"small", "testdata/scale-pod-small.yaml", 100, 256, 0},
	{"large", "testdata/scale-pod-large.yaml", 2000, 8 * 1024, 0},
	{"gpu", "testdata/scale-pod-gpu.yaml", 1000, 4 * 1024, 1},
}

// Node capacities of testdata/scale-node.yaml (milli-CPU, MiB, GPUs, pods).
var (
	scaleCPUNode = [4]int64{16000, 64 * 1024, 0, 110}
	scaleGPUNode = [4]int64{64000, 512 * 1024, 8, 110}
)

// scaleShapeOf is the shape (index into scaleShapes) of the k-th pod of a
// phase spread over n namespaces: pod k goes to namespace k % n as its
// (k / n)-th pod, and takes scaleShapePattern from there on, offset by the
// namespace's index, so that every namespace gets the mix and the
// namespaces of one round over them get different shapes.
func scaleShapeOf(k, n int) int {
	switch scaleShapePattern[(k/n+k%n)%len(scaleShapePattern)] {
	case 'G':
		return 2
	case 'L':
		return 1
	default:
		return 0
	}
}

// BenchmarkPerfScale runs a scaling workload with scheduler_perf, with the
// default kube-scheduler profile (test case ScaleDefault) and with ours
// (ScaleOurs: testdata/ours.yaml, MesosOffers with the embedded allocator,
// DRF, Hetero), in one invocation unless KMS_BENCH_PROFILE selects one.
//
// Cluster: KMS_BENCH_NODES nodes (default 1000); every 10th node (index 0,
// 10, 20, …) has 64 CPUs, 512 GiB and 8 nvidia.com/gpu with the GPU Feature
// Discovery labels (H100) that Hetero reads, the others 16 CPUs and 64 GiB
// (testdata/scale-node.yaml).
//
// Tenants: KMS_BENCH_NAMESPACES namespaces (default 100), each its own DRF
// role; every third one (tenant-w2-<j>) carries kube-mesos.io/weight: "2"
// (testdata/scale-namespace-weight2.yaml), the others (tenant-<j>) have
// weight 1. scheduler_perf's createNamespaces reads its template as is, so
// the two weights are two createNamespaces ops with different prefixes.
//
// Pods: KMS_BENCH_INIT_PODS (default = nodes) placed first, then
// KMS_BENCH_PODS (default 2000) measured, both spread evenly over the
// namespaces (pod k to namespace k % n), with one createPods op per
// namespace and shape: 70 % small (100m, 256 MiB), 25 % large (2 CPUs,
// 8 GiB), 5 % GPU (1 CPU, 4 GiB, 1 nvidia.com/gpu, model preference
// H100,A100). The pods of a phase are created without waiting, then a
// barrier waits for all of them to be bound; the measured pods carry the
// label bench-phase=measured, which the throughput collector and the
// barrier select. A workload that would request more than 80 % of a
// resource (or GPU pods more than 80 % of the GPUs, CPU pods more than 80 %
// of the CPU nodes) is refused, so that both profiles can place every pod.
//
// Reported per workload in the benchmark line, among scheduler_perf's own
// metrics (latencies are of the measured pods only; percentiles are
// interpolated in the scheduler's histogram buckets):
//   - SchedulingDuration/Duration: scheduler_perf's time from the start of
//     metrics collection (before the measured pods are created) to the end
//     of the barrier (which polls once a second); throughput =
//     KMS_BENCH_PODS / this, as in BenchmarkPerfScheduling.
//   - scheduler_scheduling_attempt_duration_ms/Perc99: p99 of the
//     scheduling attempts that ended in "scheduled": from the start of the
//     scheduling cycle to the pod bound, so with the binding cycle (Permit,
//     PreBind, the Bind API call to the loaded in-process kube-apiserver),
//     without the time waiting in the queue. Only result "scheduled" is
//     collected, so that the benchmark line holds exactly this one
//     (scheduler_perf reports every collected label combination under the
//     same name, the last one winning).
//   - scheduler_scheduling_algorithm_duration_ms/Perc99: p99 of the
//     scheduling algorithm alone, every attempt whatever its result: from
//     the start of the cycle (snapshot update) through PreFilter, Filter,
//     PreScore, Score (and PostFilter when the pod does not fit), without
//     Reserve, Permit and binding: what the profile's plugins cost.
//   - scheduler_pod_scheduling_sli_duration_ms/Perc99: p99 of the e2e
//     latency, from the pod entering the scheduling queue to being
//     scheduled, over all its attempts.
//   - measured_span_s, live_heap_after_MiB and peak_rss_MiB: see
//     scaleHooks.
//   - heap_memory_usage/Max: scheduler_perf's own memory collector, the
//     largest Go HeapInuse (live and not yet collected objects) sampled
//     every 500 ms while the measured pods were scheduled.
//
// All memory figures are of the whole test process: the scheduler, and
// also the in-process kube-apiserver, scheduler_perf's controllers and
// informers (etcd runs as its own process and is not counted). That part
// is the same for both profiles (same objects), so the difference between
// the profiles is the scheduler's; the ratio understates it.
//
// KMS_BENCH_PROFILE=default or ours runs only that test case, so that each
// profile can run in its own process (hack/bench-scale.sh does): then
// nothing of the other profile's run is left in the process.
func BenchmarkPerfScale(b *testing.B) {
	nodes := envInt(b, "KMS_BENCH_NODES", 1000)
	namespaces := envInt(b, "KMS_BENCH_NAMESPACES", 100)
	initPods := envInt(b, "KMS_BENCH_INIT_PODS", nodes)
	pods := envInt(b, "KMS_BENCH_PODS", 2000)
	if err := scaleFits(nodes, namespaces, initPods, pods); err != nil {
		b.Fatal(err)
	}
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			b.Fatal(err)
		}
		return a
	}
	ours := abs("testdata/ours.yaml")
	workload := scaleWorkload(b, abs, nodes, namespaces, initPods, pods)
	var cfg string
	switch p := os.Getenv("KMS_BENCH_PROFILE"); p {
	case "":
		cfg = "- name: ScaleDefault" + workload + "- name: ScaleOurs\n  schedulerConfigPath: " + ours + workload
	case "default":
		cfg = "- name: ScaleDefault" + workload
	case "ours":
		cfg = "- name: ScaleOurs\n  schedulerConfigPath: " + ours + workload
	default:
		b.Fatalf("KMS_BENCH_PROFILE=%q: want default, ours or empty (both)", p)
	}
	path := filepath.Join(b.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	perf.RunBenchmarkPerfScheduling(b, path, "kms", plugins.NewRegistry(plugins.AllowDefaultSchedulerName()), scaleHooks(pods))
}

// scaleWorkload returns the body of a scheduler_perf test case (after its
// name) for the workload described at BenchmarkPerfScale.
func scaleWorkload(b *testing.B, abs func(string) string, nodes, namespaces, initPods, pods int) string {
	// The namespaces, in the order pods are spread over them.
	var names []string
	var light, heavy int
	for i := 0; i < namespaces; i++ {
		if i%scaleWeight2Every == scaleWeight2Every-1 {
			names = append(names, fmt.Sprintf("tenant-w2-%d", heavy))
			heavy++
		} else {
			names = append(names, fmt.Sprintf("tenant-%d", light))
			light++
		}
	}
	// createNamespaces registers the namespaces with the workload executor,
	// which createPods requires (it would create a namespace it does not
	// know, and fail on one that exists). A barrier unregisters the
	// namespaces it waited for, so the measured phase registers them again:
	// createNamespaces tolerates namespaces that exist.
	var nsOps strings.Builder
	fmt.Fprintf(&nsOps, "  - opcode: createNamespaces\n    prefix: tenant\n    count: %d\n", light)
	if heavy > 0 {
		fmt.Fprintf(&nsOps, "  - opcode: createNamespaces\n    prefix: tenant-w2\n    count: %d\n    namespaceTemplatePath: %s\n",
			heavy, abs("testdata/scale-namespace-weight2.yaml"))
	}
	// podOps returns one createPods op per namespace and shape.
	podOps := func(phase string, count int) string {
		counts := make([][3]int, namespaces)
		for k := 0; k < count; k++ {
			counts[k%namespaces][scaleShapeOf(k, namespaces)]++
		}
		var s strings.Builder
		for i, ns := range names {
			for j, shape := range scaleShapes {
				if counts[i][j] == 0 {
					continue
				}
				fmt.Fprintf(&s, "  - opcode: createPods\n    namespace: %s\n    count: %d\n    podTemplatePath: %s\n"+
					"    templateParams: {phase: %s}\n    skipWaitToCompletion: true\n",
					ns, counts[i][j], abs(shape.file), phase)
			}
		}
		return s.String()
	}
	nsJSON, err := json.Marshal(names)
	if err != nil {
		b.Fatal(err)
	}
	var w strings.Builder
	fmt.Fprintf(&w, "\n  metricsCollectorConfig: %s\n", scaleMetricsConfig(b))
	w.WriteString("  workloadTemplate:\n")
	fmt.Fprintf(&w, "  - opcode: createNodes\n    count: %d\n    nodeTemplatePath: %s\n    templateParams: {gpuEvery: %d}\n",
		nodes, abs("testdata/scale-node.yaml"), scaleGPUEvery)
	w.WriteString(nsOps.String())
	w.WriteString(podOps("init", initPods))
	w.WriteString("  - opcode: barrier\n    labelSelector: {bench-phase: init}\n")
	w.WriteString(nsOps.String())
	fmt.Fprintf(&w, "  - opcode: startCollectingMetrics\n    name: measured\n    namespaces: %s\n    labelSelector: {bench-phase: measured}\n", nsJSON)
	w.WriteString(podOps("measured", pods))
	w.WriteString("  - opcode: barrier\n    labelSelector: {bench-phase: measured}\n")
	w.WriteString("  - opcode: stopCollectingMetrics\n")
	fmt.Fprintf(&w, "  workloads:\n  - name: %dNodes_%dNamespaces_%dInitPods_%dPods\n    labels: [performance]\n",
		nodes, namespaces, initPods, pods)
	return w.String()
}

// scaleMetricsConfig is the test cases' metricsCollectorConfig (JSON, which
// is YAML): scheduler_perf's default histograms, except that attempt
// latency is collected for result "scheduled" only, the e2e latency
// (pod_scheduling_sli_duration, which the default names by an old name that
// 1.37 no longer has) and the algorithm latency are added, and plugin
// execution also covers our plugins.
func scaleMetricsConfig(b *testing.B) string {
	type lv struct {
		Label  string   `json:"label"`
		Values []string `json:"values"`
	}
	pluginNames := append(append([]string{}, perf.PluginNames...), "MesosOffers", "DRF", "Hetero")
	cfg := map[string]map[string][]lv{"metrics": {
		"scheduler_framework_extension_point_duration_seconds": {{"extension_point", schedmetrics.ExtensionPoints}},
		"scheduler_scheduling_attempt_duration_seconds":        {{"result", []string{schedmetrics.ScheduledResult}}},
		"scheduler_scheduling_algorithm_duration_seconds":      nil,
		"scheduler_pod_scheduling_sli_duration_seconds":        nil,
		"scheduler_plugin_execution_duration_seconds":          {{"plugin", pluginNames}, {"extension_point", schedmetrics.ExtensionPoints}},
	}}
	out, err := json.Marshal(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return string(out)
}

// scaleFits refuses a workload that one of the profiles might not be able
// to place: more than scaleMaxFill of the cluster's CPU, memory, pods or
// GPUs, or CPU pods needing more than scaleMaxFill of the CPU nodes (Hetero
// keeps CPU pods off GPU nodes where it can).
func scaleFits(nodes, namespaces, initPods, pods int) error {
	gpuNodes := int64((nodes-1)/scaleGPUEvery + 1)
	cpuNodes := int64(nodes) - gpuNodes
	var all, cpuPods [4]int64 // milli-CPU, MiB, GPUs, pods
	for _, phase := range []int{initPods, pods} {
		for k := 0; k < phase; k++ {
			s := scaleShapes[scaleShapeOf(k, namespaces)]
			d := [4]int64{s.cpu, s.mem, s.gpus, 1}
			for r := range d {
				all[r] += d[r]
				if s.gpus == 0 {
					cpuPods[r] += d[r]
				}
			}
		}
	}
	what := [4]string{"CPU", "memory", "nvidia.com/gpu", "pods"}
	for r := range all {
		capAll := cpuNodes*scaleCPUNode[r] + gpuNodes*scaleGPUNode[r]
		if float64(all[r]) > scaleMaxFill*float64(capAll) {
			return fmt.Errorf("%d init + %d measured pods request %d of %d %s (more than %.0f %%): add nodes or lower KMS_BENCH_PODS / KMS_BENCH_INIT_PODS",
				initPods, pods, all[r], capAll, what[r], 100*scaleMaxFill)
		}
		capCPU := cpuNodes * scaleCPUNode[r]
		if r != 2 && float64(cpuPods[r]) > scaleMaxFill*float64(capCPU) {
			return fmt.Errorf("the CPU pods request %d of %d %s of the CPU nodes (more than %.0f %%): add nodes or lower KMS_BENCH_PODS / KMS_BENCH_INIT_PODS",
				cpuPods[r], capCPU, what[r], 100*scaleMaxFill)
		}
	}
	return nil
}

// scaleHooks measures, per workload and the same way for every test case,
// the test process's memory and how long the measured pods took:
//
//   - Before the workload (after scheduler_perf started the kube-apiserver
//     and the scheduler, before the first op), the Go heap is collected
//     and returned to the OS (debug.FreeOSMemory), the kernel's peak RSS
//     mark is reset to the current RSS (writing 5 to
//     /proc/self/clear_refs), and a watch on the measured pods starts.
//   - After the workload (every pod bound, the workload's ops stopped; the
//     scheduler and the kube-apiserver still running, as the test-case
//     cleanups that stop them run later), it reports
//     live_heap_after_MiB: the Go heap of reachable objects after a forced
//     garbage collection (runtime/metrics /gc/heap/live:bytes): what the
//     process retains for the cluster it now holds (the scheduler's cache,
//     queue, informers and plugin state; the kube-apiserver's watch cache
//     and storage; scheduler_perf's controllers), without garbage;
//     peak_rss_MiB: the process's peak resident set size (VmHWM of
//     /proc/self/status) since the reset, so over the whole workload
//     (nodes, namespaces, init pods and measured pods), including garbage
//     not yet collected, Go runtime overhead and the binary; and
//     measured_span_s: from the first measured pod created to the last
//     one bound, as the watch saw them (no polling: scheduler_perf's
//     SchedulingDuration ends at a barrier that polls once a second); and,
//     for ours, allocation_cycles and allocation_cycle_s: how many cycles
//     the embedded allocator ran over the workload and their summed
//     duration (its histogram allocation_cycle_duration_seconds).
//
// If the reset fails (not Linux), peak_rss_MiB is the peak since the
// process started and is logged as such. When both test cases run in one
// process, the second one's peak RSS starts from what the first one left
// mapped after FreeOSMemory; hack/bench-scale.sh runs each profile in its
// own process.
func scaleHooks(pods int) perf.SchedulerPerfOption {
	return perf.WithPrepareFn(func(tCtx ktesting.TContext) error {
		b, ok := tCtx.TB().(*testing.B)
		if !ok {
			return nil
		}
		debug.FreeOSMemory()
		if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
			b.Logf("peak RSS not reset, peak_rss_MiB is the process's peak: %v", err)
		}
		stopSpan, err := watchMeasured(tCtx)
		if err != nil {
			return err
		}
		cycles0, cycleSecs0 := allocationCycles()
		// Cleanups run last registered first: this one runs after
		// runWorkload's (which stops the workload's ops) and before
		// RunBenchmarkPerfScheduling's (which stops the scheduler).
		b.Cleanup(func() {
			first, last, bound := stopSpan()
			if bound == pods && last.After(first) {
				b.ReportMetric(last.Sub(first).Seconds(), "measured_span_s")
			} else {
				b.Logf("measured pods: the watch saw %d of %d bound", bound, pods)
			}
			if cycles, secs := allocationCycles(); cycles > cycles0 {
				b.ReportMetric(float64(cycles-cycles0), "allocation_cycles")
				b.ReportMetric(secs-cycleSecs0, "allocation_cycle_s")
			}
			runtime.GC()
			live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
			metrics.Read(live)
			if live[0].Value.Kind() == metrics.KindUint64 {
				b.ReportMetric(float64(live[0].Value.Uint64())/(1<<20), "live_heap_after_MiB")
			}
			if hwm, err := peakRSS(); err != nil {
				b.Logf("peak RSS: %v", err)
			} else {
				b.ReportMetric(float64(hwm)/(1<<20), "peak_rss_MiB")
			}
		})
		return nil
	})
}

// allocationCycles reads the embedded allocator's cycle histogram from the
// process's metrics registry: how many cycles ran and their summed
// duration (zero when the allocator never ran: the default profile).
func allocationCycles() (count uint64, seconds float64) {
	families, err := legacyregistry.DefaultGatherer.Gather()
	if err != nil {
		return 0, 0
	}
	for _, f := range families {
		if f.GetName() != "kube_mesos_allocation_cycle_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			count += m.GetHistogram().GetSampleCount()
			seconds += m.GetHistogram().GetSampleSum()
		}
	}
	return count, seconds
}

// watchMeasured watches the pods labelled bench-phase=measured. stop ends
// the watch and returns when it saw the first of them (its creation: the
// watch starts before any exists) and the last of them bound, and how many
// it saw bound.
func watchMeasured(tCtx ktesting.TContext) (stop func() (first, last time.Time, bound int), err error) {
	ctx, cancel := context.WithCancel(tCtx)
	timeout := int64(24 * time.Hour / time.Second)
	w, err := tCtx.Client().CoreV1().Pods(metav1.NamespaceAll).Watch(ctx, metav1.ListOptions{
		LabelSelector: "bench-phase=measured", TimeoutSeconds: &timeout,
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("watch the measured pods: %w", err)
	}
	done := make(chan struct{})
	var first, last time.Time
	seen := map[types.UID]bool{}
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			now := time.Now()
			pod, ok := ev.Object.(*v1.Pod)
			if !ok {
				continue
			}
			if first.IsZero() {
				first = now
			}
			if pod.Spec.NodeName != "" && !seen[pod.UID] {
				seen[pod.UID] = true
				last = now
			}
		}
	}()
	return func() (time.Time, time.Time, int) {
		cancel()
		w.Stop()
		<-done
		return first, last, len(seen)
	}, nil
}

var vmHWM = regexp.MustCompile(`(?m)^VmHWM:\s+(\d+) kB$`)

// peakRSS returns VmHWM of /proc/self/status in bytes.
func peakRSS() (int64, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	m := vmHWM.FindSubmatch(status)
	if m == nil {
		return 0, fmt.Errorf("no VmHWM in /proc/self/status")
	}
	kb, err := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10, err
}
