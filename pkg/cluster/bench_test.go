package cluster

import (
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/roles"
)

// benchState builds 1,000 roles with 100 pending pods each (100,000 pods)
// over nodes that can hold them (roomy) or are full.
func benchState(b *testing.B, roomy bool) (*State, []*v1.Pod) {
	b.Helper()
	return benchStateOf(b, roomy, 1000, 100)
}

// benchStateOf builds roles×perRole pending pods over 1,000 nodes.
func benchStateOf(b *testing.B, roomy bool, roleCount, perRole int) (*State, []*v1.Pod) {
	b.Helper()
	s := New(sched, RoleConfig{})
	nodeCPU := "64"
	if !roomy {
		nodeCPU = "0"
	}
	for i := 0; i < 1000; i++ {
		s.UpsertNode(node(fmt.Sprintf("n%04d", i), "cpu", nodeCPU, "memory", "256Gi"))
	}
	var pods []*v1.Pod
	for r := 0; r < roleCount; r++ {
		name := fmt.Sprintf("role-%05d", r)
		s.UpsertNamespace(ns(name, nil, nil))
		for i := 0; i < perRole; i++ {
			p := pod(name, fmt.Sprint(i), "cpu", "100m", "memory", "128Mi")
			s.UpsertPod(p)
			pods = append(pods, p)
		}
	}
	return s, pods
}

// BenchmarkShareUpdateAndOrder: one share update (a pod assumed and
// forgotten again, as Reserve/Unreserve do) and one fairness-gate query
// (FairShare, as DRF's PreFilter does, reading the last fair targets),
// with 1,000 roles and 100,000 pending pods.
func BenchmarkShareUpdateAndOrder(b *testing.B) {
	for _, roomy := range []bool{true, false} {
		b.Run(fmt.Sprintf("roomy=%v", roomy), func(b *testing.B) {
			s, pods := benchState(b, roomy)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p := pods[(i*7919)%len(pods)]
				s.Assume(p, "n0000")
				_, _ = s.FairShare(p.UID, p.Namespace, s.RequestOf(p))
				s.Forget(p)
			}
		})
	}
}

// BenchmarkGate: DRF's PreFilter gate for one pod — the fairness verdict
// against the current targets (FairShare) and the quota check (CheckQuota)
// — with 100,000 pending pods over 100, 1,000 and 10,000 roles, when the
// nodes have room and when nothing fits. The targets are computed before
// the timer starts; a query only reads them.
func BenchmarkGate(b *testing.B) {
	for _, roleCount := range []int{100, 1000, 10000} {
		for _, roomy := range []bool{true, false} {
			b.Run(fmt.Sprintf("roles=%d/roomy=%v", roleCount, roomy), func(b *testing.B) {
				s, pods := benchStateOf(b, roomy, roleCount, 100000/roleCount)
				s.Targets()
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					p := pods[(i*7919)%len(pods)]
					req := s.RequestOf(p)
					_, _ = s.FairShare(p.UID, p.Namespace, req)
					_ = s.CheckQuota(p, p.Namespace, req)
				}
			})
		}
	}
}

// BenchmarkTargets: computing the fair targets from scratch (fair.Compute
// over every role's pods), with 1,000 roles and 100,000 pending pods.
func BenchmarkTargets(b *testing.B) {
	for _, roomy := range []bool{true, false} {
		b.Run(fmt.Sprintf("roomy=%v", roomy), func(b *testing.B) {
			s, _ := benchState(b, roomy)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s.RefreshTargets()
			}
		})
	}
}

// BenchmarkSorter: an allocation change and a pick of the lowest role, with
// 1,000 roles (flat, and as 10 parents of 100 children).
func BenchmarkSorter(b *testing.B) {
	for _, shape := range []string{"flat", "2-level"} {
		b.Run(shape, func(b *testing.B) {
			s := roles.NewSorter(resources.Vector{"cpu": 1_000_000, "memory": 1 << 40}, []v1.ResourceName{"cpu", "memory"})
			names := make([]string, 1000)
			for i := range names {
				names[i] = fmt.Sprintf("r%04d", i)
				if shape == "2-level" {
					names[i] = fmt.Sprintf("p%02d/r%04d", i/100, i)
				}
				s.SetActive(names[i], true)
			}
			delta := resources.Vector{"cpu": 100, "memory": 1 << 27}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, _ := s.Min()
				s.Allocate(r, delta)
			}
		})
	}
}
