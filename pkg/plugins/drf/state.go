package drf

import fwk "k8s.io/kube-scheduler/framework"

// preFilterState is what PreFilter learnt about the pod.
type preFilterState struct {
	role string
}

// Clone returns the state itself: it is never modified after PreFilter.
func (s *preFilterState) Clone() fwk.StateData { return s }
