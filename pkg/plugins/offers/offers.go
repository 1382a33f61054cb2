// Package offers is the MesosOffers plugin: a pod may land only on
// resources currently offered to its role. It is a thin adapter between the
// scheduling framework and an offer.Book fed by an offer.Source (the embedded
// allocator by default, or a Mesos master).
//
// Pipeline, in the order the framework runs it:
//
//	PreEnqueue  no offer for the pod's role yet: revive the role and hold the
//	            pod out of the active queue for one allocation interval
//	PreFilter   the pod's role and request; no offer: Unschedulable "no
//	            outstanding offer for role R" (the role is revived); else only
//	            the nodes holding an offer with room (PreFilterResult)
//	Filter      the node's offers for the role, minus this cycle's
//	            reservations, cover the requests and the host ports
//	Score       reserved before unreserved before revocable, then the offer
//	            closest to expiry (score.go)
//	Reserve     take the pod's requests and ports from one offer
//	Permit      wait while the pods placed on the same offer gather, then
//	            ACCEPT them together (accept.go)
//
// Offers nobody can use are declined promptly with refuse filters, and roles
// with nothing pending are suppressed (sweep.go).
package offers

import (
	"context"
	"fmt"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/allocator"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/cluster"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/metrics"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/offer"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins/internal/cyclestate"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/roles"
)

var (
	_ fwk.PreEnqueuePlugin  = &Offers{}
	_ fwk.PreFilterPlugin   = &Offers{}
	_ fwk.FilterPlugin      = &Offers{}
	_ fwk.ScorePlugin       = &Offers{}
	_ fwk.ReservePlugin     = &Offers{}
	_ fwk.PermitPlugin      = &Offers{}
	_ fwk.EnqueueExtensions = &Offers{}
	_ offer.Handler         = &Offers{}
)

const (
	// Name is the plugin's name in the registry and in configurations.
	Name = "MesosOffers"
	// AnnotationPorts on a node lists the host ports it offers ("31000-32000,8080").
	AnnotationPorts = allocator.AnnotationPorts
	// preFilterStateKey holds what PreFilter learnt for later extension points.
	preFilterStateKey = fwk.StateKey("PreFilter" + Name)

	// ErrReasonNoOffer: the pod's role holds no offer (PreFilter adds the role).
	ErrReasonNoOffer = "no outstanding offer for the pod's role"
	// ErrReasonNoOfferOnNode: the node holds no offer for the pod's role.
	ErrReasonNoOfferOnNode = "node(s) had no outstanding offer for the pod's role"
	// ErrReasonOfferTooSmall: the node's offers for the role lack resources.
	ErrReasonOfferTooSmall = "node(s) had no offer for the pod's role with enough resources"
	// ErrReasonPortsNotOffered: the node's offers do not hold the host ports.
	ErrReasonPortsNotOffered = "node(s) did not offer the pod's host ports"
	// ErrReasonOfferGone: the offer went away between Filter and Reserve.
	ErrReasonOfferGone = "the offer was rescinded or changed"
	// ErrReasonMaintenance: the node's agent is scheduled for maintenance.
	ErrReasonMaintenance = "node(s) were scheduled for Mesos maintenance"
	// ErrReasonPlannedForOthers: the room the role holds on the node is
	// planned for other roles' pods (Mesos mode: see plan.go).
	ErrReasonPlannedForOthers = "node(s) offered the pod's role room that is planned for other roles"
)

// Offers is the plugin.
type Offers struct {
	ctx    context.Context
	handle fwk.Handle
	args   *config.MesosOffersArgs
	state  *cluster.State
	book   *offer.Book
	// source holds the configured sources (one, or several: offer.Multi).
	source *offer.Multi
	refuse time.Duration
	// grace is how long PreEnqueue holds a pod whose role has no offer yet.
	grace time.Duration

	mu      sync.Mutex
	waiting map[string]map[types.UID]*v1.Pod // role -> pods waiting for an offer
	held    map[types.UID]time.Time          // pods PreEnqueue holds, since when
	revived map[types.UID]bool               // pods that asked for offers already
	// revivedRoles are the roles wait() revived since the sweeper last
	// looked: the sweeper counts them active, or it would take a role whose
	// new pod already failed for idle, SUPPRESS it and REVIVE it (clearing
	// its decline filters) as soon as room is freed.
	revivedRoles sets.Set[string]
	// reviving are the roles wait() asked offers for that no REVIVE has
	// named yet: one call names them all (a burst of new pods makes one
	// REVIVE, not one per pod).
	reviving sets.Set[string]
	// roleCalls orders the plugin's SUPPRESS and REVIVE calls: the sweeper
	// holds it from deciding which roles are idle until the source has
	// heard, and a new pod's REVIVE waits for it. Unordered, a sweep that
	// found a role idle just before its new pod came could SUPPRESS it
	// after that pod's REVIVE: the role stayed suppressed with the pod
	// pending, and the sweeper, counting a role wait() revived as active,
	// never revived it. Lock order: roleCalls, then mu.
	roleCalls sync.Mutex
	batches   *batcher
	// plan keeps a role to its planned part of the agents a Mesos master
	// offers it whole (nil with the embedded allocator, whose offers are
	// the plan already); see plan.go.
	plan *plan
}

