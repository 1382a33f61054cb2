// Package drf is the DRF plugin: weighted Dominant Resource Fairness across
// namespaces, each mapped to a Mesos role, with guarantees, limits and
// fair-share preemption. It is a thin adapter between the scheduling
// framework and cluster.State, which owns the accounting; the share maths
// lives in pkg/resources and pkg/roles.
//
// Pipeline, in the order the framework runs it:
//
//	PreEnqueue  tag the pod with its fair-queuing start tag (order.go)
//	QueueSort   priority, then start tag, then age
//	PreFilter   role of the namespace; limits; guarantees of other roles;
//	            the fairness gate: the pod waits while its role would go
//	            past its fair target (pkg/fair: weighted DRF progressive
//	            filling of every role's pods, bound and pending)
//	PostFilter  fair-share and priority preemption (preemption.go)
//	Reserve     the pod's requests count for its role at once
package drf

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/preemption"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/cluster"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/fair"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/metrics"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/quota"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/roles"
)

var (
	_ fwk.QueueSortPlugin   = &DRF{}
	_ fwk.PreEnqueuePlugin  = &DRF{}
	_ fwk.PreFilterPlugin   = &DRF{}
	_ fwk.PostFilterPlugin  = &DRF{}
	_ fwk.ReservePlugin     = &DRF{}
	_ fwk.EnqueueExtensions = &DRF{}
)

const (
	// Name is the plugin's name in the registry and in configurations.
	Name = "DRF"
	// preFilterStateKey holds what PreFilter learnt for later extension points.
	preFilterStateKey = fwk.StateKey("PreFilter" + Name)

	// ErrReasonBadRole: the pod's namespace maps to an invalid role.
	ErrReasonBadRole = roles.ReasonBadRole
	// ErrReasonLimit: the pod would take its role past a limit.
	ErrReasonLimit = "pod would take its role past its limit"
	// ErrReasonHeadroom: the pod would take resources guaranteed to other roles.
	ErrReasonHeadroom = "pod would take resources still guaranteed to other roles"
	// ErrReasonFairShare: the pod would take its role past its fair target.
	ErrReasonFairShare = "pod's role is at its fair share"
	// ErrReasonNoTarget: the pod's role appeared after the fair targets were
	// last computed (they are recomputed within milliseconds).
	ErrReasonNoTarget = "pod's role has no fair target yet"
	// ErrReasonPreemptionDeferred: the pod may evict pods of roles above
	// their fair share once it is older than the fair-share preemption delay.
	ErrReasonPreemptionDeferred = "fair-share preemption waits for the preemption delay"
	// ErrReasonWaitingForVictims: a preemptor waits for its victims to leave.
	ErrReasonWaitingForVictims = "waiting for the victims of its preemption to leave"
	// ReasonInvalidWeight is the event reason for a bad weight annotation.
	ReasonInvalidWeight = "InvalidWeight"
)

// DRF is the plugin.
type DRF struct {
	handle    fwk.Handle
	args      *config.DRFArgs
	state     *cluster.State
	tags      *tagBook
	waiting   *waiting
	deferred  *deferred
	evaluator *preemption.Evaluator
}

// New decodes and validates the args, attaches to the profile's state and
// starts the loop that re-activates pods DRF turned away.
func New(ctx context.Context, obj runtime.Object, h fwk.Handle, provider *cluster.Provider) (fwk.Plugin, error) {
	args, err := decodeArgs(obj)
	if err != nil {
		return nil, err
	}
	st, err := provider.For(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	if err := st.Configure(RoleConfig(args)); err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	pl := &DRF{handle: h, args: args, state: st, tags: newTagBook(), waiting: newWaiting(), deferred: newDeferred()}
	if args.Preemption != config.PreemptionNever {
		pl.evaluator = preemption.NewEvaluator(Name, h, &preemptor{pl}, preemption.NewExecutor(h, featuresOf()))
	}
	if _, err := h.SharedInformerFactory().Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if p, ok := obj.(*v1.Pod); ok {
				pl.tags.forget(p.UID)
				pl.waiting.remove(p.UID)
				pl.deferred.remove(p.UID)
			}
		},
	}); err != nil {
		return nil, fmt.Errorf("%s: watching pods: %w", Name, err)
	}
	metrics.Register()
	go pl.runActivator(ctx)
	go pl.runDeferred(ctx)
	go pl.runMetrics(ctx)
	klog.FromContext(ctx).V(2).Info("DRF plugin configured", "resources", args.Resources,
		"excluded", args.ExcludedResourceNames, "roles", len(args.Roles), "preemption", args.Preemption)
	return pl, nil
}

// Name returns the plugin's name.
func (pl *DRF) Name() string { return Name }

