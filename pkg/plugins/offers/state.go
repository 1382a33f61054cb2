package offers

import (
	"sync"

	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins/internal/cyclestate"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// preFilterState is what PreFilter learnt about the pod.
type preFilterState struct {
	role    string
	request resources.Vector
	ports   []int32
	// extra is room freed on a node by a preemption dry run (victims'
	// requests), per node; only AddPod/RemovePod change it.
	mu    sync.Mutex
	extra map[string]resources.Vector
}

// Clone copies extra deeply (the dry runs of different nodes and victims
// change their own copies); the rest is never modified after PreFilter.
func (s *preFilterState) Clone() fwk.StateData {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &preFilterState{role: s.role, request: s.request, ports: s.ports, extra: make(map[string]resources.Vector, len(s.extra))}
	for k, v := range s.extra {
		c.extra[k] = v.Clone()
	}
	return c
}

func (s *preFilterState) addExtra(node string, req resources.Vector, sign int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.extra[node]
	if e == nil {
		e = resources.Vector{}
	}
	e = e.Clone()
	if sign > 0 {
		e.Add(req)
	} else {
		e.Sub(req)
	}
	s.extra[node] = e
}

func getPreFilterState(cs fwk.CycleState) (*preFilterState, error) {
	return cyclestate.Read[*preFilterState](cs, preFilterStateKey)
}