// New decodes and validates the args, creates the offer source and starts it.
func New(ctx context.Context, obj runtime.Object, h fwk.Handle, provider *cluster.Provider) (fwk.Plugin, error) {
	args, err := decodeArgs(obj)
	if err != nil {
		return nil, err
	}
	st, err := provider.For(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Name, err)
	}
	book := offer.NewBook()
	metrics.Register()
	source, err := newSources(args, st, h, book)
	if err != nil {
		return nil, err
	}
	pl := &Offers{
		ctx: ctx, handle: h, args: args, state: st, book: book, source: source,
		refuse:  time.Duration(args.RefuseSeconds) * time.Second,
		grace:   max(args.AllocationInterval.Duration, 100*time.Millisecond),
		waiting: map[string]map[types.UID]*v1.Pod{}, held: map[types.UID]time.Time{}, revived: map[types.UID]bool{},
		revivedRoles: sets.New[string](), reviving: sets.New[string](),
	}
	pl.batches = newBatcher(pl)
	if !source.AllLocal() {
		pl.plan = &plan{planner: allocator.New(st, allocator.Config{DefaultPorts: defaultPorts(args)}), holding: func(fn func(node, role string, req resources.Vector)) {
			for _, p := range st.AppendPlaced(nil) {
				if p.Role != "" && !p.Evicting {
					fn(p.NodeName, p.Role, p.Request)
				}
			}
		}}
		pl.plan.held = source.HeldElsewhere
	}
	if _, err := h.SharedInformerFactory().Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if p, ok := obj.(*v1.Pod); ok {
				pl.forgetPod(p)
			}
		},
	}); err != nil {
		return nil, fmt.Errorf("%s: watching pods: %w", Name, err)
	}
	if !source.AllLocal() {
		// Fair targets count only what the scheduler can have.
		st.SetHeldElsewhere(source.HeldElsewhereByNode)
	}
	go func() {
		if err := source.Run(ctx, pl); err != nil {
			klog.FromContext(ctx).Error(err, "Offer source stopped")
		}
	}()
	go runSourceGauges(ctx, source, st)
	go pl.runSweeper(ctx)
	klog.FromContext(ctx).V(2).Info("MesosOffers plugin configured", "sources", source.Names(),
		"allocationInterval", args.AllocationInterval.Duration, "refuseSeconds", args.RefuseSeconds,
		"offerTimeout", args.OfferTimeout.Duration, "acceptBatchWindow", args.AcceptBatchWindow.Duration)
	return pl, nil
}

// Name returns the plugin's name.
func (pl *Offers) Name() string { return Name }

// EventsToRegister: pods waiting for offers are re-activated when offers for
// their role arrive (no cluster event carries that); a new node may bring
// offers too.
func (pl *Offers) EventsToRegister(_ context.Context) ([]fwk.ClusterEventWithHint, error) {
	return []fwk.ClusterEventWithHint{
		{Event: fwk.ClusterEvent{Resource: fwk.Node, ActionType: fwk.Add}},
	}, nil
}

// PreEnqueue holds a pod out of the active queue for up to one allocation
// interval while no offer to its role has room for it, and revives the
// role: the offer usually arrives within milliseconds, and the pod then
// needs no failed scheduling attempt (no status update, no event: two API
// writes saved per pod when pods arrive faster than offers). After the
// grace the pod goes on and PreFilter tells why it waits.
func (pl *Offers) PreEnqueue(_ context.Context, pod *v1.Pod) *fwk.Status {
	role, err := pl.state.RoleOfPod(pod)
	if err != nil || pl.book.Fits(role, pl.state.RequestOf(pod), resources.HostPorts(pod)) {
		pl.release(pod.UID)
		return nil
	}
	now := time.Now()
	pl.mu.Lock()
	since, held := pl.held[pod.UID]
	if !held {
		pl.held[pod.UID] = now
		since = now
	}
	pl.mu.Unlock()
	if now.Sub(since) >= pl.grace {
		return nil
	}
	pl.wait(role, pod)
	if !held {
		after(pl.ctx, pl.grace, func() { pl.activate(map[string]*v1.Pod{key(pod): pod}) })
	}
	return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, fmt.Sprintf("%s %q: waiting for the allocator", ErrReasonNoOffer, role))
}

