// Package drf is the DRF plugin: weighted Dominant Resource Fairness across
// namespaces, each mapped to a Mesos role, with guarantees and limits. It is
// a thin adapter between the scheduling framework and cluster.State, which
// owns the accounting; the share maths lives in pkg/resources and pkg/roles.
package drf

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/cluster"
)

var (
	_ fwk.QueueSortPlugin   = &DRF{}
	_ fwk.PreFilterPlugin   = &DRF{}
	_ fwk.ReservePlugin     = &DRF{}
	_ fwk.EnqueueExtensions = &DRF{}
)

const (
	// Name is the plugin's name in the registry and in configurations.
	Name = "DRF"
	// preFilterStateKey holds the pod's role and request for later extension points.
	preFilterStateKey = fwk.StateKey("PreFilter" + Name)

	// ErrReasonBadRole is the reason for pods whose namespace maps to no valid role.
	ErrReasonBadRole = "pod's namespace maps to an invalid role"
)

// DRF is the plugin.
type DRF struct {
	handle fwk.Handle
	args   *config.DRFArgs
	state  *cluster.State
}

// New decodes and validates the args and attaches to the profile's state.
func New(ctx context.Context, obj runtime.Object, h fwk.Handle, provider *cluster.Provider) (fwk.Plugin, error) {
	args, err := decodeArgs(obj)
	if err != nil {
		return nil, err
	}
	st, err := provider.For(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	st.Configure(RoleConfig(args))
	klog.FromContext(ctx).V(2).Info("DRF plugin configured", "resources", args.Resources, "roles", len(args.Roles))
	return &DRF{handle: h, args: args, state: st}, nil
}

// Name returns the plugin's name.
func (pl *DRF) Name() string { return Name }

// EventsToRegister returns the events that may make a pod rejected by DRF schedulable.
func (pl *DRF) EventsToRegister(_ context.Context) ([]fwk.ClusterEventWithHint, error) {
	return []fwk.ClusterEventWithHint{
		{Event: fwk.ClusterEvent{Resource: fwk.AssignedPod, ActionType: fwk.Delete}},
		{Event: fwk.ClusterEvent{Resource: fwk.Node, ActionType: fwk.Add | fwk.UpdateNodeAllocatable}},
	}, nil
}

// Less orders pods by priority, then by age.
func (pl *DRF) Less(a, b fwk.QueuedEntityInfo) bool {
	pa, pb := a.GetPriority(), b.GetPriority()
	return pa > pb || (pa == pb && a.GetTimestamp().Before(b.GetTimestamp()))
}

// PreFilter resolves the pod's role.
func (pl *DRF) PreFilter(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, _ []fwk.NodeInfo) (*fwk.PreFilterResult, *fwk.Status) {
	role, err := pl.state.RoleOf(pod.Namespace)
	if err != nil {
		return nil, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, ErrReasonBadRole+": "+err.Error())
	}
	cs.Write(preFilterStateKey, &preFilterState{role: role})
	return nil, nil
}

// PreFilterExtensions returns nil: DRF's PreFilter result does not depend on
// the pods of a node.
func (pl *DRF) PreFilterExtensions() fwk.PreFilterExtensions { return nil }

// Reserve counts the pod for its role until it is bound or unreserved.
func (pl *DRF) Reserve(_ context.Context, _ fwk.CycleState, pod *v1.Pod, nodeName string) *fwk.Status {
	pl.state.Assume(pod, nodeName)
	return nil
}

// Unreserve is the exact inverse of Reserve.
func (pl *DRF) Unreserve(_ context.Context, _ fwk.CycleState, pod *v1.Pod, _ string) {
	pl.state.Forget(pod)
}
