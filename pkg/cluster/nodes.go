package cluster

import (
	"slices"
	"strings"

	v1 "k8s.io/api/core/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// Schedulable reports whether a node takes new pods: not cordoned and not
// reported NotReady. (A node without a Ready condition counts as ready, as
// for nodes registered by hand.)
func Schedulable(node *v1.Node) bool {
	if node.Spec.Unschedulable || node.DeletionTimestamp != nil {
		return false
	}
	for _, c := range node.Status.Conditions {
		if c.Type == v1.NodeReady && c.Status != v1.ConditionTrue {
			return false
		}
	}
	return true
}

// UpsertNode adds or updates a node from the informer.
func (s *State) UpsertNode(node *v1.Node) {
	s.mu.Lock()
	n, ok := s.nodes[node.Name]
	freed := false
	if !ok {
		n = &Node{Name: node.Name, Used: resources.Vector{}, UsedNoRole: resources.Vector{}, Ports: map[int32]int{}}
		for _, p := range s.byNode[node.Name] {
			n.Used.Add(p.Request)
			if p.Role == "" {
				n.UsedNoRole.Add(p.Request)
			}
			for _, port := range p.Ports {
				n.Ports[port]++
			}
		}
		s.nodes[node.Name] = n
		i, _ := s.orderIndexLocked(node.Name)
		s.order = slices.Insert(s.order, i, n)
	}
	alloc := resources.NodeAllocatable(node)
	sched := Schedulable(node)
	if ok && n.Schedulable {
		s.usedSched.Sub(n.Used)
		s.noRoleSched.Sub(n.UsedNoRole)
	}
	if sched {
		s.usedSched.Add(n.Used)
		s.noRoleSched.Add(n.UsedNoRole)
		delete(s.unsched, node.Name)
	} else {
		s.unsched[node.Name] = true
	}
	capacityChanged := !ok || sched != n.Schedulable || !alloc.Equal(n.Allocatable)
	if capacityChanged {
		if ok && n.Schedulable {
			s.total.Sub(n.Allocatable)
		}
		if sched {
			s.total.Add(alloc)
			freed = true
		}
		s.total.ClampZero()
	}
	n.Object, n.Allocatable, n.Schedulable = node, alloc, sched
	s.capVersion++
	if capacityChanged {
		s.nodesVersion++
		s.epoch++
	}
	if capacityChanged {
		s.sorter.SetTotal(s.total)
	}
	// Labels and taints matter to the allocator's fit checks, so any update
	// counts as freeing: a pod blocked by a selector may now fit.
	s.changedLocked(freed || ok)
	s.mu.Unlock()
	s.notify()
}

// orderIndexLocked finds where a node is, or would be, in s.order.
func (s *State) orderIndexLocked(name string) (int, bool) {
	return slices.BinarySearchFunc(s.order, name, func(m *Node, name string) int { return strings.Compare(m.Name, name) })
}

// DeleteNode removes a node.
func (s *State) DeleteNode(name string) {
	s.mu.Lock()
	n, ok := s.nodes[name]
	if !ok {
		s.mu.Unlock()
		return
	}
	if n.Schedulable {
		s.total.Sub(n.Allocatable)
		s.total.ClampZero()
		s.sorter.SetTotal(s.total)
		s.usedSched.Sub(n.Used)
		s.noRoleSched.Sub(n.UsedNoRole)
	}
	delete(s.nodes, name)
	delete(s.unsched, name)
	if i, found := s.orderIndexLocked(name); found {
		s.order = slices.Delete(s.order, i, i+1)
	}
	s.capVersion++
	s.nodesVersion++
	s.epoch++
	s.changedLocked(false)
	s.mu.Unlock()
	s.notify()
}
