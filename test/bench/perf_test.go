// Package bench measures scheduling throughput with the Kubernetes
// scheduler_perf harness: the same SchedulingBasic-style workload with the
// default kube-scheduler profile and with our profile (MesosOffers, DRF and
// Hetero), in one invocation, so the two are compared on the same machine
// under the same load.
package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	_ "k8s.io/component-base/logs/json/register"
	perf "k8s.io/kubernetes/test/integration/scheduler_perf"

	_ "github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config/scheme" // plugin args
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins"
)

func TestMain(m *testing.M) {
	if err := perf.InitTests(); err != nil {
		fmt.Fprintf(os.Stderr, "%v\n", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// envInt reads a positive integer from the environment.
func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

// BenchmarkPerfScheduling runs SchedulingBasic with both profiles. Scale:
// KMS_BENCH_NODES (default 500), KMS_BENCH_INIT_PODS (default = nodes),
// KMS_BENCH_PODS (measured pods, default 1000).
func BenchmarkPerfScheduling(b *testing.B) {
	nodes := envInt(b, "KMS_BENCH_NODES", 500)
	initPods := envInt(b, "KMS_BENCH_INIT_PODS", nodes)
	pods := envInt(b, "KMS_BENCH_PODS", 1000)
	dir := b.TempDir()
	ours, err := filepath.Abs("testdata/ours.yaml")
	if err != nil {
		b.Fatal(err)
	}
	tmpl, err := filepath.Abs("testdata/pod.yaml")
	if err != nil {
		b.Fatal(err)
	}
	workload := fmt.Sprintf(`
  defaultPodTemplatePath: %s
  workloadTemplate:
  - opcode: createNodes
    countParam: $initNodes
  - opcode: createPods
    countParam: $initPods
  - opcode: createPods
    countParam: $measurePods
    collectMetrics: true
  workloads:
  - name: %dNodes_%dPods
    labels: [performance]
    params:
      initNodes: %d
      initPods: %d
      measurePods: %d
`, tmpl, nodes, pods, nodes, initPods, pods)
	cfg := "- name: SchedulingBasicDefault" + workload +
		"- name: SchedulingBasicOurs\n  schedulerConfigPath: " + ours + workload
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	perf.RunBenchmarkPerfScheduling(b, path, "kms", plugins.NewRegistry(plugins.AllowDefaultSchedulerName()))
}
