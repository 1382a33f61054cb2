package drf

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/cluster"
	"github.com/kube-mesos/kube-mesos-scheduler/test/build"
)

func testPod(ns, name, cpu string) *v1.Pod {
	return build.MakePod(ns, name).Scheduler("s").Created(time.Now()).Req("cpu", cpu).Obj()
}

func testPlugin(t *testing.T) (*DRF, *cluster.State) {
	t.Helper()
	st := cluster.New("s", cluster.RoleConfig{})
	for _, ns := range []string{"a", "b"} {
		st.UpsertNamespace(&v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	}
	st.UpsertNode(&v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Status: v1.NodeStatus{Allocatable: v1.ResourceList{
		"cpu": resource.MustParse("4"), "memory": resource.MustParse("8Gi"), "pods": resource.MustParse("10")}}})
	return &DRF{args: &config.DRFArgs{Preemption: config.PreemptionNever}, state: st, tags: newTagBook(), waiting: newWaiting(), deferred: newDeferred()}, st
}

// TestReserveUnreserveInverse: Unreserve restores exactly what Reserve changed.
func TestReserveUnreserveInverse(t *testing.T) {
	pl, st := testPlugin(t)
	p := testPod("a", "p", "1")
	st.UpsertPod(p)
	before := st.Role("a")
	beforeNodes := st.Nodes()
	if s := pl.Reserve(context.Background(), framework.NewCycleState(), p, "n1"); !s.IsSuccess() {
		t.Fatal(s)
	}
	if got := st.Role("a").Allocation["cpu"]; got != 1000 {
		t.Fatalf("after Reserve a holds %d mCPU", got)
	}
	pl.Unreserve(context.Background(), framework.NewCycleState(), p, "n1")
	if diff := cmp.Diff(before, st.Role("a")); diff != "" {
		t.Errorf("role after Reserve+Unreserve (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(beforeNodes, st.Nodes(), cmp.Comparer(func(a, b *v1.Node) bool { return a == b })); diff != "" {
		t.Errorf("nodes after Reserve+Unreserve (-before +after):\n%s", diff)
	}
}

// TestPreFilterGateIdleWhenRoomy: when every pending pod fits at once the
// order cannot matter, and the gate lets every pod go (work-conserving).
func TestPreFilterGateIdleWhenRoomy(t *testing.T) {
	pl, st := testPlugin(t)
	pods := []*v1.Pod{testPod("a", "1", "1"), testPod("a", "2", "1"), testPod("b", "1", "1")}
	for _, p := range pods {
		st.UpsertPod(p)
	}
	for _, p := range pods {
		if _, s := pl.PreFilter(context.Background(), framework.NewCycleState(), p, nil); !s.IsSuccess() {
			t.Errorf("%s/%s gated with room for all (3 of 4 CPUs asked): %v", p.Namespace, p.Name, s)
		}
	}
}

// TestPreFilterGate: 6 CPUs asked of 4 (a two pods of 2, b one of 2).
// Weighted DRF over the demand gives each role one pod (2 CPUs each; a's
// second pod needs 2 more of the 0 left): each role's first pod passes in
// any order, a's second waits at its fair share.
func TestPreFilterGate(t *testing.T) {
	pl, st := testPlugin(t)
	a1, a2, b1 := testPod("a", "1", "2"), testPod("a", "2", "2"), testPod("b", "1", "2")
	for _, p := range []*v1.Pod{a1, a2, b1} {
		st.UpsertPod(p)
	}
	run := func(p *v1.Pod) *fwk.Status {
		_, s := pl.PreFilter(context.Background(), framework.NewCycleState(), p, nil)
		return s
	}
	if s := run(b1); !s.IsSuccess() {
		t.Fatalf("b within its target: %v", s)
	}
	if s := run(a1); !s.IsSuccess() {
		t.Fatalf("a within its target: %v", s)
	}
	pl.Reserve(context.Background(), framework.NewCycleState(), a1, "n1")
	if s := run(a2); s.Code() != fwk.Unschedulable || !strings.Contains(s.Message(), ErrReasonFairShare) {
		t.Fatalf("a's second pod past its fair share: %v", s)
	}
	if s := run(b1); !s.IsSuccess() {
		t.Fatalf("b still within its target: %v", s)
	}
	// a2 waits; the activator lets it in only once a's first pod is gone.
	if got := pl.passing(); len(got) != 0 {
		t.Errorf("passing() = %v while a is at its fair share", got)
	}
	pl.Unreserve(context.Background(), framework.NewCycleState(), a1, "n1")
	if got := pl.passing(); got["a/2"] == nil {
		t.Errorf("passing() = %v, want a/2 once a1 is unreserved", got)
	}
}

// TestQueueSortTags: pods of two roles queued at once come out interleaved
// by fair-queuing start tags, within a priority level.
func TestQueueSortTags(t *testing.T) {
	pl, st := testPlugin(t)
	var infos []fwk.QueuedEntityInfo
	now := time.Now()
	for i, p := range []*v1.Pod{testPod("a", "1", "1"), testPod("a", "2", "1"), testPod("a", "3", "1"), testPod("b", "1", "2"), testPod("b", "2", "2")} {
		st.UpsertPod(p)
		pl.PreEnqueue(context.Background(), p)
		pi, err := framework.NewPodInfo(p)
		if err != nil {
			t.Fatal(err)
		}
		infos = append(infos, &framework.QueuedPodInfo{PodInfo: pi, QueueingParams: framework.QueueingParams{Timestamp: now.Add(time.Duration(i) * time.Second)}})
	}
	// Tags: a 0, 1/4, 2/4; b 0, 2/4. Order: a1, b1 (tie, older first), a2, a3/b2 by age.
	less := func(i, j int) bool { return pl.Less(infos[i], infos[j]) }
	if !less(0, 3) || !less(3, 1) || !less(1, 2) || !less(2, 4) {
		t.Errorf("order wrong: tags a=%v,%v,%v b=%v,%v",
			pl.tags.get("a/1"), pl.tags.get("a/2"), pl.tags.get("a/3"), pl.tags.get("b/1"), pl.tags.get("b/2"))
	}
	hi := testPod("b", "hi", "1")
	hi.Spec.Priority = new(int32)
	*hi.Spec.Priority = 10
	pi, _ := framework.NewPodInfo(hi)
	if !pl.Less(&framework.QueuedPodInfo{PodInfo: pi, QueueingParams: framework.QueueingParams{Timestamp: now.Add(time.Hour)}}, infos[0]) {
		t.Error("priority comes first")
	}
}