// EventsToRegister returns the events after which a pod DRF turned away may
// pass: resources freed, capacity added. Shares also change when pods are
// reserved, which is no cluster event: the activator covers that.
func (pl *DRF) EventsToRegister(_ context.Context) ([]fwk.ClusterEventWithHint, error) {
	return []fwk.ClusterEventWithHint{
		{Event: fwk.ClusterEvent{Resource: fwk.AssignedPod, ActionType: fwk.Add | fwk.Delete}, QueueingHintFn: pl.hint},
		{Event: fwk.ClusterEvent{Resource: fwk.Node, ActionType: fwk.Add | fwk.UpdateNodeAllocatable | fwk.UpdateNodeLabel | fwk.UpdateNodeTaint}, QueueingHintFn: pl.hint},
	}, nil
}

// hint requeues a pod when it would now pass DRF's PreFilter.
func (pl *DRF) hint(logger klog.Logger, pod *v1.Pod, _, _ any) (fwk.QueueingHint, error) {
	if pl.admit(pod, resources.PodRequests(pod)).ok() {
		logger.V(5).Info("DRF would admit the pod now", "pod", klog.KObj(pod))
		return fwk.Queue, nil
	}
	return fwk.QueueSkip, nil
}

// PreEnqueue tags the pod for the queue order. It never gates a pod.
func (pl *DRF) PreEnqueue(_ context.Context, pod *v1.Pod) *fwk.Status {
	if role, err := pl.state.RoleOf(pod.Namespace); err == nil {
		pl.tags.tag(pl.state, pod.UID, role, pl.state.RequestOf(pod))
	}
	return nil
}

// Less orders pods by priority, then preemptors before the others (the
// room their victims leave is idle until they bind), then by fair-queuing
// start tag (the weighted dominant share of the role when the pod arrived),
// then by age.
func (pl *DRF) Less(a, b fwk.QueuedEntityInfo) bool {
	pa, pb := a.GetPriority(), b.GetPriority()
	if pa != pb {
		return pa > pb
	}
	if na, nb := pl.nominated(a), pl.nominated(b); na != nb {
		return na
	}
	ta, tb := pl.tagOf(a), pl.tagOf(b)
	if ta != tb {
		return ta < tb
	}
	return a.GetTimestamp().Before(b.GetTimestamp())
}

func (pl *DRF) nominated(e fwk.QueuedEntityInfo) bool {
	if pi, ok := e.(interface{ GetPodInfo() fwk.PodInfo }); ok {
		return pl.state.Nominated(pi.GetPodInfo().GetPod().UID)
	}
	return false
}

func (pl *DRF) tagOf(e fwk.QueuedEntityInfo) float64 {
	if pi, ok := e.(interface{ GetPodInfo() fwk.PodInfo }); ok {
		return pl.tags.get(pi.GetPodInfo().GetPod().UID)
	}
	return 0
}

// PreFilter admits the pod or says why it waits (see admit).
func (pl *DRF) PreFilter(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, _ []fwk.NodeInfo) (*fwk.PreFilterResult, *fwk.Status) {
	req := pl.state.RequestOf(pod)
	v := pl.admit(pod, req)
	cs.Write(preFilterStateKey, &preFilterState{role: v.role, request: req, gated: v.gated,
		noPreempt: v.code != fwk.Success && !v.gated, victims: &sync.Map{}, created: pod.CreationTimestamp.Time})
	if err := pl.state.NamespaceError(pod.Namespace); err != nil && v.role != "" {
		// A bad weight does not stop the pod (the weight falls back), but
		// the owner must hear about it.
		pl.handle.EventRecorder().Eventf(pod, nil, v1.EventTypeWarning, ReasonInvalidWeight, "Scheduling", "%v; using weight 1", err)
	}
	if v.ok() {
		return nil, nil
	}
	klog.FromContext(ctx).V(4).Info("DRF turned the pod away", "pod", klog.KObj(pod), "role", v.role, "reason", v.msg)
	if v.gated {
		metrics.GateRejections.WithLabelValues(v.role).Inc()
	}
	pl.waiting.add(pod)
	return nil, fwk.NewStatus(v.code, v.msg)
}

// PreFilterExtensions returns nil: DRF's PreFilter does not depend on the
// pods of a particular node.
func (pl *DRF) PreFilterExtensions() fwk.PreFilterExtensions { return nil }

// verdict is DRF's decision on a pod.
type verdict struct {
	role  string
	code  fwk.Code
	msg   string
	gated bool // turned away by the fairness gate only
}

func (v verdict) ok() bool { return v.code == fwk.Success }

