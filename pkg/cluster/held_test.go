package cluster

import (
	"fmt"
	"maps"
	"testing"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// heldScenario is one node ⟨15 CPU, 12 GiB⟩ and three roles whose weighted
// DRF allocation fills its memory exactly (a scenario of the fairness
// property test): r0 weight 3, pods ⟨500m, 3584 MiB⟩ (dominant: memory,
// 7/24 a pod, 7/72 weighted); r1 weight 2, ⟨500m, 4 GiB⟩ (1/3, 1/6
// weighted); r2 weight 1, ⟨2, 1 GiB⟩ (CPU 2/15 a pod). Filling from zero:
// one pod each (r0 at 7/72, r2 at 2/15, r1 at 1/6), then r0's second pod
// (7/72 < 2/15): 3584·2 + 4096 + 1024 = 12288 MiB, the memory is full.
// So r0:2 r1:1 r2:1. With 512 MiB of the node held by another framework,
// r0's second pod no longer fits (12288 - 512 - 8704 = 3072 < 3584): r2,
// next in line at 2/15, takes its second pod (1024 MiB), and with 2048
// MiB left r2 would go on but asks for no more: r0:1 r1:1 r2:2.
func heldScenario(t *testing.T) *State {
	t.Helper()
	s := New(sched, RoleConfig{})
	for r, w := range map[string]string{"r0": "3", "r1": "2", "r2": "1"} {
		s.UpsertNamespace(ns(r, nil, map[string]string{"kube-mesos.io/weight": w}))
	}
	s.UpsertNode(node("n1", "cpu", "15", "memory", "12Gi"))
	shapes := map[string][]string{
		"r0": {"cpu", "500m", "memory", "3584Mi"},
		"r1": {"cpu", "500m", "memory", "4Gi"},
		"r2": {"cpu", "2", "memory", "1Gi"},
	}
	for r, shape := range shapes {
		for i := 0; i < 2; i++ {
			s.UpsertPod(pod(r, fmt.Sprint(r, i), shape...))
		}
	}
	return s
}

func targetCounts(s *State) map[string]int {
	out := map[string]int{}
	for r, tg := range s.Targets().Roles {
		out[r] = tg.Pods
	}
	return out
}

// TestHeldElsewhereOnlyOnLiveNodes: what an offer source says is held
// elsewhere shrinks the roles' capacity on the schedulable nodes the state
// has — and only there: a figure the source still has for a node that is
// gone (no offer will ever correct it) must not take room from the others.
func TestHeldElsewhereOnlyOnLiveNodes(t *testing.T) {
	full := map[string]int{"r0": 2, "r1": 1, "r2": 1}   // heldScenario, nothing held
	shrunk := map[string]int{"r0": 1, "r1": 1, "r2": 2} // heldScenario, 512 MiB held on n1
	cases := []struct {
		name string
		held map[string]resources.Vector
		want map[string]int
	}{
		{"nothing held", nil, full},
		{"held on the node", map[string]resources.Vector{"n1": vec("memory", "512Mi")}, shrunk},
		{"held on a node that is gone", map[string]resources.Vector{"gone": vec("memory", "512Mi")}, full},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := heldScenario(t)
			s.SetHeldElsewhere(func() map[string]resources.Vector { return c.held })
			if got := targetCounts(s); !maps.Equal(got, c.want) {
				t.Errorf("target pods %v, want %v", got, c.want)
			}
		})
	}
}

// TestTargetsFollowHeldChangedWhileComputing: the source changes what is
// held elsewhere (and says so) right after the state asked for it, before
// the targets are computed. The targets computed from the old figure must
// not be kept as current: the next query computes them again.
func TestTargetsFollowHeldChangedWhileComputing(t *testing.T) {
	s := heldScenario(t)
	held := map[string]resources.Vector{"n1": vec("memory", "512Mi")}
	s.SetHeldElsewhere(func() map[string]resources.Vector {
		out := held
		if out != nil {
			// The other framework's task ends as we read the figure: the
			// next offer shows nothing held.
			held = nil
			s.HeldElsewhereChanged()
		}
		return out
	})
	// The first query sees 512 MiB held: r0:1 r1:1 r2:2 (heldScenario).
	if got, want := targetCounts(s), map[string]int{"r0": 1, "r1": 1, "r2": 2}; !maps.Equal(got, want) {
		t.Fatalf("first targets %v, want %v", got, want)
	}
	// The next one must see nothing held: r0:2 r1:1 r2:1.
	if got, want := targetCounts(s), map[string]int{"r0": 2, "r1": 1, "r2": 1}; !maps.Equal(got, want) {
		t.Errorf("targets after the change %v, want %v", got, want)
	}
}
