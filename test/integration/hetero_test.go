package integration

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/ptr"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/hardware"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins/hetero"
	"github.com/kube-mesos/kube-mesos-scheduler/test/harness"
)

// heteroConfig is a configuration with two profiles on one scheduler:
// kube-mesos-scheduler runs Hetero (weight 2, as in the example manifests)
// with the stock plugins and the given args, and default-profile runs the
// stock plugins only. MesosOffers and DRF stay out: the embedded allocator
// would pick each pod's node itself, and these tests are about Hetero's
// placements.
func heteroConfig(args string) string {
	cfg := `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: false
profiles:
  - schedulerName: kube-mesos-scheduler
    plugins:
      multiPoint:
        enabled:
          - name: Hetero
            weight: 2
`
	if args != "" {
		cfg += "    pluginConfig:\n      - name: Hetero\n        args:\n" + args
	}
	return cfg + "  - schedulerName: default-profile\n"
}

const (
	productH100 = "NVIDIA-H100-80GB-HBM3"
	productA100 = "NVIDIA-A100-SXM4-40GB"
	heteroWait  = 30 * time.Second
)

// gpuNodeOf is a 64-CPU node with 8 GPUs and GPU Feature Discovery labels.
func gpuNodeOf(name, product, memMiB, family string) *harness.NodeBuilder {
	return harness.MakeNode(name).Capacity("cpu", "64", "memory", "512Gi", "nvidia.com/gpu", "8").
		Label(hardware.LabelGPUProduct, product).Label(hardware.LabelGPUMemory, memMiB).
		Label(hardware.LabelGPUCount, "8").Label(hardware.LabelGPUFamily, family)
}

// heteroPlace creates a pod and waits until it is bound; it returns the node.
func heteroPlace(t *testing.T, e *env, p *v1.Pod) string {
	t.Helper()
	if err := harness.CreatePods(e.ctx, e.cp.Client, p); err != nil {
		t.Fatal(err)
	}
	node, err := harness.WaitForPodBound(e.ctx, e.cp.Client, p.Namespace, p.Name, heteroWait)
	if err != nil {
		t.Fatal(err)
	}
	return node
}

// heteroPending creates a pod and waits until it is reported unschedulable
// with a message containing want.
func heteroPending(t *testing.T, e *env, p *v1.Pod, want string) {
	t.Helper()
	if err := harness.CreatePods(e.ctx, e.cp.Client, p); err != nil {
		t.Fatal(err)
	}
	msg, err := harness.WaitForUnschedulable(e.ctx, e.cp.Client, p.Namespace, p.Name, heteroWait, want)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, want) {
		t.Errorf("pod %s unschedulable with %q, want a message containing %q", p.Name, msg, want)
	}
}

func gpuPod(ns, name, gpus string) *harness.PodBuilder {
	return harness.MakePod(ns, name).Req("cpu", "4", "memory", "16Gi", "nvidia.com/gpu", gpus)
}

