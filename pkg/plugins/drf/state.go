package drf

import (
	"sync"
	"sync/atomic"
	"time"

	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins/internal/cyclestate"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// preFilterState is what PreFilter learnt about the pod.
type preFilterState struct {
	role    string
	request resources.Vector
	// gated: turned away by the fairness gate only (the pod is not
	// unschedulable, just not next; it must not preempt or be marked blocked).
	gated bool
	// noPreempt: turned away for a reason preemption cannot fix (bad role,
	// limit, guarantees of others).
	noPreempt bool
	// created is when the pod was created (the fair-share preemption delay
	// counts from it).
	created time.Time
	// victims records, per node, the victims the preemption dry run chose
	// there (written concurrently by the dry runs of all nodes; shared by
	// the clones of the cycle state), so PostFilter can account for the
	// preemption it starts.
	victims *sync.Map
	// fitsFree: a dry run found a node with room for the pod without any
	// victim (its offer is coming; nothing is evicted).
	fitsFree atomic.Bool
	// deferredUntil (Unix nanoseconds, 0: not deferred): a dry run left out
	// fair-share victims because the pod is younger than the fair-share
	// preemption delay; it may preempt from then on.
	deferredUntil atomic.Int64
}

// Clone returns the state itself: nothing but the concurrency-safe victims
// map and flags change after PreFilter, and they must be shared by the
// clones the preemption dry runs work on.
func (s *preFilterState) Clone() fwk.StateData { return s }

func getPreFilterState(cs fwk.CycleState) (*preFilterState, error) {
	return cyclestate.Read[*preFilterState](cs, preFilterStateKey)
}
