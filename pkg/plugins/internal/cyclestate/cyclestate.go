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
