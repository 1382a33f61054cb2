package cluster

import (
	"fmt"
	"math/rand/v2"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/fair"
	"github.com/kube-mesos/kube-mesos-scheduler/test/build"
)

const sched = "kube-mesos-scheduler"

func ns(name string, labels, annotations map[string]string) *v1.Namespace {
	return &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: annotations}}
}

func node(name string, pairs ...string) *v1.Node {
	return build.MakeNode(name).Capacity(pairs...).Obj()
}

func pod(namespace, name string, pairs ...string) *v1.Pod {
	return build.MakePod(namespace, name).Scheduler(sched).Req(pairs...).Obj()
}

// drain plays the scheduler with the fairness gate: it repeatedly places
// a pending pod whose role stays within its fair target, on the first node
// where it fits, until nothing can be placed.
func drain(t *testing.T, s *State, pods []*v1.Pod) map[string]int {
	t.Helper()
	placed := map[string]int{}
	for progress := true; progress; {
		progress = false
		s.RefreshTargets()
		for _, p := range pods {
			sp, ok := s.Pod(p.UID)
			if !ok || !sp.Pending() {
				continue
			}
			if v, _ := s.FairShare(p.UID, sp.Role, sp.Request); v != fair.Below && v != fair.At {
				continue
			}
			if s.CheckQuota(p, sp.Role, sp.Request) != nil {
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

// TestGateFollowsDemand: targets follow the demand of every role. A role
// alone may take the whole node (work conserving); when a second role asks,
// both are held to half; a role whose pods failed everywhere (blocked)
// asks for nothing, and the other may have everything again.
func TestGateFollowsDemand(t *testing.T) {
	s := New(sched, RoleConfig{})
	s.UpsertNamespace(ns("a", nil, nil))
	s.UpsertNamespace(ns("b", nil, nil))
	s.UpsertNode(node("n1", "cpu", "4", "memory", "8Gi"))
	var as, bs []*v1.Pod
	for i := 0; i < 4; i++ {
		as = append(as, pod("a", fmt.Sprint("a", i), "cpu", "1"))
		bs = append(bs, pod("b", fmt.Sprint("b", i), "cpu", "1"))
		s.UpsertPod(as[i])
	}
	verdict := func(p *v1.Pod) fair.Verdict {
		s.RefreshTargets()
		v, _ := s.FairShare(p.UID, p.Namespace, s.RequestOf(p))
		return v
	}
	for i := 0; i < 3; i++ {
		s.Assume(as[i], "n1")
	}
	if v := verdict(as[3]); v != fair.At {
		t.Fatalf("a alone: its 4th pod is %v its target, want at (4 of 4 CPUs)", v)
	}
	for _, p := range bs {
		s.UpsertPod(p)
	}
	// 4 CPUs, 1-CPU pods, demand 4 + 4: targets 2 and 2.
	if v := verdict(as[3]); v != fair.Above {
		t.Errorf("with b asking, a's 4th pod is %v its target, want above (a holds 3, target 2)", v)
	}
	if v := verdict(bs[0]); v != fair.Below {
		t.Errorf("b's first pod is %v its target, want below", v)
	}
	for _, p := range bs {
		s.MarkBlocked(p.UID)
	}
	if v := verdict(as[3]); v != fair.At {
		t.Errorf("b's pods blocked: a's 4th pod is %v its target, want at (b asks for nothing)", v)
	}
}

// TestIncrementalTotals: the running sum behind the headroom rule's free
// capacity (use of schedulable nodes) equals a recount after a random mix
// of pods created, placed, forgotten and deleted and nodes added,
// cordoned, uncordoned and deleted.
func TestIncrementalTotals(t *testing.T) {
	s := New(sched, RoleConfig{})
	rng := rand.New(rand.NewPCG(7, 7))
	var pods []*v1.Pod
	for i := 0; i < 2000; i++ {
		switch k := rng.IntN(11); {
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

		case k < 9 && len(pods) > 0:
			s.MarkBlocked(pods[rng.IntN(len(pods))].UID)
		case k < 10:
			n := node(fmt.Sprintf("n%d", rng.IntN(6)), "cpu", "16", "memory", "64Gi")
			n.Spec.Unschedulable = rng.IntN(3) == 0
			s.UpsertNode(n)
		default:
			s.DeleteNode(fmt.Sprintf("n%d", rng.IntN(6)))
		}
		s.mu.Lock()
		free := s.total.Clone()
		for _, n := range s.nodes {
			if n.Schedulable {
				free.Sub(n.Used)
			}
		}
		gotFree := s.freeLocked()
		placed := map[string]int{}
		for _, p := range s.pods {
			if p.Role != "" && p.NodeName != "" && !p.Evicting {
				placed[p.Role]++
			}
		}
		counted := map[string]int{}
		for r, gs := range s.placedBy {
			for _, g := range gs {
				counted[r] += g.n
			}
		}
		fresh := fair.Compute(s.targetInputLocked(nil))
		s.mu.Unlock()
		if !gotFree.Equal(free) {
			t.Fatalf("step %d: free %v, recount %v", i, gotFree, free)
		}
		if fmt.Sprint(placed) != fmt.Sprint(counted) {
			t.Fatalf("step %d: placed pods by role %v, recount %v", i, counted, placed)
		}
		// The cached targets are those of the current state: nothing that
		// changes them slips past the demand hash and the epoch.
		cached := s.Targets()
		for r, want := range fresh.Roles {
			if got := cached.Roles[r]; got.Pods != want.Pods || !got.Alloc.Equal(want.Alloc) {
				t.Fatalf("step %d: cached target of %s %d pods %v, fresh %d pods %v", i, r, got.Pods, got.Alloc, want.Pods, want.Alloc)
			}
		}
	}
}

// TestDeletedPodStaysDeleted: a copy of a pod upserted after its deletion
// (a plugin holding the pod from the scheduling queue, while the informer
// already removed it) must not bring it back: a ghost pending pod would
// count in its role's demand, and so in the fair targets, forever: once
// every pod of a is deleted, a has nothing pending and its target covers
// no pod.
func TestDeletedPodStaysDeleted(t *testing.T) {
	s := New(sched, RoleConfig{})
	s.UpsertNamespace(ns("a", nil, nil))
	s.UpsertNode(node("n1", "cpu", "4", "memory", "16Gi"))
	stale := pod("a", "p0", "cpu", "1")
	s.UpsertPod(stale)
	s.DeletePod(stale.UID)
	s.UpsertPod(stale) // late copy
	if _, ok := s.Pod(stale.UID); ok {
		t.Fatal("a deleted pod came back from a stale copy")
	}
	// Deleted before the state ever saw it: the copy is ignored too.
	early := pod("a", "p1", "cpu", "1")
	s.DeletePod(early.UID)
	s.UpsertPod(early)
	// Deleted during its scheduling cycle: Assume, then Forget when its
	// binding fails, must not leave it pending.
	cycle := pod("a", "p2", "cpu", "1")
	s.UpsertPod(cycle)
	s.DeletePod(cycle.UID)
	s.Assume(cycle, "n1")
	s.Forget(cycle)
	if _, ok := s.Pod(cycle.UID); ok {
		t.Error("a pod deleted during its scheduling cycle came back")
	}
	if r := s.Role("a"); r.Pending != 0 {
		t.Errorf("role a has %d pending pods after its pods were deleted, want 0", r.Pending)
	}
	if tg := s.RefreshTargets().Roles["a"]; tg.Pods != 0 {
		t.Errorf("role a's target covers %d pods after its pods were deleted, want 0", tg.Pods)
	}
}