// TestHeteroMixedCluster places pods one by one on CPU nodes, 8×A100 nodes,
// 8×H100 nodes and arm64 nodes, and checks every placement against the
// score formula (the expected scores are in the comments).
func TestHeteroMixedCluster(t *testing.T) {
	e := start(t, "")
	namespaces(t, e, "mixed")
	if err := harness.CreateNodes(e.ctx, e.cp.Client,
		harness.MakeNode("cpu-1").Capacity("cpu", "16", "memory", "64Gi").Obj(),
		harness.MakeNode("cpu-2").Capacity("cpu", "16", "memory", "64Gi").Obj(),
		harness.MakeNode("arm-1").Capacity("cpu", "32", "memory", "128Gi").Label(v1.LabelArchStable, "arm64").Obj(),
		harness.MakeNode("arm-2").Capacity("cpu", "32", "memory", "128Gi").Label(v1.LabelArchStable, "arm64").Obj(),
		gpuNodeOf("a100-1", productA100, "40960", "ampere").Obj(), gpuNodeOf("a100-2", productA100, "40960", "ampere").Obj(),
		gpuNodeOf("h100-1", productH100, "81559", "hopper").Obj(), gpuNodeOf("h100-2", productH100, "81559", "hopper").Obj(),
	); err != nil {
		t.Fatal(err)
	}
	e.sched = e.startScheduler(t, heteroConfig("          architecturePreference: [amd64]\n"))
	in := func(node string, set ...string) {
		t.Helper()
		if !sets.New(set...).Has(node) {
			t.Errorf("pod placed on %s, want one of %v", node, set)
		}
	}
	// Required model: an H100 node (hA).
	hA := heteroPlace(t, e, gpuPod("mixed", "train", "4").Annotation(hetero.AnnotationGPUModels, "H100").Obj())
	in(hA, "h100-1", "h100-2")
	// First choice, partly used: hA 84, hB 63, A100 41.
	in(heteroPlace(t, e, gpuPod("mixed", "infer", "1").Annotation(hetero.AnnotationGPUModels, "H100,A100").Obj()), hA)
	// Required memory 60Gi: H100 only; hA (5 used) 86, hB 54.
	in(heteroPlace(t, e, gpuPod("mixed", "big-mem", "2").Annotation(hetero.AnnotationGPUMinMemory, "60Gi").Obj()), hA)
	// 30Gi is enough everywhere; least waste: an A100 67, hB 54 (hA is full for 4).
	aA := heteroPlace(t, e, gpuPod("mixed", "mid-mem", "4").Annotation(hetero.AnnotationGPUMinMemory, "30Gi").Obj())
	in(aA, "a100-1", "a100-2")
	// No wishes: packing; hA (7 used) 100, aA (4 used) 72, empty 34.
	in(heteroPlace(t, e, gpuPod("mixed", "any-gpu", "1").Obj()), hA)
	// Architectures.
	in(heteroPlace(t, e, harness.MakePod("mixed", "arm-only").Req("cpu", "1").Annotation(hetero.AnnotationArchitectures, "arm64").Obj()), "arm-1", "arm-2")
	// arm64 first: arm 100, CPU nodes 90, the full hA 50.
	in(heteroPlace(t, e, harness.MakePod("mixed", "multi-arch").Req("cpu", "1").Annotation(hetero.AnnotationArchitectures, "arm64,amd64").Obj()), "arm-1", "arm-2")
	// CPU pod, cluster preference amd64, accelerators idle: CPU nodes 100, arm 80, hA 60, others below 30.
	in(heteroPlace(t, e, harness.MakePod("mixed", "cpu-plain").Req("cpu", "2", "memory", "4Gi").Obj()), "cpu-1", "cpu-2")

	heteroPending(t, e, harness.MakePod("mixed", "ppc-only").Req("cpu", "1").Annotation(hetero.AnnotationArchitectures, "ppc64le").Obj(),
		hetero.ErrReasonArchitecture)
	heteroPending(t, e, gpuPod("mixed", "b200", "1").Annotation(hetero.AnnotationGPUModels, "B200").Obj(), hetero.ErrReasonModel)
	heteroBadAnnotation(t, e)
}

