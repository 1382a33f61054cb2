package allocator

import (
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/cluster"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/fair"
)

// paperAgents is the DRF paper's tenants on agents <9 CPU, 18 GiB>: a's
// pods <1 CPU, 4 GiB>, b's <3 CPU, 1 GiB>, 200 each.
func paperAgents(t *testing.T, agents int) (*cluster.State, []*v1.Pod, []*v1.Pod) {
	t.Helper()
	st := cluster.New(sched, cluster.RoleConfig{})
	for _, ns := range []string{"a", "b"} {
		st.UpsertNamespace(&v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	}
	for i := 1; i <= agents; i++ {
		st.UpsertNode(&v1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("agent-%02d", i)}, Status: v1.NodeStatus{Allocatable: v1.ResourceList{
			"cpu": resource.MustParse("9"), "memory": resource.MustParse("18Gi"), "pods": resource.MustParse("110")}}})
	}
	var as, bs []*v1.Pod
	for i := 0; i < 200; i++ {
		p := stPod("a", fmt.Sprint(i), "1")
		p.Spec.Containers[0].Resources.Requests["memory"] = resource.MustParse("4Gi")
		q := stPod("b", fmt.Sprint(i), "3")
		q.Spec.Containers[0].Resources.Requests["memory"] = resource.MustParse("1Gi")
		st.UpsertPod(p)
		st.UpsertPod(q)
		as, bs = append(as, p), append(bs, q)
	}
	return st, as, bs
}

// planned counts the pending pods a plan gives each role on each agent.
func planned(out *fair.Output) map[string]map[string]int {
	m := map[string]map[string]int{}
	for _, g := range out.Grants {
		if m[g.Agent.Name] == nil {
			m[g.Agent.Name] = map[string]int{}
		}
		m[g.Agent.Name][g.Role] += len(g.Pods)
	}
	return m
}

// TestPlanFromScratch: ten agents, nothing placed. Progressive filling
// from zero packs each agent in DRF order (a, b, a, b, a: 3 CPU + 6 CPU =
// 9 CPUs, 14 GiB) before the next: 3 a and 2 b planned on every agent.
func TestPlanFromScratch(t *testing.T) {
	st, _, _ := paperAgents(t, 10)
	for agent, roles := range planned(New(st, Config{}).Plan(nil)) {
		if roles["a"] != 3 || roles["b"] != 2 {
			t.Errorf("%s: planned %v, want a 3, b 2", agent, roles)
		}
	}
}

// TestPlanAroundPlacedPods: a's three pods already placed on agent-01 keep
// their place, and the plan still gives agent-01 two pods of b (the room
// they fill in the fair mix), not a fourth of a: whole-agent offers cannot
// strand its CPUs. With four a pods placed on agent-02 (one more than the
// fair mix), the plan gives b the one pod that still fits there (2 CPUs
// remain for nothing).
func TestPlanAroundPlacedPods(t *testing.T) {
	st, as, _ := paperAgents(t, 10)
	for _, p := range as[:3] {
		st.Assume(p, "agent-01")
	}
	for _, p := range as[3:7] {
		st.Assume(p, "agent-02")
	}
	got := planned(New(st, Config{}).Plan(nil))
	if r := got["agent-01"]; r["a"] != 0 || r["b"] != 2 {
		t.Errorf("agent-01 with 3 a placed: planned %v, want b 2 and no more a", r)
	}
	if r := got["agent-02"]; r["a"] != 0 || r["b"] != 1 {
		t.Errorf("agent-02 with 4 a placed: planned %v, want b 1", r)
	}
}
