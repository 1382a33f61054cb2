package hetero

import (
	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/hardware"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins/internal/cyclestate"
)

// preFilterState is what PreFilter learnt about the pod.
type preFilterState struct {
	need hardware.Needs
}

// Clone returns the state itself: it is never modified after PreFilter.
func (s *preFilterState) Clone() fwk.StateData { return s }

// preScoreState is what Score needs beyond the node.
type preScoreState struct {
	need *hardware.Needs
	// draUsed counts the allocated DRA accelerator devices per node.
	draUsed map[string]int64
}

// Clone returns the state itself: it is never modified after PreScore.
func (s *preScoreState) Clone() fwk.StateData { return s }

func getPreFilterState(cs fwk.CycleState) (*preFilterState, error) {
	return cyclestate.Read[*preFilterState](cs, preFilterStateKey)
}

func getPreScoreState(cs fwk.CycleState) (*preScoreState, error) {
	return cyclestate.Read[*preScoreState](cs, preScoreStateKey)
}

// needsFromState returns the needs PreFilter computed, or computes them when
// the plugin runs as a score plugin only.
func (pl *Hetero) needsFromState(cs fwk.CycleState, pod *v1.Pod) (*hardware.Needs, error) {
	if s, err := getPreFilterState(cs); err == nil {
		return &s.need, nil
	}
	need, err := pl.needsOf(pod)
	if err != nil {
		return nil, err
	}
	return &need, nil
}
