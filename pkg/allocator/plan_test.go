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
	return paperCluster(t, agents, 200)
}

// paperCluster is paperAgents with n pods each.
func paperCluster(t *testing.T, agents, n int) (*cluster.State, []*v1.Pod, []*v1.Pod) {
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
	for i := 0; i < n; i++ {
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
	for agent, roles := range planned(New(st, Config{}).Plan(nil, nil)) {
		if roles["a"] != 3 || roles["b"] != 2 {
			t.Errorf("%s: planned %v, want a 3, b 2", agent, roles)
		}
	}
}

// TestPlanCountsPlacedPods: the plan is the ideal packing of every pod,
// placed or pending, from empty agents — where pods happen to be placed
// does not change it (offers/plan.go subtracts what a role holds on a
// node). With seven of a's pods placed (three on agent-01, four on
// agent-02), every agent is still planned a 3, b 2 counting placed and
// pending pods alike, and the placed ones are inside a's 30: the plan
// gives 23 more pending pods of a and 20 of b across the ten agents
// (30 − 7 and 10 × 2).
func TestPlanCountsPlacedPods(t *testing.T) {
	st, as, _ := paperAgents(t, 10)
	for _, p := range as[:3] {
		st.Assume(p, "agent-01")
	}
	for _, p := range as[3:7] {
		st.Assume(p, "agent-02")
	}
	out := New(st, Config{}).Plan(nil, nil)
	all := map[string]map[string]int{}
	for _, g := range out.Grants {
		if all[g.Agent.Name] == nil {
			all[g.Agent.Name] = map[string]int{}
		}
		all[g.Agent.Name][g.Role] += g.N
	}
	if len(all) != 10 {
		t.Errorf("plan uses %d agents, want all 10", len(all))
	}
	for agent, roles := range all {
		if roles["a"] != 3 || roles["b"] != 2 {
			t.Errorf("%s: planned %v (placed and pending), want a 3, b 2", agent, roles)
		}
	}
	pending := map[string]int{}
	for _, roles := range planned(out) {
		for r, n := range roles {
			pending[r] += n
		}
	}
	if pending["a"] != 23 || pending["b"] != 20 {
		t.Errorf("pending pods planned %v, want a 23, b 20", pending)
	}
}

// TestPlanFollowsOffers: which agent holds a role's part does not matter
// for fairness, so with room to spare each role's part is planned on the
// agents offered to it (a master offers an agent to one role at a time).
// Twenty agents ⟨9 CPU, 18 GiB⟩ = ⟨180, 360 GiB⟩, the paper's a and b
// with 20 pods each: a asks ⟨20, 80 GiB⟩, b ⟨60, 20 GiB⟩, both fit, so
// each role's fair part is all its pods (20 and 20). Agents 01–10 are
// offered to a, 11–20 to b: a's 20 pods fit on its ten agents (4 each by
// memory, 40 in all) and b's 20 on its ten (3 each by CPU, 30 in all), so
// no pod is planned on the other role's agents.
func TestPlanFollowsOffers(t *testing.T) {
	st, _, _ := paperCluster(t, 20, 20)
	offered := map[string]string{}
	for i := 1; i <= 20; i++ {
		offered[fmt.Sprintf("agent-%02d", i)] = map[bool]string{true: "a", false: "b"}[i <= 10]
	}
	total := map[string]int{}
	for agent, roles := range planned(New(st, Config{}).Plan(nil, offered)) {
		for r, n := range roles {
			total[r] += n
			if n > 0 && offered[agent] != r {
				t.Errorf("%s (offered to %s): %d pods of %s planned", agent, offered[agent], n, r)
			}
		}
	}
	if total["a"] != 20 || total["b"] != 20 {
		t.Errorf("planned %v, want a 20, b 20", total)
	}
}

// TestPlanKeepsMixWhenShort: on the ten agents of TestPlanFromScratch,
// where only 3 a + 2 b on every agent gives a 30 and b 20, agents offered
// half to a and half to b must not change the plan: packed by offer, a's
// agents would hold 4 a (memory) and b's 3 b (CPU), a 20 and b 15 with
// CPUs stranded. The plan stays the mix.
func TestPlanKeepsMixWhenShort(t *testing.T) {
	st, _, _ := paperAgents(t, 10)
	offered := map[string]string{}
	for i := 1; i <= 10; i++ {
		offered[fmt.Sprintf("agent-%02d", i)] = map[bool]string{true: "a", false: "b"}[i <= 5]
	}
	for agent, roles := range planned(New(st, Config{}).Plan(nil, offered)) {
		if roles["a"] != 3 || roles["b"] != 2 {
			t.Errorf("%s: planned %v, want a 3, b 2", agent, roles)
		}
	}
}
