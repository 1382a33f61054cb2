// Package hetero is the Hetero plugin: placement on heterogeneous hardware
// (accelerator model and memory, accelerator bin-packing, CPU architecture,
// keeping accelerator nodes for accelerator work). It is a thin adapter
// between the scheduling framework and pkg/hardware, which owns the node
// model, the pod's needs, the admission rules and the score.
//
// Pipeline, in the order the framework runs it:
//
//	PreFilter  what the pod needs, once per cycle: accelerators from its
//	           requests and ResourceClaims, its hardware annotations (a bad
//	           value: UnschedulableAndUnresolvable and a Warning event naming
//	           the annotation and the value); Skip when nothing can filter
//	Filter     architecture, required model and memory, and Strict's
//	           "no accelerator nodes for pods that need none"
//	           (hardware.Admit)
//	PreScore   Skip when no score term applies; DRA device usage per node
//	Score      hardware.Score over the node's model and its accelerator
//	           usage (the framework's NodeInfo requests plus allocated DRA
//	           devices), already in [0, 100]
//
// Node models are kept current by the scheduler's shared informers (nodes
// and ResourceSlices) in a hardware.Store (informers.go); accelerator
// metrics are exported from the same store (metrics.go).
package hetero

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/hardware"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/metrics"
)

var (
	_ fwk.PreFilterPlugin   = &Hetero{}
	_ fwk.FilterPlugin      = &Hetero{}
	_ fwk.PreScorePlugin    = &Hetero{}
	_ fwk.ScorePlugin       = &Hetero{}
	_ fwk.EnqueueExtensions = &Hetero{}
)

const (
	// Name is the plugin's name in the registry and in configurations.
	Name = "Hetero"
	// preFilterStateKey holds the pod's needs for Filter and PreScore.
	preFilterStateKey = fwk.StateKey("PreFilter" + Name)
	// preScoreStateKey holds what Score needs beyond the pod's needs.
	preScoreStateKey = fwk.StateKey("PreScore" + Name)

	// AnnotationArchitectures lists the CPU architectures a pod's images exist for.
	AnnotationArchitectures = hardware.AnnotationArchitectures
	// AnnotationGPUModels lists accelerator models, best first.
	AnnotationGPUModels = hardware.AnnotationGPUModels
	// AnnotationGPUMinMemory is the least memory per accelerator.
	AnnotationGPUMinMemory = hardware.AnnotationGPUMinMemory
	// AnnotationHardwarePolicy is "required" (default) or "preferred".
	AnnotationHardwarePolicy = hardware.AnnotationPolicy

	// ErrReasonBadAnnotation: a hardware annotation of the pod has a bad
	// value (PreFilter adds the annotation and the value).
	ErrReasonBadAnnotation = "pod has an invalid hardware annotation"
	// ErrReasonArchitecture is the reason for nodes of another architecture.
	ErrReasonArchitecture = "node(s) had a CPU architecture the pod's images do not support"
	// ErrReasonModel is the reason for nodes without a required accelerator model.
	ErrReasonModel = "node(s) did not have the accelerator model the pod requires"
	// ErrReasonMemory is the reason for nodes whose accelerators have too little memory.
	ErrReasonMemory = "node(s) had accelerators with less memory than the pod requires"
	// ErrReasonAcceleratorNode is the reason, with the Strict policy, for
	// accelerator nodes and pods that request no accelerator.
	ErrReasonAcceleratorNode = "node(s) had accelerators, which are kept for pods that request them"
	// ReasonInvalidAnnotation is the reason of the Warning event for a bad annotation.
	ReasonInvalidAnnotation = "InvalidHardwareAnnotation"
)

// Hetero is the plugin.
type Hetero struct {
	handle  fwk.Handle
	args    *config.HeteroArgs
	weights hardware.Weights
	classes map[string]bool
	store   *hardware.Store
	// podEvents counts pod events, so the metrics loop knows when
	// accelerator usage may have changed.
	podEvents atomic.Uint64
}

// New decodes and validates the args, and starts following nodes and
// ResourceSlices through the scheduler's shared informers.
func New(ctx context.Context, obj runtime.Object, h fwk.Handle) (fwk.Plugin, error) {
	args, err := decodeArgs(obj)
	if err != nil {
		return nil, err
	}
	pl := &Hetero{
		handle: h, args: args, weights: weightsOf(args), classes: map[string]bool{},
		store: hardware.NewStore(args.AcceleratorResources, args.AcceleratorDeviceClasses),
	}
	for _, c := range args.AcceleratorDeviceClasses {
		pl.classes[c] = true
	}
	if f := h.SharedInformerFactory(); f != nil {
		if err := pl.watch(f); err != nil {
			return nil, fmt.Errorf("%s: %w", Name, err)
		}
		metrics.RegisterHetero()
		go pl.runMetrics(ctx)
	}
	klog.FromContext(ctx).V(2).Info("Hetero plugin configured", "accelerators", args.AcceleratorResources,
		"deviceClasses", args.AcceleratorDeviceClasses, "acceleratorNodePolicy", args.AcceleratorNodePolicy,
		"architecturePreference", args.ArchitecturePreference, "weights", pl.weights)
	return pl, nil
}

// Name returns the plugin's name.
func (pl *Hetero) Name() string { return Name }

// EventsToRegister returns the events after which a pod Hetero turned away
// may pass (hints.go): a node added or relabelled, or whose allocatable
// changed; a ResourceSlice published; the pod's own annotations fixed.
func (pl *Hetero) EventsToRegister(_ context.Context) ([]fwk.ClusterEventWithHint, error) {
	return []fwk.ClusterEventWithHint{
		{Event: fwk.ClusterEvent{Resource: fwk.Node, ActionType: fwk.Add | fwk.UpdateNodeLabel | fwk.UpdateNodeAllocatable}, QueueingHintFn: pl.nodeHint},
		{Event: fwk.ClusterEvent{Resource: fwk.ResourceSlice, ActionType: fwk.Add | fwk.Update}, QueueingHintFn: pl.sliceHint},
		{Event: fwk.ClusterEvent{Resource: fwk.TargetPod, ActionType: fwk.Update}, QueueingHintFn: pl.podHint},
	}, nil
}

