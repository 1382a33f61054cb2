package resources

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestFromListToList(t *testing.T) {
	list := v1.ResourceList{
		"cpu": resource.MustParse("1500m"), "memory": resource.MustParse("4Gi"),
		"nvidia.com/gpu": resource.MustParse("2"), "ephemeral-storage": resource.MustParse("0"),
	}
	v := FromList(list)
	want := Vector{"cpu": 1500, "memory": 4 << 30, "nvidia.com/gpu": 2}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("FromList (-want +got):\n%s", diff)
	}
	back := v.ToList()
	for name, q := range back {
		if orig := list[name]; orig.Cmp(q) != 0 {
			t.Errorf("%s: round trip %s -> %s", name, orig.String(), q.String())
		}
	}
	if got := v.String(); got != "cpu=1500m,memory=4Gi,nvidia.com/gpu=2" {
		t.Errorf("String() = %q", got)
	}
}

func TestArithmetic(t *testing.T) {
	for _, tc := range []struct {
		name      string
		a, b      Vector
		plus, sub Vector
	}{
		{"disjoint", Vector{"cpu": 1}, Vector{"memory": 2}, Vector{"cpu": 1, "memory": 2}, Vector{"cpu": 1, "memory": -2}},
		{"empty", Vector{}, Vector{}, Vector{}, Vector{}},
		{"overflow saturates", Vector{"cpu": math.MaxInt64 - 1}, Vector{"cpu": 10},
			Vector{"cpu": math.MaxInt64}, Vector{"cpu": math.MaxInt64 - 11}},
		{"underflow saturates", Vector{"cpu": math.MinInt64 + 1}, Vector{"cpu": math.MaxInt64},
			Vector{"cpu": 0}, Vector{"cpu": math.MinInt64}},
		{"subtract MinInt64", Vector{"cpu": 0}, Vector{"cpu": math.MinInt64},
			Vector{"cpu": math.MinInt64}, Vector{"cpu": math.MaxInt64}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.plus, tc.a.Plus(tc.b)); diff != "" {
				t.Errorf("Plus (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.sub, tc.a.Minus(tc.b)); diff != "" {
				t.Errorf("Minus (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFits(t *testing.T) {
	for _, tc := range []struct {
		name          string
		req, capacity Vector
		fits          bool
		insufficient  []v1.ResourceName
	}{
		{"exact", Vector{"cpu": 1000, "memory": 1}, Vector{"cpu": 1000, "memory": 1}, true, nil},
		{"missing capacity", Vector{"nvidia.com/gpu": 1}, Vector{"cpu": 8}, false, []v1.ResourceName{"nvidia.com/gpu"}},
		{"zero request of missing resource", Vector{"nvidia.com/gpu": 0}, Vector{}, true, nil},
		{"negative capacity", Vector{"cpu": 1}, Vector{"cpu": -5}, false, []v1.ResourceName{"cpu"}},
		{"two short", Vector{"cpu": 2, "memory": 2, "pods": 1}, Vector{"cpu": 1, "memory": 1, "pods": 1}, false, []v1.ResourceName{"cpu", "memory"}},
		{"empty request", Vector{}, Vector{}, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.req.Fits(tc.capacity); got != tc.fits {
				t.Errorf("Fits = %v, want %v", got, tc.fits)
			}
			if diff := cmp.Diff(tc.insufficient, tc.req.Insufficient(tc.capacity)); diff != "" {
				t.Errorf("Insufficient (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMinOnlyClampEqual(t *testing.T) {
	v := Vector{"cpu": 5, "memory": -3, "pods": 0}
	if diff := cmp.Diff(Vector{"cpu": 5}, v.Clone().ClampZero()); diff != "" {
		t.Errorf("ClampZero (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Vector{"cpu": 2, "memory": -3}, v.Min(Vector{"cpu": 2, "memory": 7})); diff != "" {
		t.Errorf("Min (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Vector{"cpu": 5}, v.Only([]v1.ResourceName{"cpu", "pods", "gpu"})); diff != "" {
		t.Errorf("Only (-want +got):\n%s", diff)
	}
	if !(Vector{"cpu": 1, "x": 0}).Equal(Vector{"cpu": 1}) || (Vector{"cpu": 1}).Equal(Vector{"cpu": 2}) {
		t.Error("Equal ignores zero entries and compares values")
	}
	if !(Vector{"cpu": 0, "memory": -1}).IsZero() || (Vector{"cpu": 1}).IsZero() {
		t.Error("IsZero")
	}
}

func TestPodRequests(t *testing.T) {
	pod := &v1.Pod{Spec: v1.PodSpec{
		InitContainers: []v1.Container{{Name: "init", Resources: v1.ResourceRequirements{Requests: v1.ResourceList{"cpu": resource.MustParse("3")}},
			Ports: []v1.ContainerPort{{HostPort: 9000}}}},
		Containers: []v1.Container{
			{Name: "a", Resources: v1.ResourceRequirements{Requests: v1.ResourceList{"cpu": resource.MustParse("1"), "memory": resource.MustParse("1Gi")}},
				Ports: []v1.ContainerPort{{ContainerPort: 80, HostPort: 8080}, {ContainerPort: 81}}},
			{Name: "b", Resources: v1.ResourceRequirements{Requests: v1.ResourceList{"cpu": resource.MustParse("500m")}}},
		},
		Overhead: v1.ResourceList{"memory": resource.MustParse("64Mi")},
	}}
	// max(init 3 cpu, sum 1.5 cpu) = 3 cpu; memory 1Gi + 64Mi overhead; one pod slot.
	want := Vector{"cpu": 3000, "memory": 1<<30 + 64<<20, "pods": 1}
	if diff := cmp.Diff(want, PodRequests(pod)); diff != "" {
		t.Errorf("PodRequests (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int32{9000, 8080}, HostPorts(pod)); diff != "" {
		t.Errorf("HostPorts (-want +got):\n%s", diff)
	}
	if IsTerminal(pod) {
		t.Error("pending pod is terminal")
	}
	pod.Status.Phase = v1.PodSucceeded
	if !IsTerminal(pod) {
		t.Error("succeeded pod is not terminal")
	}
	node := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Status: v1.NodeStatus{Allocatable: v1.ResourceList{"cpu": resource.MustParse("4")}}}
	if diff := cmp.Diff(Vector{"cpu": 4000}, NodeAllocatable(node)); diff != "" {
		t.Errorf("NodeAllocatable (-want +got):\n%s", diff)
	}
}

// TestFormatCounts: counts and CPUs print as people write them — 1000 GPUs
// is "1000" (a Quantity would print "1k"), 1000 CPUs "1000", 1.5 CPUs
// "1500m"; bytes keep binary suffixes.
func TestFormatCounts(t *testing.T) {
	for _, tc := range []struct {
		name v1.ResourceName
		n    int64
		want string
	}{
		{"nvidia.com/gpu", 1000, "1000"},
		{"nvidia.com/gpu", 2, "2"},
		{v1.ResourcePods, 110, "110"},
		{v1.ResourceCPU, 1_000_000, "1000"},
		{v1.ResourceCPU, 1500, "1500m"},
		{v1.ResourceCPU, 0, "0"},
		{v1.ResourceMemory, 4 << 30, "4Gi"},
	} {
		if got := Format(tc.name, tc.n); got != tc.want {
			t.Errorf("Format(%s, %d) = %q, want %q", tc.name, tc.n, got, tc.want)
		}
	}
}
