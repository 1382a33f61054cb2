package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	perf "k8s.io/kubernetes/test/integration/scheduler_perf"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins"
)

// Templates of BenchmarkHeteroPerf: GPU nodes with GPU Feature Discovery
// labels, and GPU pods that prefer H100 over A100.
const (
	heteroGPUNode = `apiVersion: v1
kind: Node
metadata:
  generateName: gpu-node-
  labels:
    kubernetes.io/arch: amd64
    nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3
    nvidia.com/gpu.memory: "81559"
    nvidia.com/gpu.count: "8"
    nvidia.com/gpu.family: hopper
spec: {}
status:
  capacity:
    pods: "110"
    cpu: "64"
    memory: 512Gi
    nvidia.com/gpu: "8"
  conditions:
    - status: "True"
      type: Ready
  phase: Running
`
	heteroGPUPod = `apiVersion: v1
kind: Pod
metadata:
  generateName: gpu-pod-
  annotations:
    kube-mesos.io/gpu-models: "H100,A100"
spec:
  containers:
    - image: registry.k8s.io/pause:3.10.2
      name: pause
      resources:
        requests: {cpu: 100m, memory: 500Mi, nvidia.com/gpu: "1"}
        limits: {cpu: 100m, memory: 500Mi, nvidia.com/gpu: "1"}
`
	// heteroProfile is the default profile plus Hetero (weight 2, as in the
	// example manifests): the cost of Hetero alone.
	heteroProfile = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
  - schedulerName: default-scheduler
    plugins:
      multiPoint:
        enabled:
          - name: Hetero
            weight: 2
`
)

// BenchmarkHeteroPerf measures the throughput of GPU pods with the default
// profile and with the default profile plus Hetero, in one invocation: half
// the nodes are CPU nodes (the harness's default node), half 8-GPU nodes;
// the CPU pods placed first keep the CPU-pod paths (idle penalty) warm; the
// measured pods ask for one GPU each with a model preference. Scale:
// KMS_HETERO_NODES (default 500), KMS_HETERO_PODS (measured, default 1000,
// at most 4 per node).
func BenchmarkHeteroPerf(b *testing.B) {
	nodes := envInt(b, "KMS_HETERO_NODES", 500)
	pods := envInt(b, "KMS_HETERO_PODS", 1000)
	dir := b.TempDir()
	paths := map[string]string{}
	for name, body := range map[string]string{"gpu-node.yaml": heteroGPUNode, "gpu-pod.yaml": heteroGPUPod, "hetero.yaml": heteroProfile} {
		paths[name] = filepath.Join(dir, name)
		if err := os.WriteFile(paths[name], []byte(body), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	cpuPod, err := filepath.Abs("testdata/pod.yaml")
	if err != nil {
		b.Fatal(err)
	}
	workload := fmt.Sprintf(`
  defaultPodTemplatePath: %s
  workloadTemplate:
  - opcode: createNodes
    countParam: $half
  - opcode: createNodes
    countParam: $half
    nodeTemplatePath: %s
  - opcode: createPods
    countParam: $half
  - opcode: createPods
    countParam: $measurePods
    podTemplatePath: %s
    collectMetrics: true
  workloads:
  - name: %dNodes_%dGPUPods
    labels: [performance]
    params:
      half: %d
      measurePods: %d
`, cpuPod, paths["gpu-node.yaml"], paths["gpu-pod.yaml"], nodes, pods, nodes/2, pods)
	cfg := "- name: HeteroDefault" + workload + "- name: HeteroOn\n  schedulerConfigPath: " + paths["hetero.yaml"] + workload
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	perf.RunBenchmarkPerfScheduling(b, path, "kms", plugins.NewRegistry(plugins.AllowDefaultSchedulerName()))
}