// PreFilter computes what the pod needs, once per cycle. A bad annotation
// makes the pod wait (UnschedulableAndUnresolvable) with a reason and a
// Warning event naming the annotation and the value. When Admit can turn
// no node away, Filter is skipped.
func (pl *Hetero) PreFilter(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, _ []fwk.NodeInfo) (*fwk.PreFilterResult, *fwk.Status) {
	need, err := pl.needsOf(pod)
	if err != nil {
		return nil, pl.refuse(ctx, pod, err)
	}
	cs.Write(preFilterStateKey, &preFilterState{need: need})
	klog.FromContext(ctx).V(4).Info("Hardware needs", "pod", klog.KObj(pod), "accelerators", need.GPUs,
		"models", len(need.Models), "minMemory", need.MinMemory, "architectures", need.Archs, "policy", need.Policy)
	if !need.Filters() {
		return nil, fwk.NewStatus(fwk.Skip)
	}
	return nil, nil
}

// refuse turns a needs error into a status; a bad annotation is also
// reported to the pod's owner in a Warning event.
func (pl *Hetero) refuse(ctx context.Context, pod *v1.Pod, err error) *fwk.Status {
	var bad *hardware.AnnotationError
	if !errors.As(err, &bad) {
		return fwk.AsStatus(err)
	}
	klog.FromContext(ctx).V(4).Info("Invalid hardware annotation", "pod", klog.KObj(pod), "err", err)
	if r := pl.handle.EventRecorder(); r != nil {
		r.Eventf(pod, nil, v1.EventTypeWarning, ReasonInvalidAnnotation, "Scheduling", "%v", bad)
	}
	return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, fmt.Sprintf("%s: %v", ErrReasonBadAnnotation, bad))
}

// PreFilterExtensions returns nil: the needs do not depend on other pods.
func (pl *Hetero) PreFilterExtensions() fwk.PreFilterExtensions { return nil }

// Filter admits the node if its hardware suits the pod (hardware.Admit).
// Hardware does not change when pods go, so rejections are unresolvable.
func (pl *Hetero) Filter(_ context.Context, cs fwk.CycleState, _ *v1.Pod, ni fwk.NodeInfo) *fwk.Status {
	s, err := getPreFilterState(cs)
	if err != nil {
		return fwk.AsStatus(err)
	}
	if reason := reasonOf(hardware.Admit(&s.need, pl.model(ni.Node()))); reason != "" {
		return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, reason)
	}
	return nil
}

func reasonOf(v hardware.Verdict) string {
	switch v {
	case hardware.WrongArchitecture:
		return ErrReasonArchitecture
	case hardware.WrongModel:
		return ErrReasonModel
	case hardware.TooLittleMemory:
		return ErrReasonMemory
	case hardware.HasAccelerators:
		return ErrReasonAcceleratorNode
	}
	return ""
}

// PreScore skips scoring when no score term applies to the pod, and
// otherwise counts the allocated DRA accelerator devices per node (only in
// clusters that have DRA accelerators).
func (pl *Hetero) PreScore(_ context.Context, cs fwk.CycleState, pod *v1.Pod, _ []fwk.NodeInfo) *fwk.Status {
	need, err := pl.needsFromState(cs, pod)
	if err != nil {
		return fwk.AsStatus(err)
	}
	if hardware.TotalWeight(need, pl.weights) == 0 {
		return fwk.NewStatus(fwk.Skip)
	}
	s := &preScoreState{need: need}
	if pl.store.HasDRA() {
		if s.draUsed, err = pl.draUsage(); err != nil {
			return fwk.AsStatus(err)
		}
	}
	cs.Write(preScoreStateKey, s)
	return nil
}

// Score rates the node with hardware.Score (formula there).
func (pl *Hetero) Score(_ context.Context, cs fwk.CycleState, _ *v1.Pod, ni fwk.NodeInfo) (int64, *fwk.Status) {
	s, err := getPreScoreState(cs)
	if err != nil {
		return 0, fwk.AsStatus(err)
	}
	node := pl.model(ni.Node())
	return hardware.Score(s.need, node, pl.usage(ni, node, s.draUsed), pl.weights), nil
}

// ScoreExtensions returns nil: scores are already in [0, 100].
func (pl *Hetero) ScoreExtensions() fwk.ScoreExtensions { return nil }

// model returns the hardware model of the node object the framework's
// snapshot holds: the store's, unless the store has not seen this version
// of the node yet (informer handlers run apart), then one built now.
func (pl *Hetero) model(node *v1.Node) *hardware.Node {
	if m, ok := pl.store.Get(node.Name); ok && m.Built(node) {
		return m
	}
	return pl.store.ModelOf(node)
}

// usage is the node's accelerator capacity and use: the model's
// accelerator extended resources and DRA devices, and what the framework's
// NodeInfo says is requested (assumed pods included) plus the DRA devices
// allocated.
func (pl *Hetero) usage(ni fwk.NodeInfo, node *hardware.Node, draUsed map[string]int64) hardware.Usage {
	req := ni.GetRequested().GetScalarResources()
	u := hardware.Usage{Capacity: node.Extended + node.DRADevices, Used: draUsed[node.Name]}
	for _, r := range pl.args.AcceleratorResources {
		u.Used += req[r]
	}
	return u
}