func (pl *Offers) release(uid types.UID) {
	pl.mu.Lock()
	delete(pl.held, uid)
	pl.mu.Unlock()
}

// PreFilter finds the nodes holding an offer to the pod's role with room for
// it. With none, the pod is Unschedulable and the role is revived.
func (pl *Offers) PreFilter(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, _ []fwk.NodeInfo) (*fwk.PreFilterResult, *fwk.Status) {
	role, err := pl.state.RoleOfPod(pod)
	if err != nil {
		pl.wait("", pod) // re-activated when the namespace is fixed
		return nil, fwk.NewStatus(fwk.UnschedulableAndUnresolvable, roles.BadRole(err))
	}
	s := &preFilterState{role: role, request: pl.state.RequestOf(pod), ports: resources.HostPorts(pod)}
	cs.Write(preFilterStateKey, s)
	if !pl.book.HasRole(role) {
		why, noRoom := pl.explain(pod)
		pl.wait(role, pod)
		pl.state.SetOfferWait(pod.UID, !noRoom)
		return nil, fwk.NewStatus(fwk.Unschedulable, fmt.Sprintf("%s %q%s", ErrReasonNoOffer, role, why))
	}
	nodes := pl.book.Nodes(role, s.request, s.ports)
	if len(nodes) == 0 {
		why, noRoom := pl.explain(pod)
		pl.wait(role, pod)
		pl.state.SetOfferWait(pod.UID, !noRoom)
		return nil, fwk.NewStatus(fwk.Unschedulable, pl.whyNoFit(pod, role, s, why))
	}
	pl.state.SetOfferWait(pod.UID, false)
	klog.FromContext(ctx).V(5).Info("Offers for the pod", "pod", klog.KObj(pod), "role", role, "nodes", len(nodes))
	return &fwk.PreFilterResult{NodeNames: sets.New(nodes...)}, nil
}

// whyNoFit explains, with values, why no offer of the role fits the pod.
func (pl *Offers) whyNoFit(pod *v1.Pod, role string, s *preFilterState, why string) string {
	for _, v := range pl.book.Views() {
		if v.Role == role && s.request.Fits(v.Free) {
			if p, ok := v.Ports.ContainsAll(s.ports); !ok {
				return fmt.Sprintf("%s: offers to role %q do not hold host port %d (offered %s)", ErrReasonPortsNotOffered, role, p, v.Ports)
			}
		}
	}
	return fmt.Sprintf("%s %q fits the pod (asks %s)%s", ErrReasonNoOffer, role, s.request, why)
}

// explain adds the source's reason for giving the pod no offer, if it has
// one, and says whether the source found no room for it (then preemption
// may help; otherwise the pod only waits for an offer).
func (pl *Offers) explain(pod *v1.Pod) (string, bool) {
	why, noRoom := pl.source.Why(pod.UID)
	if why != "" {
		why = ": " + why
	}
	return why, noRoom
}

// PreFilterExtensions returns nil: the plugin keeps no state about the pods
// of a node. A preemption dry run (cyclestate.InPreemptionDryRun) reads the
// node's room from the NodeInfo the framework changes as victims come and
// go.
func (pl *Offers) PreFilterExtensions() fwk.PreFilterExtensions { return nil }

