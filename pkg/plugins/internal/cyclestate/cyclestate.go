// Package cyclestate reads the plugins' typed data from a scheduling
// cycle's state.
package cyclestate

import (
	"fmt"

	fwk "k8s.io/kube-scheduler/framework"
)

// Read returns the data stored under key as a T, or an error naming the key
// when it is missing or of another type.
func Read[T fwk.StateData](cs fwk.CycleState, key fwk.StateKey) (T, error) {
	var zero T
	d, err := cs.Read(key)
	if err != nil {
		return zero, fmt.Errorf("reading %q from cycle state: %w", key, err)
	}
	s, ok := d.(T)
	if !ok {
		return zero, fmt.Errorf("cycle state %q holds %T, not %T", key, d, zero)
	}
	return s, nil
}

// preemptionDryRunKey marks a cycle state as a preemption dry run: the DRF
// plugin's SelectVictimsOnNode writes it into its clone of the state before
// it removes and adds victims; the MesosOffers plugin's Filter then judges
// the room the node would have (the node's free resources with the victims
// gone, minus what is offered to other roles) instead of the offers the role
// holds now. It is a key both plugins know, so neither imports the other.
const preemptionDryRunKey fwk.StateKey = "kube-mesos.io/preemption-dry-run"

type dryRun struct{}

func (dryRun) Clone() fwk.StateData { return dryRun{} }

// MarkPreemptionDryRun marks cs as a preemption dry run.
func MarkPreemptionDryRun(cs fwk.CycleState) { cs.Write(preemptionDryRunKey, dryRun{}) }

// InPreemptionDryRun reports whether cs is a preemption dry run.
func InPreemptionDryRun(cs fwk.CycleState) bool {
	_, err := cs.Read(preemptionDryRunKey)
	return err == nil
}
