package offers

import (
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins/internal/cyclestate"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// preFilterState is what PreFilter learnt about the pod.
type preFilterState struct {
	role    string
	request resources.Vector
	ports   []int32
}

// Clone returns the state itself: it is never modified after PreFilter.
func (s *preFilterState) Clone() fwk.StateData { return s }

func getPreFilterState(cs fwk.CycleState) (*preFilterState, error) {
	return cyclestate.Read[*preFilterState](cs, preFilterStateKey)
}