// heteroBadAnnotation: a bad value keeps the pod waiting with a reason and
// a Warning event naming the annotation and the value; fixing the
// annotation lets the pod in (the pod-update queueing hint).
func heteroBadAnnotation(t *testing.T, e *env) {
	t.Helper()
	c := e.cp.Client
	want := `annotation kube-mesos.io/gpu-min-memory="lots"`
	heteroPending(t, e, gpuPod("mixed", "bad", "1").Annotation(hetero.AnnotationGPUMinMemory, "lots").Obj(), want)
	if err := harness.Poll(e.ctx, heteroWait, func(ctx context.Context) (bool, error) {
		list, err := c.EventsV1().Events("mixed").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		for _, ev := range list.Items {
			if ev.Regarding.Name == "bad" && ev.Reason == hetero.ReasonInvalidAnnotation && strings.Contains(ev.Note, want) {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Errorf("no %s event naming %s: %v", hetero.ReasonInvalidAnnotation, want, err)
	}
	p, err := c.CoreV1().Pods("mixed").Get(e.ctx, "bad", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Annotations[hetero.AnnotationGPUMinMemory] = "20Gi"
	if _, err := c.CoreV1().Pods("mixed").Update(e.ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := harness.WaitForPodBound(e.ctx, c, "mixed", "bad", heteroWait); err != nil {
		t.Errorf("pod not scheduled after its annotation was fixed: %v", err)
	}
}

// TestHeteroFragmentation streams twelve 1-GPU pods, one at a time, to
// three 8×H100 nodes with our profile and to three others with the default
// profile (one scheduler, both profiles), then asks each for an 8-GPU pod.
// Ours packs (8/4/0 GPUs used) and the big pod finds a whole node; the
// default profile spreads (4/4/4) and the big pod stays pending. (The small
// pods ask for 2 CPUs and 16Gi, the same share of CPU and memory, so that
// LeastAllocated's integer scores never tie and the default spread is exact.)
func TestHeteroFragmentation(t *testing.T) {
	e := start(t, "")
	url, stop, err := harness.ServeMetrics()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	namespaces(t, e, "frag")
	schedulerOf := map[string]string{"ours": harness.SchedulerName, "default": "default-profile"}
	for set := range schedulerOf {
		for i := 1; i <= 3; i++ {
			if err := harness.CreateNodes(e.ctx, e.cp.Client, gpuNodeOf(fmt.Sprintf("%s-%d", set, i), productH100, "81559", "hopper").Label("set", set).Obj()); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.sched = e.startScheduler(t, heteroConfig(""))
	for _, set := range []string{"ours", "default"} {
		for i := 0; i < 12; i++ {
			heteroPlace(t, e, harness.MakePod("frag", fmt.Sprintf("%s-small-%02d", set, i)).Scheduler(schedulerOf[set]).NodeSelector("set", set).
				Req("cpu", "2", "memory", "16Gi", "nvidia.com/gpu", "1").Obj())
		}
	}
	used := heteroGPUsUsed(t, e, "frag")
	t.Logf("GPUs used per node after 12 one-GPU pods per profile: %v", used)
	for set, want := range map[string][]int64{"ours": {0, 4, 8}, "default": {4, 4, 4}} {
		got := []int64{used[set+"-1"], used[set+"-2"], used[set+"-3"]}
		sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: GPUs used per node %v, want %v", set, got, want)
		}
	}
	// Both sets: 48 GPUs, 24 used, ours-4 + default 3×4 partly used, largest free block 8 (ours).
	heteroMetrics(t, url, map[string]float64{"capacity": 48, "allocated": 24, "fragmented_nodes": 4, "largest_free_block": 8})

	big := func(set string) *v1.Pod {
		return harness.MakePod("frag", set+"-big").Scheduler(schedulerOf[set]).NodeSelector("set", set).
			Req("cpu", "8", "memory", "64Gi", "nvidia.com/gpu", "8").Obj()
	}
	if node := heteroPlace(t, e, big("ours")); used[node] != 0 {
		t.Errorf("8-GPU pod placed on %s, which had %d GPUs in use", node, used[node])
	}
	heteroPending(t, e, big("default"), "Insufficient nvidia.com/gpu")
	heteroMetrics(t, url, map[string]float64{"capacity": 48, "allocated": 32, "fragmented_nodes": 4, "largest_free_block": 4})
}

// heteroGPUsUsed sums the GPU requests of the bound pods of a namespace per node.
func heteroGPUsUsed(t *testing.T, e *env, ns string) map[string]int64 {
	t.Helper()
	list, err := e.cp.Client.CoreV1().Pods(ns).List(e.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, p := range list.Items {
		if p.Spec.NodeName != "" {
			q := p.Spec.Containers[0].Resources.Requests["nvidia.com/gpu"]
			out[p.Spec.NodeName] += q.Value()
		}
	}
	return out
}

// heteroMetrics waits until the accelerator metrics of the H100 model have
// the given values (kube_mesos_accelerator_<name>).
func heteroMetrics(t *testing.T, url string, want map[string]float64) {
	t.Helper()
	got := map[string]float64{}
	err := harness.Poll(context.Background(), heteroWait, func(context.Context) (bool, error) {
		for name := range want {
			v, err := harness.ScrapeValue(url, fmt.Sprintf("kube_mesos_accelerator_%s{model=%q}", name, productH100))
			if err != nil {
				return false, err
			}
			got[name] = v
		}
		return fmt.Sprint(got) == fmt.Sprint(want), nil
	})
	if err != nil {
		t.Errorf("accelerator metrics %v, want %v: %v", got, want, err)
	}
}

// TestHeteroStrict: with acceleratorNodePolicy Strict a CPU pod stays off
// the GPU node while the CPU node has room, and waits when it has none
// (the GPU_RESOURCES analogue) until a CPU node arrives; GPU pods and
// DaemonSet pods still use the GPU node. Bad args stop the scheduler.
func TestHeteroStrict(t *testing.T) {
	e := start(t, "")
	c := e.cp.Client
	if _, err := harness.StartScheduler(e.ctx, e.cp, heteroConfig("          architecturePreference: [x86_64]\n")); err == nil ||
		!strings.Contains(err.Error(), "architecturePreference[0]") {
		t.Errorf("bad architecturePreference: error %v, want one naming architecturePreference[0]", err)
	}
	namespaces(t, e, "strict")
	if err := harness.CreateNodes(e.ctx, c,
		harness.MakeNode("cpu-1").Capacity("cpu", "4", "memory", "16Gi").Obj(),
		gpuNodeOf("gpu-1", productA100, "40960", "ampere").Obj()); err != nil {
		t.Fatal(err)
	}
	e.sched = e.startScheduler(t, heteroConfig("          acceleratorNodePolicy: Strict\n"))
	for i := 0; i < 4; i++ {
		if node := heteroPlace(t, e, harness.MakePod("strict", fmt.Sprintf("cpu-%d", i)).Req("cpu", "1").Obj()); node != "cpu-1" {
			t.Errorf("CPU pod %d placed on %s while cpu-1 had room", i, node)
		}
	}
	heteroPending(t, e, harness.MakePod("strict", "cpu-4").Req("cpu", "1").Obj(), hetero.ErrReasonAcceleratorNode)
	if node := heteroPlace(t, e, gpuPod("strict", "gpu", "1").Obj()); node != "gpu-1" {
		t.Errorf("GPU pod placed on %s", node)
	}
	ds := harness.MakePod("strict", "daemon").Req("cpu", "1").NodeSelector(v1.LabelHostname, "gpu-1").Obj()
	ds.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "agent", UID: "d5", Controller: ptr.To(true)}}
	if node := heteroPlace(t, e, ds); node != "gpu-1" {
		t.Errorf("DaemonSet pod placed on %s", node)
	}
	if err := harness.CreateNodes(e.ctx, c, harness.MakeNode("cpu-2").Capacity("cpu", "4", "memory", "16Gi").Obj()); err != nil {
		t.Fatal(err)
	}
	if node, err := harness.WaitForPodBound(e.ctx, c, "strict", "cpu-4", heteroWait); err != nil || node != "cpu-2" {
		t.Errorf("waiting CPU pod: node %q, %v; want cpu-2 once it exists", node, err)
	}
}

// TestHeteroDRA: GPUs published as DRA devices (ResourceSlices with
// productName and memory capacity) and asked for by ResourceClaims: the
// required model picks the H100 node, packing puts the next claim beside
// it, and a CPU pod avoids the idle A100s.
func TestHeteroDRA(t *testing.T) {
	e := start(t, "")
	c := e.cp.Client
	namespaces(t, e, "dra")
	if err := harness.CreateNodes(e.ctx, c,
		harness.MakeNode("cpu-1").Capacity("cpu", "16", "memory", "64Gi").Obj(),
		harness.MakeNode("dra-a100").Capacity("cpu", "16", "memory", "64Gi").Obj(),
		harness.MakeNode("dra-h100").Capacity("cpu", "16", "memory", "64Gi").Obj()); err != nil {
		t.Fatal(err)
	}
	const driver = "gpu.nvidia.com"
	if _, err := c.ResourceV1().DeviceClasses().Create(e.ctx, &resourceapi.DeviceClass{
		ObjectMeta: metav1.ObjectMeta{Name: driver},
		Spec: resourceapi.DeviceClassSpec{Selectors: []resourceapi.DeviceSelector{{
			CEL: &resourceapi.CELDeviceSelector{Expression: fmt.Sprintf("device.driver == %q", driver)},
		}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for node, product := range map[string]string{"dra-a100": "NVIDIA A100-SXM4-40GB", "dra-h100": "NVIDIA H100 80GB HBM3"} {
		mem := map[string]string{"dra-a100": "40Gi", "dra-h100": "80Gi"}[node]
		if _, err := c.ResourceV1().ResourceSlices().Create(e.ctx, heteroSlice(node, driver, product, mem), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	e.sched = e.startScheduler(t, heteroConfig(""))
	withClaim := func(name string) *v1.Pod {
		if _, err := c.ResourceV1().ResourceClaims("dra").Create(e.ctx, &resourceapi.ResourceClaim{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: resourceapi.ResourceClaimSpec{Devices: resourceapi.DeviceClaim{Requests: []resourceapi.DeviceRequest{{
				Name: "gpu", Exactly: &resourceapi.ExactDeviceRequest{DeviceClassName: driver, AllocationMode: resourceapi.DeviceAllocationModeExactCount, Count: 1},
			}}}},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		p := harness.MakePod("dra", name).Req("cpu", "1").Obj()
		p.Spec.ResourceClaims = []v1.PodResourceClaim{{Name: "gpu", ResourceClaimName: ptr.To(name)}}
		p.Spec.Containers[0].Resources.Claims = []v1.ResourceClaim{{Name: "gpu"}}
		return p
	}
	h100 := withClaim("wants-h100")
	h100.Annotations = map[string]string{hetero.AnnotationGPUModels: "H100"}
	if node := heteroPlace(t, e, h100); node != "dra-h100" {
		t.Errorf("claim with required model H100 placed on %s", node)
	}
	// Packing: dra-h100 has 1 of 2 devices allocated, (1+1)/2 = 100 against 50.
	if node := heteroPlace(t, e, withClaim("any-gpu")); node != "dra-h100" {
		t.Errorf("second claim placed on %s, want dra-h100 (partly used)", node)
	}
	if node := heteroPlace(t, e, harness.MakePod("dra", "cpu").Req("cpu", "1").Obj()); node != "cpu-1" {
		t.Errorf("CPU pod placed on %s, want cpu-1 (the A100s are idle)", node)
	}
}

// heteroSlice publishes two GPUs of a node as DRA devices.
func heteroSlice(node, driver, product, mem string) *resourceapi.ResourceSlice {
	s := &resourceapi.ResourceSlice{ObjectMeta: metav1.ObjectMeta{Name: node + "-gpus"}}
	s.Spec.Driver = driver
	s.Spec.NodeName = ptr.To(node)
	s.Spec.Pool = resourceapi.ResourcePool{Name: node, Generation: 1, ResourceSliceCount: 1}
	for i := 0; i < 2; i++ {
		s.Spec.Devices = append(s.Spec.Devices, resourceapi.Device{
			Name: fmt.Sprintf("gpu-%d", i),
			Attributes: map[resourceapi.QualifiedName]resourceapi.DeviceAttribute{
				"productName": {StringValue: ptr.To(product)}, "type": {StringValue: ptr.To("gpu")},
			},
			Capacity: map[resourceapi.QualifiedName]resourceapi.DeviceCapacity{"memory": {Value: resource.MustParse(mem)}},
		})
	}
	return s
}

// TestHeteroEmbeddedAllocator runs the placements of TestHeteroMixedCluster
// with the whole profile (MesosOffers with the embedded allocator, DRF,
// Hetero). The allocator sizes each offer for the pods it is meant for, so
// a pod's scheduling cycle mostly sees one node: the one the allocator
// chose. It asks Hetero (cluster.Placement) which agents suit the pod and
// which is best, so the placements are Hetero's — whereas next fit over
// the agents in name order would put every pod on a100-1 first. The GPU
// nodes sort before the CPU nodes here on purpose.
func TestHeteroEmbeddedAllocator(t *testing.T) {
	e := start(t, "")
	namespaces(t, e, "mixed")
	if err := harness.CreateNodes(e.ctx, e.cp.Client,
		gpuNodeOf("a100-1", productA100, "40960", "ampere").Obj(), gpuNodeOf("a100-2", productA100, "40960", "ampere").Obj(),
		harness.MakeNode("arm-1").Capacity("cpu", "32", "memory", "128Gi").Label(v1.LabelArchStable, "arm64").Obj(),
		harness.MakeNode("cpu-1").Capacity("cpu", "16", "memory", "64Gi").Obj(),
		gpuNodeOf("h100-1", productH100, "81559", "hopper").Obj(), gpuNodeOf("h100-2", productH100, "81559", "hopper").Obj(),
	); err != nil {
		t.Fatal(err)
	}
	e.sched = e.startScheduler(t, withArgs(profile, `      - name: Hetero
        args:
          architecturePreference: [amd64]
`))
	in := func(node string, set ...string) {
		t.Helper()
		if !sets.New(set...).Has(node) {
			t.Errorf("pod placed on %s, want one of %v", node, set)
		}
	}
	// CPU pods: the CPU node (100) before idle GPU nodes and arm64 (80).
	for _, name := range []string{"web-0", "web-1", "web-2"} {
		in(heteroPlace(t, e, harness.MakePod("mixed", name).Req("cpu", "2", "memory", "4Gi").Obj()), "cpu-1")
	}
	// Required model: an H100 node, never an A100 offer declined first.
	hA := heteroPlace(t, e, gpuPod("mixed", "train", "4").Annotation(hetero.AnnotationGPUModels, "H100").Obj())
	in(hA, "h100-1", "h100-2")
	// Preferred models, partly used first: hA 84, hB 63, A100 41.
	in(heteroPlace(t, e, gpuPod("mixed", "infer", "1").Annotation(hetero.AnnotationGPUModels, "H100,A100").Obj()), hA)
	// 30Gi is enough everywhere; least waste: an A100 67, hB 54 (hA has 3 free).
	in(heteroPlace(t, e, gpuPod("mixed", "mid-mem", "4").Annotation(hetero.AnnotationGPUMinMemory, "30Gi").Obj()), "a100-1", "a100-2")
	// arm64-only images: the arm node.
	in(heteroPlace(t, e, harness.MakePod("mixed", "arm-only").Req("cpu", "1").Annotation(hetero.AnnotationArchitectures, "arm64").Obj()), "arm-1")
	// A model no node has: the pod waits, and the allocator says why.
	heteroPending(t, e, gpuPod("mixed", "b200", "1").Annotation(hetero.AnnotationGPUModels, "B200").Obj(), "hardware")
}
