package cluster

import (
	"fmt"
	"math/rand/v2"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

const sched = "kube-mesos-scheduler"

func ns(name string, labels, annotations map[string]string) *v1.Namespace {
	return &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: annotations}}
}

func node(name string, pairs ...string) *v1.Node {
	n := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: v1.NodeStatus{Allocatable: v1.ResourceList{"pods": resource.MustParse("110")}}}
	for i := 0; i+1 < len(pairs); i += 2 {
		n.Status.Allocatable[v1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return n
}

func pod(namespace, name string, pairs ...string) *v1.Pod {
	p := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, UID: types.UID(namespace + "/" + name)},
		Spec:       v1.PodSpec{SchedulerName: sched, Containers: []v1.Container{{Name: "c", Resources: v1.ResourceRequirements{Requests: v1.ResourceList{}}}}},
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		p.Spec.Containers[0].Resources.Requests[v1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return p
}

// drain plays the scheduler with the fairness gate: it repeatedly places
// a pending pod whose role is not behind another runnable role, on the
// first node where it fits, until nothing can be placed.
func drain(t *testing.T, s *State, pods []*v1.Pod) map[string]int {
	t.Helper()
	placed := map[string]int{}
	for progress := true; progress; {
		progress = false
		for _, p := range pods {
			sp, ok := s.Pod(p.UID)
			if !ok || !sp.Pending() {
				continue
			}
			if s.Ahead(sp.Role, 0, sp.Request) != "" || s.CheckQuota(p, sp.Role, sp.Request) != nil {
				continue
			}
			for _, n := range s.Nodes() {
				if sp.Request.FitsFree(n.Allocatable, n.Used) {
					s.Assume(p, n.Name)
					placed[p.Namespace]++
					progress = true
					break
				}
			}
			if progress {
				break
			}
		}
	}
	return placed
}

func TestGatePaperExample(t *testing.T) {
	s := New(sched, RoleConfig{})
	s.UpsertNamespace(ns("a", nil, nil))
	s.UpsertNamespace(ns("b", nil, nil))
	s.UpsertNode(node("n1", "cpu", "9", "memory", "18Gi"))
	var pods []*v1.Pod
	for i := 0; i < 20; i++ {
		pods = append(pods, pod("a", fmt.Sprint("a", i), "cpu", "1", "memory", "4Gi"))
	}
	for i := 0; i < 20; i++ {
		pods = append(pods, pod("b", fmt.Sprint("b", i), "cpu", "3", "memory", "1Gi"))
	}
	for _, p := range pods {
		s.UpsertPod(p)
	}
	got := drain(t, s, pods)
	if got["a"] != 3 || got["b"] != 2 {
		t.Errorf("placed %v, want a:3 b:2", got)
	}
}

func TestGateHierarchy(t *testing.T) {
	s := New(sched, RoleConfig{})
	s.UpsertNamespace(ns("ml", map[string]string{"kube-mesos.io/role": "eng.ml"}, nil))
	s.UpsertNamespace(ns("web", nil, map[string]string{"kube-mesos.io/role": "eng/web"}))
	s.UpsertNamespace(ns("ops", nil, nil))
	s.UpsertNode(node("n1", "cpu", "12", "memory", "100Gi"))
	var pods []*v1.Pod
	for _, n := range []string{"ml", "web", "ops"} {
		for i := 0; i < 10; i++ {
			pods = append(pods, pod(n, fmt.Sprint(n, i), "cpu", "1", "memory", "1Gi"))
		}
	}
	for _, p := range pods {
		s.UpsertPod(p)
	}
	got := drain(t, s, pods)
	if got["ml"] != 3 || got["web"] != 3 || got["ops"] != 6 {
		t.Errorf("placed %v, want ml:3 web:3 ops:6", got)
	}
}

// TestGateWorkConserving: the gate holds a pod back only under contention.
// Without offers, when every pending pod fits at once, every pod goes; with
// offers, a pod that fits in an offer to its own role goes (the allocator
// already shared resources in DRF order), and one that does not waits for
// the role ahead.
func TestGateWorkConserving(t *testing.T) {
	s := New(sched, RoleConfig{})
	s.UpsertNamespace(ns("a", nil, nil))
	s.UpsertNamespace(ns("b", nil, nil))
	s.UpsertNode(node("n1", "cpu", "4", "memory", "8Gi"))
	a := pod("a", "a0", "cpu", "1")
	b := pod("b", "b0", "cpu", "1")
	s.UpsertPod(a)
	s.UpsertPod(b)
	req := s.RequestOf(b)
	if got := s.Ahead("b", 0, req); got != "" {
		t.Errorf("room for all, yet b waits for %q", got)
	}
	big := pod("a", "a1", "cpu", "3")
	s.UpsertPod(big) // 5 CPUs asked of 4: contention
	if got := s.Ahead("b", 0, req); got != "a" {
		t.Errorf("under contention b waits for %q, want a", got)
	}
	offered := map[string]bool{"b": true}
	s.SetFitFunc(func(role string, _ resources.Vector) bool { return offered[role] })
	if got := s.Ahead("b", 0, req); got != "" {
		t.Errorf("b fits in its own offer, yet waits for %q", got)
	}
	offered = map[string]bool{"a": true}
	if got := s.Ahead("b", 0, req); got != "a" {
		t.Errorf("b has no fitting offer while a has: b waits for %q, want a", got)
	}
}

// TestIncrementalTotals: the running sums behind the gate's "room for all"
// (pending demand, use of schedulable nodes) equal a recount after a random
// mix of pods created, placed, forgotten and deleted and nodes added,
// cordoned, uncordoned and deleted.
func TestIncrementalTotals(t *testing.T) {
	s := New(sched, RoleConfig{})
	rng := rand.New(rand.NewPCG(7, 7))
	var pods []*v1.Pod
	for i := 0; i < 2000; i++ {
		switch k := rng.IntN(10); {
		case k < 4:
			p := pod(fmt.Sprintf("ns%d", rng.IntN(3)), fmt.Sprint(i), "cpu", fmt.Sprint(1+rng.IntN(3)), "memory", fmt.Sprintf("%dGi", 1+rng.IntN(4)))
			if rng.IntN(4) == 0 {
				p.Spec.NodeName = fmt.Sprintf("n%d", rng.IntN(6)) // bound by someone else, maybe to an unknown node
			}
			s.UpsertPod(p)
			pods = append(pods, p)
		case k < 6 && len(pods) > 0:
			p := pods[rng.IntN(len(pods))]
			if sp, ok := s.Pod(p.UID); ok && sp.Pending() {
				s.Assume(p, fmt.Sprintf("n%d", rng.IntN(6)))
			}
		case k < 7 && len(pods) > 0:
			s.Forget(pods[rng.IntN(len(pods))])
		case k < 8 && len(pods) > 0:
			i := rng.IntN(len(pods))
			s.DeletePod(pods[i].UID)
			pods = append(pods[:i], pods[i+1:]...)
		case k < 9:
			n := node(fmt.Sprintf("n%d", rng.IntN(6)), "cpu", "16", "memory", "64Gi")
			n.Spec.Unschedulable = rng.IntN(3) == 0
			s.UpsertNode(n)
		default:
			s.DeleteNode(fmt.Sprintf("n%d", rng.IntN(6)))
		}
		s.mu.Lock()
		demand, free := resources.Vector{}, s.total.Clone()
		for _, pd := range s.pendingBy {
			for _, g := range pd.groups {
				for range g.pods {
					demand.Add(g.req)
				}
			}
		}
		for _, n := range s.nodes {
			if n.Schedulable {
				free.Sub(n.Used)
			}
		}
		gotDemand, gotFree := s.pendingDemand.Clone().ClampZero(), s.freeLocked()
		s.mu.Unlock()
		if !gotDemand.Equal(demand.ClampZero()) || !gotFree.Equal(free) {
			t.Fatalf("step %d: pending demand %v, recount %v; free %v, recount %v", i, gotDemand, demand, gotFree, free)
		}
	}
}