// admit decides whether a pod may be scheduled now: its namespace must map to
// a valid role, the pod must fit under the limits of the role and its
// ancestors and leave other roles' unmet guarantees free, and its role must
// stay within its fair target (pkg/fair) with the pod.
func (pl *DRF) admit(pod *v1.Pod, req resources.Vector) verdict {
	role, err := pl.state.RoleOf(pod.Namespace)
	if err != nil {
		return verdict{code: fwk.UnschedulableAndUnresolvable, msg: roles.BadRole(err)}
	}
	if pl.state.Nominated(pod.UID) {
		// A preemptor whose victims are being evicted already counts for
		// its role and holds its place: let it take what it preempted for.
		return verdict{role: role, code: fwk.Success}
	}
	if err := pl.state.CheckQuota(pod, role, req); err != nil {
		reason := ErrReasonLimit
		var h *quota.HeadroomError
		if errors.As(err, &h) {
			reason = ErrReasonHeadroom
		}
		return verdict{role: role, code: fwk.Unschedulable, msg: fmt.Sprintf("%s: %v", reason, err)}
	}
	switch v, target := pl.state.FairShare(pod.UID, role, req); v {
	case fair.Unknown:
		return verdict{role: role, code: fwk.Unschedulable, gated: true, msg: fmt.Sprintf("%s: role %q", ErrReasonNoTarget, role)}
	case fair.Above:
		r := pl.state.Role(role)
		return verdict{role: role, code: fwk.Unschedulable, gated: true, msg: fmt.Sprintf(
			"%s: role %q holds dominant share %.3f (weight %g); with the pod it would pass its fair share %.3f (%d of its %d pods)",
			ErrReasonFairShare, role, r.DominantShare, r.Weight, target.Share, target.Pods, target.Asked)}
	}
	return verdict{role: role, code: fwk.Success}
}

// PostFilter preempts for the pod if its role is entitled to it (see
// preemption.go). Pods turned away by the fairness gate are not
// unschedulable, only at their share: they never preempt. A pod that
// failed everywhere and that preemption cannot help is marked blocked: it
// stops counting in its role's demand (and so in the fair targets) until
// capacity is freed.
func (pl *DRF) PostFilter(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, m fwk.NodeToStatusReader) (*fwk.PostFilterResult, *fwk.Status) {
	s, err := getPreFilterState(cs)
	if err != nil || s.gated || pl.state.OfferWait(pod.UID) {
		// At its share, or waiting for an offer that is on its way: neither
		// unschedulable nor a reason to preempt.
		return nil, fwk.NewStatus(fwk.Unschedulable)
	}
	nominated := pl.state.Nominated(pod.UID)
	if nominated && pl.waitingForVictims(pod) {
		return nil, fwk.NewStatus(fwk.Unschedulable, ErrReasonWaitingForVictims)
	}
	if s.noPreempt || pl.evaluator == nil {
		pl.state.ReleaseNomination(pod.UID)
		pl.state.MarkBlocked(pod.UID)
		return nil, fwk.NewStatus(fwk.Unschedulable)
	}
	result, status := pl.evaluator.Preempt(ctx, cs, pod, m)
	switch {
	case status.IsSuccess() && result != nil && result.NominatingInfo != nil:
		if v, ok := s.victims.Load(result.NominatedNodeName); ok {
			victims := v.([]*v1.Pod)
			pl.state.Preempting(pod, result.NominatedNodeName, victims)
			pl.countEvictions(pod, victims)
		}
	case s.fitsFree.Load():
		// Some node has room for it already (a preemptor's victims are
		// gone): its offer is coming. It keeps its nomination; should its
		// role reach its fair share first, it is tried again to say so.
		pl.waiting.addUntil(pod, false)
		return nil, fwk.NewStatus(fwk.Unschedulable, ErrReasonFitsFree)
	case s.deferredUntil.Load() > 0:
		pl.state.ReleaseNomination(pod.UID)
		due := time.Unix(0, s.deferredUntil.Load())
		pl.deferred.add(pod, due)
		return result, fwk.NewStatus(fwk.Unschedulable, fmt.Sprintf("%s (%v)", ErrReasonPreemptionDeferred, pl.args.FairSharePreemptionDelay.Duration))
	default:
		// Its preemption, if it had one, did not get it placed, and no new
		// one can: the room it was owed is no longer held for it.
		pl.state.ReleaseNomination(pod.UID)
		pl.state.MarkBlocked(pod.UID)
	}
	if msg := status.Message(); msg != "" {
		return result, fwk.NewStatus(status.Code(), "preemption: "+msg)
	}
	return result, status
}

// Reserve counts the pod for its role at once.
func (pl *DRF) Reserve(_ context.Context, _ fwk.CycleState, pod *v1.Pod, nodeName string) *fwk.Status {
	pl.state.Assume(pod, nodeName)
	pl.tags.forget(pod.UID)
	pl.waiting.remove(pod.UID)
	pl.deferred.remove(pod.UID)
	return nil
}

// Unreserve is the exact inverse of Reserve (the pod gets a new tag when it
// is queued again).
func (pl *DRF) Unreserve(_ context.Context, _ fwk.CycleState, pod *v1.Pod, _ string) {
	pl.state.Forget(pod)
}
