package hetero

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/hardware"
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
	d, err := cs.Read(preFilterStateKey)
	if err != nil {
		return nil, fmt.Errorf("reading %q from cycle state: %w", preFilterStateKey, err)
	}
	s, ok := d.(*preFilterState)
	if !ok {
		return nil, fmt.Errorf("%+v cannot be converted to *hetero.preFilterState", d)
	}
	return s, nil
}

func getPreScoreState(cs fwk.CycleState) (*preScoreState, error) {
	d, err := cs.Read(preScoreStateKey)
	if err != nil {
		return nil, fmt.Errorf("reading %q from cycle state: %w", preScoreStateKey, err)
	}
	s, ok := d.(*preScoreState)
	if !ok {
		return nil, fmt.Errorf("%+v cannot be converted to *hetero.preScoreState", d)
	}
	return s, nil
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