// Filter: the node's offers for the role, minus what this cycle reserved
// already, hold the pod's requests and host ports. In a preemption dry run,
// the room the node would have instead: its free resources (victims gone),
// minus what is offered to other roles there and what is held outside
// Kubernetes (other Mesos frameworks): when the victims leave, that room
// goes to the preemptor's role.
func (pl *Offers) Filter(_ context.Context, cs fwk.CycleState, _ *v1.Pod, ni fwk.NodeInfo) *fwk.Status {
	s, err := getPreFilterState(cs)
	if err != nil {
		return fwk.AsStatus(err)
	}
	node := ni.Node().Name
	if _, down := pl.source.Unavailable(node); down {
		return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, ErrReasonMaintenance)
	}
	if cyclestate.InPreemptionDryRun(cs) {
		if s.request.Fits(pl.roomAfterPreemption(s.role, node, ni)) {
			return nil
		}
		return fwk.NewStatus(fwk.Unschedulable, ErrReasonOfferTooSmall)
	}
	c, v := pl.book.Best(s.role, node, s.request, s.ports)
	switch v {
	case offer.Fits:
		// A master's whole-agent offer is used within the plan; the
		// embedded allocator's offers are the plan already.
		if pl.plan != nil && !pl.source.LocalOffer(c.OfferID) && !s.request.Fits(pl.plan.usable(node, s.role, offeredTo(pl.book.OnNode(node), s.role))) {
			return fwk.NewStatus(fwk.Unschedulable, ErrReasonPlannedForOthers)
		}
		return nil
	case offer.PortsMissing:
		return fwk.NewStatus(fwk.Unschedulable, ErrReasonPortsNotOffered)
	case offer.TooSmall:
		return fwk.NewStatus(fwk.Unschedulable, ErrReasonOfferTooSmall)
	}
	return fwk.NewStatus(fwk.Unschedulable, ErrReasonNoOfferOnNode)
}

// roomAfterPreemption is what a role could be offered on a node in a
// preemption dry run: the node's free resources as the dry run sees them,
// minus what other roles are offered there or (Mesos mode) planned there,
// whichever is more, and what is held there outside Kubernetes.
func (pl *Offers) roomAfterPreemption(role, node string, ni fwk.NodeInfo) resources.Vector {
	room := resources.FromFramework(ni.GetAllocatable())
	room.Sub(resources.FromFramework(ni.GetRequested()))
	room[v1.ResourcePods] = resources.AddSat(room[v1.ResourcePods], -int64(len(ni.GetPods())))
	others := resources.Vector{}
	if pl.plan != nil && !pl.source.LocalNode(node) {
		// A master offers the whole agent to one role, which takes only
		// its planned part (plan.go) and returns the rest: the room
		// planned there for other roles is theirs, a pod that fits only
		// in it must preempt (a role above its plan) rather than wait for
		// room it may never be offered; what another role is offered
		// beyond its plan comes back to be offered again.
		others = pl.plan.others(node, role)
	} else {
		for _, v := range pl.book.OnNode(node) {
			if v.Role != role {
				others.Add(v.Free)
			}
		}
	}
	room.Sub(others)
	room.Sub(pl.source.HeldElsewhere(node))
	return room
}

// Score prefers reserved offers, then unreserved, then revocable, and among
// those an offer already being filled, then the one closest to expiry (see
// offerScore).
func (pl *Offers) Score(_ context.Context, cs fwk.CycleState, _ *v1.Pod, ni fwk.NodeInfo) (int64, *fwk.Status) {
	s, err := getPreFilterState(cs)
	if err != nil {
		return 0, fwk.AsStatus(err)
	}
	c, v := pl.book.Best(s.role, ni.Node().Name, s.request, s.ports)
	if v != offer.Fits {
		return 0, nil
	}
	return offerScore(c.Kind, c.Batching, c.Expires, time.Now(), pl.args.OfferTimeout.Duration), nil
}

// ScoreExtensions returns nil: scores are already in [0, 100].
func (pl *Offers) ScoreExtensions() fwk.ScoreExtensions { return nil }

// Reserve takes the pod's requests and ports from the best offer on the node
// and counts the pod for its role.
func (pl *Offers) Reserve(ctx context.Context, cs fwk.CycleState, pod *v1.Pod, nodeName string) *fwk.Status {
	s, err := getPreFilterState(cs)
	if err != nil {
		return fwk.AsStatus(err)
	}
	id, err := pl.book.Reserve(pod, s.role, nodeName, s.request, s.ports)
	if err != nil {
		klog.FromContext(ctx).V(4).Info("No offer to reserve on", "pod", klog.KObj(pod), "node", nodeName, "err", err)
		pl.offerGone(s.role, pod, s.request, s.ports)
		return fwk.NewStatus(fwk.Unschedulable, ErrReasonOfferGone)
	}
	pl.batches.reserved(pod.UID, id)
	pl.state.Assume(pod, nodeName)
	if pl.plan != nil {
		pl.plan.take(nodeName, s.role, s.request)
	}
	pl.unwait(s.role, pod.UID)
	klog.FromContext(ctx).V(4).Info("Reserved on offer", "pod", klog.KObj(pod), "node", nodeName, "offerID", id, "role", s.role)
	return nil
}

