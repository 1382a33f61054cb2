package offers

import (
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/allocator"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/cluster"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
	"github.com/kube-mesos/kube-mesos-scheduler/test/build"
)

const testScheduler = "kube-mesos-scheduler"

func planPod(ns, name, cpu, mem string) *v1.Pod {
	return build.MakePod(ns, name).Scheduler(testScheduler).Req("cpu", cpu, "memory", mem).Obj()
}

// TestPlanRoomsCappedByNeed: two agents ⟨6 CPU, 28 GiB⟩; r0 (weight 3)
// pods ⟨2 CPU, 2.5 GiB⟩, r1 (weight 1) pods ⟨2 CPU, 2 GiB⟩, many of each
// pending. Weighted DRF over ⟨12 CPU, 56 GiB⟩: CPU dominates both, so r0
// gets 3 pods per pod of r1 until the 6 pod slots are gone: r0 4, r1 2 (the
// shares 4·2/12/3 = 0.22 and 2·2/12/1 = 0.33 — one more pod of r0 would
// need a seventh slot), and the plan packs each agent alike: r0 2, r1 1.
// Placed as the cluster's history left them — n0: r0, r1, r1; n1: r0, r0 —
// r1 holds its 2 already, both on n0, so the slot the plan gives it on n1
// is no longer its: the 2 CPUs free on n1 are r0's (its fourth pod), not
// stranded for r1, which is at its target and will not take them.
func TestPlanRoomsCappedByNeed(t *testing.T) {
	st := cluster.New(testScheduler, cluster.RoleConfig{})
	for ns, w := range map[string]string{"r0": "3", "r1": "1"} {
		st.UpsertNamespace(&v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Annotations: map[string]string{"kube-mesos.io/weight": w}}})
	}
	for _, n := range []string{"n0", "n1"} {
		st.UpsertNode(&v1.Node{ObjectMeta: metav1.ObjectMeta{Name: n}, Status: v1.NodeStatus{Allocatable: v1.ResourceList{
			"cpu": resource.MustParse("6"), "memory": resource.MustParse("28Gi"), "pods": resource.MustParse("110")}}})
	}
	place := map[string][]string{"n0": {"r0", "r1", "r1"}, "n1": {"r0", "r0"}}
	i := 0
	for node, roles := range place {
		for _, r := range roles {
			mem := "2560Mi"
			if r == "r1" {
				mem = "2Gi"
			}
			p := planPod(r, fmt.Sprintf("placed-%d", i), "2", mem)
			i++
			st.UpsertPod(p)
			st.Assume(p, node)
		}
	}
	for j := 0; j < 10; j++ {
		st.UpsertPod(planPod("r0", fmt.Sprintf("p%d", j), "2", "2560Mi"))
		st.UpsertPod(planPod("r1", fmt.Sprintf("p%d", j), "2", "2Gi"))
	}
	p := &plan{planner: allocator.New(st, allocator.Config{}), holding: func(fn func(node, role string, req resources.Vector)) {
		for _, cp := range st.AppendPlaced(nil) {
			fn(cp.NodeName, cp.Role, cp.Request)
		}
	}}
	p.refresh(st.Version(), nil)
	for _, n := range []string{"n0", "n1"} {
		if room := p.rooms[n]["r1"]; !room.IsZero() {
			t.Errorf("room kept for r1 on %s: %v, want none (r1 holds its 2 pods)", n, room)
		}
	}
	free := resources.Vector{"cpu": 2000, "memory": 28*1024*1024*1024 - 2*2560*1024*1024}
	if got := p.usable("n1", "r0", free); got["cpu"] != 2000 {
		t.Errorf("r0 may use %v of n1's free %v, want its 2 CPUs", got, free)
	}
}
