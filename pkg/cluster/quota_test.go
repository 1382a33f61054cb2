package cluster

import (
	"errors"
	"math"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/quota"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

func vec(pairs ...string) resources.Vector {
	l := v1.ResourceList{}
	for i := 0; i+1 < len(pairs); i += 2 {
		l[v1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return resources.FromList(l)
}

func TestLimits(t *testing.T) {
	s := New(sched, RoleConfig{Roles: map[string]RoleOverride{
		"eng":    {Limit: vec("cpu", "4")},
		"eng/ml": {Limit: vec("cpu", "3")},
	}})
	s.UpsertNamespace(ns("ml", map[string]string{"kube-mesos.io/role": "eng.ml"}, nil))
	s.UpsertNamespace(ns("web", map[string]string{"kube-mesos.io/role": "eng.web"}, nil))
	s.UpsertNode(node("n1", "cpu", "16", "memory", "64Gi"))
	for i, p := range []*v1.Pod{pod("ml", "a", "cpu", "2"), pod("web", "b", "cpu", "1")} {
		s.UpsertPod(p)
		s.Assume(p, "n1")
		_ = i
	}
	// eng/ml holds 2 of its 3; eng holds 3 of its 4.
	var le *quota.LimitError
	err := s.CheckQuota(pod("ml", "c", "cpu", "2"), "eng/ml", vec("cpu", "2"))
	if !errors.As(err, &le) || le.Role != "eng/ml" || le.Used != 2000 || le.Limit != 3000 || le.Asked != 2000 {
		t.Errorf("eng/ml asking 2 CPU: %v", err)
	}
	err = s.CheckQuota(pod("web", "d", "cpu", "2"), "eng/web", vec("cpu", "2"))
	if !errors.As(err, &le) || le.Role != "eng" {
		t.Errorf("eng/web asking 2 CPU must hit eng's limit: %v", err)
	}
	if !strings.Contains(err.Error(), `role "eng" would exceed its limit of cpu: used 3, pod asks 2, limit 4`) {
		t.Errorf("message %q", err)
	}
	if err := s.CheckQuota(pod("web", "e", "cpu", "1"), "eng/web", vec("cpu", "1", "memory", "100Gi")); err != nil {
		t.Errorf("unlimited memory: %v", err)
	}
}

func TestHeadroomAndGuaranteeOrder(t *testing.T) {
	s := New(sched, RoleConfig{Roles: map[string]RoleOverride{"g": {Guarantee: vec("cpu", "2")}}})
	s.UpsertNamespace(ns("g", nil, nil))
	s.UpsertNamespace(ns("o", nil, nil))
	s.UpsertNode(node("n1", "cpu", "4", "memory", "8Gi"))
	o1, o2 := pod("o", "1", "cpu", "1"), pod("o", "2", "cpu", "1")
	for _, p := range []*v1.Pod{o1, o2} {
		s.UpsertPod(p)
		s.Assume(p, "n1")
	}
	var he *quota.HeadroomError
	if err := s.CheckQuota(pod("o", "3", "cpu", "1"), "o", vec("cpu", "1")); !errors.As(err, &he) || he.Guaranteed != 2000 || he.Free != 2000 {
		t.Fatalf("o's third CPU would eat g's guarantee: %v", err)
	}
	if err := s.CheckQuota(pod("g", "1", "cpu", "2"), "g", vec("cpu", "2")); err != nil {
		t.Errorf("g within its guarantee: %v", err)
	}
	if err := s.CheckQuota(pod("o", "3", "memory", "1Gi"), "o", vec("memory", "1Gi")); err != nil {
		t.Errorf("memory is not guaranteed to anyone: %v", err)
	}
}

func TestExcludedResourcesCountForLimitsNotShares(t *testing.T) {
	s := New(sched, RoleConfig{
		Resources: []v1.ResourceName{"cpu", "nvidia.com/gpu"},
		Excluded:  []v1.ResourceName{"nvidia.com/gpu"},
		Roles:     map[string]RoleOverride{"ml": {Limit: vec("nvidia.com/gpu", "1")}},
	})
	s.UpsertNamespace(ns("ml", nil, nil))
	s.UpsertNode(node("n1", "cpu", "10", "nvidia.com/gpu", "2"))
	p := pod("ml", "p", "cpu", "1", "nvidia.com/gpu", "1")
	s.UpsertPod(p)
	s.Assume(p, "n1")
	if r := s.Role("ml"); math.Abs(r.DominantShare-0.1) > 1e-12 {
		t.Errorf("dominant share %v, want 0.1 (GPUs excluded)", r.DominantShare)
	}
	if err := s.CheckQuota(pod("ml", "q", "nvidia.com/gpu", "1"), "ml", vec("nvidia.com/gpu", "1")); err == nil {
		t.Error("excluded GPUs must still count for the limit")
	}
}

// TestFairToPreemptAndPreempting: one node of 4 CPUs, early holds all four
// 1-CPU pods, late asks for three. Weighted DRF over the demand (4 + 3
// pods, equal weights) gives each role 2 CPUs: early's target is 2 pods,
// late's 2. A preemption is fair while late stays within 2 and early stays
// at 2 or more without its victims.
func TestFairToPreemptAndPreempting(t *testing.T) {
	s := New(sched, RoleConfig{})
	s.UpsertNamespace(ns("early", nil, nil))
	s.UpsertNamespace(ns("late", nil, nil))
	s.UpsertNode(node("n1", "cpu", "4", "memory", "8Gi"))
	var early []*v1.Pod
	for _, n := range []string{"0", "1", "2", "3"} {
		p := pod("early", n, "cpu", "1")
		s.UpsertPod(p)
		s.Assume(p, "n1")
		early = append(early, p)
	}
	l0, l1, l2 := pod("late", "0", "cpu", "1"), pod("late", "1", "cpu", "1"), pod("late", "2", "cpu", "1")
	for _, p := range []*v1.Pod{l0, l1, l2} {
		s.UpsertPod(p)
	}
	s.RefreshTargets()
	if !s.FairToPreempt(l0, "late", vec("cpu", "1"), early[:1]) {
		t.Fatal("late at 0 may take one CPU from early at 4 (early stays at 3 >= 2)")
	}
	if !s.FairToPreempt(l0, "late", vec("cpu", "1"), early[:2]) {
		t.Fatal("two victims leave early at its target 2: allowed")
	}
	if s.FairToPreempt(l0, "late", vec("cpu", "1"), early[:3]) {
		t.Fatal("three victims would put early (1) below its target 2")
	}
	if s.FairToPreempt(l0, "late", vec("cpu", "1"), []*v1.Pod{l1}) {
		t.Fatal("a victim of the preemptor's own role is never fair")
	}
	s.Preempting(l0, "n1", early[:1])
	s.RefreshTargets()
	if got := s.Role("late").Allocation["cpu"]; got != 1000 {
		t.Errorf("nominated preemptor counts at once: late cpu %d", got)
	}
	if got := s.Role("early").Allocation["cpu"]; got != 3000 {
		t.Errorf("victim stops counting at once: early cpu %d", got)
	}
	// The next preemptor asks for the first victim's slot again plus one:
	// the first is already going and is not taken off twice (early ends at 2).
	if !s.FairToPreempt(l1, "late", vec("cpu", "1"), early[:2]) {
		t.Error("second preemption (late 2, early 2) must be allowed")
	}
	s.Preempting(l1, "n1", early[1:2])
	s.RefreshTargets()
	if s.FairToPreempt(l2, "late", vec("cpu", "1"), early[2:3]) {
		t.Error("third preemption (late 3 above its target 2) must be refused: no ping-pong")
	}
	// A preemptor that failed again releases what it was owed.
	s.ReleaseNomination(l1.UID)
	if got := s.Role("late").Allocation["cpu"]; got != 1000 {
		t.Errorf("late after l1's nomination released: %d, want 1000", got)
	}
	// Nominations end when the preemptors are placed; victims when deleted.
	s.Assume(l0, "n1")
	s.DeletePod(early[0].UID)
	if got := s.Role("late").Allocation["cpu"]; got != 1000 {
		t.Errorf("late after l0 placed: %d, want 1000", got)
	}
	if got := s.Role("early").Allocation["cpu"]; got != 2000 {
		t.Errorf("early after victims deleted or going: %d, want 2000", got)
	}
}

func TestAssumeForgetAreInverse(t *testing.T) {
	s := New(sched, RoleConfig{})
	s.UpsertNamespace(ns("a", nil, nil))
	s.UpsertNode(node("n1", "cpu", "4", "memory", "8Gi"))
	p := pod("a", "p", "cpu", "1", "memory", "1Gi")
	p.Spec.Containers[0].Ports = []v1.ContainerPort{{HostPort: 8080}}
	s.UpsertPod(p)
	before, beforeNode := s.Role("a"), s.Nodes()[0]
	s.Assume(p, "n1")
	mid := s.Nodes()[0]
	if mid.Ports[8080] != 1 || mid.Used["cpu"] != 1000 || s.Role("a").Pending != 0 {
		t.Fatalf("assume did not place: %+v", mid)
	}
	s.Forget(p)
	after, afterNode := s.Role("a"), s.Nodes()[0]
	if !before.Allocation.Equal(after.Allocation) || before.Pending != after.Pending ||
		!beforeNode.Used.Equal(afterNode.Used) || len(afterNode.Ports) != 0 {
		t.Errorf("forget is not the inverse of assume: %+v / %+v -> %+v / %+v", before, beforeNode, after, afterNode)
	}
	s.Assume(p, "n1")
	s.Assume(p, "n1") // idempotent
	if got := s.Nodes()[0].Used["cpu"]; got != 1000 {
		t.Errorf("double assume counted twice: %d", got)
	}
}