// Unreserve is the exact inverse of Reserve. A pod whose offer was already
// accepted (its binding failed afterwards) has what the source launched for
// it stopped.
func (pl *Offers) Unreserve(ctx context.Context, _ fwk.CycleState, pod *v1.Pod, _ string) {
	if _, reserved := pl.book.Unreserve(pod.UID); !reserved {
		if err := pl.source.Kill(ctx, pod); err != nil {
			klog.FromContext(ctx).Error(err, "Stopping the task of an unreserved pod", "pod", klog.KObj(pod))
		}
	}
	pl.batches.forget(pod.UID)
	pl.state.Forget(pod)
}

// Permit makes the pod wait until the pods placed on its offer are accepted
// together; see accept.go.
func (pl *Offers) Permit(_ context.Context, _ fwk.CycleState, pod *v1.Pod, _ string) (*fwk.Status, time.Duration) {
	return pl.batches.permit(pod)
}

// offerGone handles a pod whose offer went away between Filter and Reserve
// or Permit (accepted with other pods, rescinded, expired), with the
// embedded allocator: when another offer of its role has room for it, it
// is tried again at once (the activation of a pod in its scheduling cycle
// takes effect when the cycle ends). Otherwise nothing would requeue it
// before its backoff and the queue's periodic flush: the offers that cover
// it are outstanding already, so the allocator offers nothing new for it.
// It does not REVIVE the role (as a pod that found no offer does): that
// would clear the role's decline filters. With a Mesos master the pod is left to its backoff: it may be in
// the ACCEPT that took its offer (its Permit ran after the offer left the
// book), and its task, whose ID is the pod's UID, must be killed before
// the pod is launched again.
func (pl *Offers) offerGone(role string, pod *v1.Pod, req resources.Vector, ports []int32) {
	if !pl.source.AllLocal() {
		return
	}
	if pl.book.Fits(role, req, ports) {
		pl.activate(map[string]*v1.Pod{key(pod): pod})
	}
}

// wait records a pod waiting for an offer to its role and revives the role
// the first time the pod asks. Role "" holds pods whose namespace maps to no
// valid role; the sweeper re-activates them once it does.
func (pl *Offers) wait(role string, pod *v1.Pod) {
	pl.mu.Lock()
	if pl.waiting[role] == nil {
		pl.waiting[role] = map[types.UID]*v1.Pod{}
	}
	pl.waiting[role][pod.UID] = pod
	first := role != "" && !pl.revived[pod.UID]
	if first {
		pl.revived[pod.UID] = true
		pl.revivedRoles.Insert(role)
		pl.reviving.Insert(role)
	}
	pl.mu.Unlock()
	if first {
		// The state may not have seen the pod yet (its informer handler runs
		// apart from the scheduling queue's): make sure the revived cycle
		// counts it.
		pl.state.UpsertPod(pod)
		go pl.sendRevives() // bounded by the plugin's context and the call timeout
	}
}

// sendRevives sends one REVIVE for the roles wait() asked offers for, in
// order with the sweeper's calls (roleCalls); an earlier call may have
// named them all already.
func (pl *Offers) sendRevives() {
	pl.roleCalls.Lock()
	defer pl.roleCalls.Unlock()
	pl.mu.Lock()
	roles := sets.List(pl.reviving)
	pl.reviving = sets.New[string]()
	pl.mu.Unlock()
	if len(roles) == 0 {
		return
	}
	if err := pl.source.Revive(pl.ctx, roles...); err != nil && pl.ctx.Err() == nil {
		klog.FromContext(pl.ctx).V(2).Info("REVIVE for new pods failed", "roles", roles, "err", err)
	}
}

// forgetPod drops a deleted pod from the plugin's bookkeeping.
func (pl *Offers) forgetPod(p *v1.Pod) {
	pl.mu.Lock()
	for _, m := range pl.waiting {
		delete(m, p.UID)
	}
	delete(pl.held, p.UID)
	delete(pl.revived, p.UID)
	pl.mu.Unlock()
	pl.batches.forget(p.UID)
}

func (pl *Offers) unwait(role string, uid types.UID) {
	pl.mu.Lock()
	delete(pl.waiting[role], uid)
	delete(pl.held, uid)
	delete(pl.revived, uid)
	pl.mu.Unlock()
}

// activate moves pods back to the active queue.
func (pl *Offers) activate(pods map[string]*v1.Pod) {
	if len(pods) > 0 {
		pl.handle.Activate(klog.FromContext(pl.ctx), pods)
	}
}

func key(pod *v1.Pod) string { return pod.Namespace + "/" + pod.Name }
