package hetero

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/klog/v2/ktesting"
)

// gauges returns the values of a metric family by model label.
func gauges(t *testing.T, name string) map[string]float64 {
	t.Helper()
	families, err := legacyregistry.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "model" {
					out[l.GetValue()] = m.GetGauge().GetValue()
				}
			}
		}
	}
	return out
}

func bound(p *v1.Pod, node string) *v1.Pod {
	p.Spec.NodeName = node
	return p
}

// TestMetrics: capacity, allocation and fragmentation per model from the
// nodes and the bound pods; series of models that are gone are dropped.
func TestMetrics(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	done := bound(pod("done", "4", nil), "h2")
	done.Status.Phase = v1.PodSucceeded
	objs := []runtime.Object{
		gpuNode("h1", "NVIDIA-H100-80GB-HBM3", "81559"), gpuNode("h2", "NVIDIA-H100-80GB-HBM3", "81559"),
		gpuNode("a1", "NVIDIA-A100-SXM4-40GB", "40960"), node("cpu", "amd64", nil, ""), node("gpu-no-model", "amd64", nil, "2"),
		bound(pod("p1", "2", nil), "h1"), bound(pod("p2", "1", nil), "h1"), bound(pod("p3", "8", nil), "a1"),
		bound(pod("cpu-pod", "", nil), "h2"), done, pod("pending", "8", nil),
	}
	pl, _ := newPlugin(t, defaultArgs(t), objs...)
	exported := pl.exportMetrics(ctx, sets.New("NVIDIA-V100"))
	if diff := cmp.Diff(sets.New("NVIDIA-H100-80GB-HBM3", "NVIDIA-A100-SXM4-40GB", "unknown"), exported); diff != "" {
		t.Errorf("exported models (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		metric string
		want   map[string]float64
	}{
		{"kube_mesos_accelerator_capacity", map[string]float64{"NVIDIA-H100-80GB-HBM3": 16, "NVIDIA-A100-SXM4-40GB": 8, "unknown": 2}},
		{"kube_mesos_accelerator_allocated", map[string]float64{"NVIDIA-H100-80GB-HBM3": 3, "NVIDIA-A100-SXM4-40GB": 8, "unknown": 0}},
		{"kube_mesos_accelerator_fragmented_nodes", map[string]float64{"NVIDIA-H100-80GB-HBM3": 1, "NVIDIA-A100-SXM4-40GB": 0, "unknown": 0}},
		{"kube_mesos_accelerator_largest_free_block", map[string]float64{"NVIDIA-H100-80GB-HBM3": 8, "NVIDIA-A100-SXM4-40GB": 0, "unknown": 2}},
	} {
		if diff := cmp.Diff(tc.want, gauges(t, tc.metric)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.metric, diff)
		}
	}
	pl.store.DeleteNode("a1")
	pl.exportMetrics(ctx, exported)
	if got := gauges(t, "kube_mesos_accelerator_capacity"); got["NVIDIA-A100-SXM4-40GB"] != 0 || len(got) != 2 {
		t.Errorf("capacity after the A100 node left: %v", got)
	}
}
