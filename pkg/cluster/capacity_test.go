package cluster

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
	"github.com/kube-mesos/kube-mesos-scheduler/test/build"
)

// TestCapacityKeptAsStateChanges: the fair targets' capacity comes from
// sums the state keeps as nodes and pods change (no walk over every node).
// After every step of random sequences — nodes added, resized, cordoned,
// uncordoned and deleted; pods of a role, of a namespace with a bad role
// and of another scheduler created, bound, evicted and deleted; a
// namespace's role fixed and broken again — it must equal the capacity
// derived here from scratch, node by node and pod by pod: each
// schedulable node's allocatable less the requests of the no-role pods on
// it and less what is held elsewhere there (at most its allocatable),
// plus the requests of role pods not being evicted on nodes that take no
// new pods; negative entries clamped to zero. AppendNodes must return
// every node once, in name order.
func TestCapacityKeptAsStateChanges(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		s := New(sched, RoleConfig{})
		s.UpsertNamespace(ns("a", map[string]string{"kube-mesos.io/role": "a"}, nil))
		s.UpsertNamespace(ns("bad", map[string]string{"kube-mesos.io/role": "-x"}, nil))
		var pods []*v1.Pod
		nodeName := func() string { return fmt.Sprintf("n%d", rng.IntN(8)) }
		for step := 0; step < 150; step++ {
			switch op := rng.IntN(10); {
			case op < 2: // add or change a node
				b := build.MakeNode(nodeName()).Capacity("cpu", fmt.Sprint(4+4*rng.IntN(2)), "memory", "8Gi")
				n := b.Obj()
				n.Spec.Unschedulable = rng.IntN(3) == 0
				s.UpsertNode(n)
			case op == 2:
				s.DeleteNode(nodeName())
			case op < 5: // a new pod, maybe bound at once
				space := []string{"a", "a", "bad", "other"}[rng.IntN(4)]
				b := build.MakePod(space, fmt.Sprintf("p%d", step)).Req("cpu", fmt.Sprint(1+rng.IntN(2)), "memory", "1Gi")
				if space == "other" {
					b = b.Scheduler("default-scheduler")
				} else {
					b = b.Scheduler(sched)
				}
				if rng.IntN(2) == 0 {
					b = b.Node(nodeName())
				}
				p := b.Obj()
				pods = append(pods, p)
				s.UpsertPod(p)
			case op == 5 && len(pods) > 0: // bind a pending pod
				p := pods[rng.IntN(len(pods))]
				if p.Spec.NodeName == "" {
					p = p.DeepCopy()
					p.Spec.NodeName = nodeName()
					s.UpsertPod(p)
				}
			case op == 6 && len(pods) > 0: // evict a bound pod
				p := pods[rng.IntN(len(pods))]
				s.Preempting(build.MakePod("a", "preemptor").Obj(), "n0", []*v1.Pod{p})
			case op == 7 && len(pods) > 0:
				i := rng.IntN(len(pods))
				s.DeletePod(pods[i].UID)
				pods = slices.Delete(pods, i, i+1)
			case op == 8: // the bad namespace's role fixed, or broken again
				role := "-x"
				if rng.IntN(2) == 0 {
					role = "fixed"
				}
				s.UpsertNamespace(ns("bad", map[string]string{"kube-mesos.io/role": role}, nil))
			}
			held := map[string]resources.Vector{
				"n1":    {v1.ResourceCPU: 1500},
				"n2":    {v1.ResourceCPU: 99000}, // more than the node has
				"ghost": {v1.ResourceCPU: 5000},  // no such node
			}
			for _, h := range []map[string]resources.Vector{nil, held} {
				s.mu.RLock()
				got := s.targetInputLocked(h).Capacity
				s.mu.RUnlock()
				if want := capacityFromScratch(s, h); !got.Equal(want) {
					t.Fatalf("seed %d step %d (held %v): capacity %v, from scratch %v", seed, step, h != nil, got, want)
				}
			}
			nodes := s.AppendNodes(nil)
			if !slices.IsSortedFunc(nodes, func(x, y Node) int { return strings.Compare(x.Name, y.Name) }) || len(nodes) != len(s.Nodes()) {
				t.Fatalf("seed %d step %d: AppendNodes %d nodes, not in name order or not all of %d", seed, step, len(nodes), len(s.Nodes()))
			}
		}
	}
}

// capacityFromScratch computes the capacity node by node from the pods on
// each (see TestCapacityKeptAsStateChanges).
func capacityFromScratch(s *State, held map[string]resources.Vector) resources.Vector {
	out := resources.Vector{}
	for _, n := range s.Nodes() {
		for _, p := range s.PodsOn(n.Name) {
			switch {
			case n.Schedulable && p.Role == "":
				out.Sub(p.Request)
			case !n.Schedulable && p.Role != "" && !p.Evicting:
				out.Add(p.Request)
			}
		}
		if !n.Schedulable {
			continue
		}
		out.Add(n.Allocatable)
		if h := held[n.Name]; h != nil {
			out.Sub(h.Min(n.Allocatable))
		}
	}
	return out.ClampZero()
}
