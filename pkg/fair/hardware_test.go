package fair

import (
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// labelPlacement is a stand-in for Hetero: a pod annotated gpu-model=M is
// admitted only on nodes labelled model=M and prefers the node whose GPUs
// it fills most; other pods prefer nodes without a model label (score 100)
// to GPU nodes (score 10).
type labelPlacement struct{ calls int }

type labelPod struct {
	model string
	p     *labelPlacement
}

func (l *labelPlacement) For(pod *v1.Pod) PodPlacement {
	l.calls++
	return &labelPod{model: pod.Annotations["gpu-model"], p: l}
}

func (p *labelPod) Key() string { return "model=" + p.model }

func (p *labelPod) Admits(n *v1.Node) bool { return p.model == "" || n.Labels["model"] == p.model }

func (p *labelPod) Score(n *v1.Node, used resources.Vector) int64 {
	if p.model == "" {
		if n.Labels["model"] == "" {
			return 100
		}
		return 10
	}
	return 10 * used["nvidia.com/gpu"] // fuller first
}

func gpuAgent(name, model string, cpu string, gpus string) *Agent {
	a := mkAgent(name, vec("cpu", cpu, "memory", "64Gi", "nvidia.com/gpu", gpus))
	a.Node.Labels["model"] = model
	return a
}

func withHW(p Placement, ds []Demand) []Demand {
	c := NewHWCache(p, nil)
	for i := range ds {
		ds[i].HW = c.Of(ds[i].Pod)
	}
	return ds
}

// TestAllocateByHardware: with a Placement, a CPU pod is offered a CPU
// node though GPU nodes come first in the agents' order, a GPU pod only a
// node of its model, and the GPU pods pack onto the node they fill most.
func TestAllocateByHardware(t *testing.T) {
	pl := &labelPlacement{}
	agents := []*Agent{
		gpuAgent("a100-1", "A100", "32", "8"),
		gpuAgent("h100-1", "H100", "32", "8"),
		mkAgent("cpu-1", vec("cpu", "32", "memory", "64Gi")),
	}
	in := mkIn(agents, map[string]*Role{
		"web": {Demand: withHW(pl, mkDemand("web", 3, vec("cpu", "1", "memory", "1Gi"), nil))},
		"ml": {Demand: withHW(pl, mkDemand("ml", 3, vec("cpu", "1", "memory", "1Gi", "nvidia.com/gpu", "2"), func(p *v1.Pod) {
			p.Annotations = map[string]string{"gpu-model": "H100"}
		}))},
	})
	grants, why := allocate(in)
	if len(why) != 0 {
		t.Fatalf("unplaced: %v", why)
	}
	for _, g := range grants {
		want := map[string]string{"web": "cpu-1", "ml": "h100-1"}[g.Role]
		if g.Agent.Name != want {
			t.Errorf("role %s got %d pod(s) on %s, want %s", g.Role, g.N, g.Agent.Name, want)
		}
	}
	if got := pods(grants); got["web"] != 3 || got["ml"] != 3 {
		t.Errorf("placed %v, want web:3 ml:3", got)
	}
}

// TestAllocateHardwareNowhere: a pod whose hardware no node has is not
// offered anything, and the reason says so.
func TestAllocateHardwareNowhere(t *testing.T) {
	pl := &labelPlacement{}
	in := mkIn([]*Agent{gpuAgent("a100-1", "A100", "32", "8"), mkAgent("cpu-1", vec("cpu", "32", "memory", "64Gi"))}, map[string]*Role{
		"ml": {Demand: withHW(pl, mkDemand("ml", 1, vec("cpu", "1", "nvidia.com/gpu", "1"), func(p *v1.Pod) {
			p.Annotations = map[string]string{"gpu-model": "H100"}
		}))},
	})
	grants, why := allocate(in)
	if len(grants) != 0 {
		t.Fatalf("granted %d offers for a pod no node suits", len(grants))
	}
	if w := why["ml-0"]; !strings.Contains(w, "hardware") {
		t.Errorf("reason %q does not name the hardware", w)
	}
}

// TestHardwareCacheByVersion: a pod's judgement is computed once per
// resourceVersion across cycles, and dropped with the pod.
func TestHardwareCacheByVersion(t *testing.T) {
	pl := &labelPlacement{}
	d := mkDemand("r", 2, vec("cpu", "1"), nil)
	d[0].Pod.ResourceVersion, d[1].Pod.ResourceVersion = "1", "1"
	c := NewHWCache(pl, nil)
	c.Of(d[0].Pod)
	c.Of(d[1].Pod)
	c = NewHWCache(pl, c)
	c.Of(d[0].Pod)
	d[1].Pod.ResourceVersion = "2"
	c.Of(d[1].Pod)
	if pl.calls != 3 {
		t.Errorf("For called %d times, want 3 (two pods, one changed)", pl.calls)
	}
	c = NewHWCache(pl, c)
	c.Of(d[1].Pod)
	if len(c.now) != 1 || pl.calls != 3 {
		t.Errorf("cache holds %d pods after a cycle with one, For calls %d", len(c.now), pl.calls)
	}
}

// TestOfferedToPlacement: with agents offered to roles, each role's pods
// go to the agents offered to it — with and without a hardware judge —
// while hardware still comes first. Three CPU agents ⟨32 CPU, 64 GiB⟩:
// cpu-1 offered to b, cpu-2 to a, cpu-3 to nobody; a and b each 3 pods of
// ⟨1 CPU, 1 GiB⟩, all fit anywhere. Without offers next fit would put both
// roles on cpu-1 (the first agent); with them a lands on cpu-2 and b on
// cpu-1 only. The GPU pod of a (H100) may only go to h100-1, offered to b:
// hardware admits nothing else, so it goes there all the same.
func TestOfferedToPlacement(t *testing.T) {
	for _, judge := range []bool{false, true} {
		name := map[bool]string{false: "next fit", true: "hardware"}[judge]
		t.Run(name, func(t *testing.T) {
			pl := &labelPlacement{}
			hw := func(ds []Demand) []Demand {
				if judge {
					return withHW(pl, ds)
				}
				return ds
			}
			agents := []*Agent{
				mkAgent("cpu-1", vec("cpu", "32", "memory", "64Gi")),
				mkAgent("cpu-2", vec("cpu", "32", "memory", "64Gi")),
				mkAgent("cpu-3", vec("cpu", "32", "memory", "64Gi")),
			}
			roles := map[string]*Role{
				"a": {Demand: hw(mkDemand("a", 3, vec("cpu", "1", "memory", "1Gi"), nil))},
				"b": {Demand: hw(mkDemand("b", 3, vec("cpu", "1", "memory", "1Gi"), nil))},
			}
			want := map[string]string{"a": "cpu-2", "b": "cpu-1"}
			if judge {
				agents = append(agents, gpuAgent("h100-1", "H100", "32", "8"))
				roles["a"].Demand = append(roles["a"].Demand, hw(mkDemand("a-gpu", 1, vec("cpu", "1", "nvidia.com/gpu", "1"), func(p *v1.Pod) {
					p.Annotations = map[string]string{"gpu-model": "H100"}
				}))...)
			}
			in := mkIn(agents, roles)
			in.OfferedTo = map[string]string{"cpu-1": "b", "cpu-2": "a", "h100-1": "b"}
			grants, why := allocate(in)
			if len(why) != 0 {
				t.Fatalf("unplaced: %v", why)
			}
			placed := map[string]int{}
			for _, g := range grants {
				if g.Pods[0].Annotations["gpu-model"] == "H100" {
					if g.Agent.Name != "h100-1" {
						t.Errorf("a's GPU pod on %s, want h100-1", g.Agent.Name)
					}
					continue
				}
				placed[g.Role] += g.N
				if g.Agent.Name != want[g.Role] {
					t.Errorf("role %s got %d pod(s) on %s, want %s (offered to it)", g.Role, g.N, g.Agent.Name, want[g.Role])
				}
			}
			if placed["a"] != 3 || placed["b"] != 3 {
				t.Errorf("placed %v, want a:3 b:3", placed)
			}
		})
	}
}
