package offers

import (
	"context"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/cluster"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/fair"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/metrics"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/offer"
)

// sweepInterval is how often unusable offers are looked for.
const sweepInterval = 100 * time.Millisecond

// runSweeper declines offers that their role cannot use and keeps the
// source's view of active roles current (suppress / revive), so offers are
// never hoarded.
func (pl *Offers) runSweeper(ctx context.Context) {
	active := sets.New[string]()
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		if pl.plan != nil {
			pl.plan.refresh(pl.state.Version(), pl.book.OfferedTo())
		}
		pl.declineUnusable(ctx)
		active = pl.syncActiveRoles(ctx, active)
		pl.activateFixedRoles()
	}, sweepInterval)
}

// declineUnusable declines, with the refuse filter, every offer that holds
// no reservation, has been in the book for two accept windows, and that no
// runnable pod of its role fits (resources and host ports), or that has been
// in the book for two allocation intervals unused: either way another role
// should get those resources.
func (pl *Offers) declineUnusable(ctx context.Context) {
	now := time.Now()
	minAge := 2 * pl.args.AcceptBatchWindow.Duration
	maxAge := 2 * pl.args.AllocationInterval.Duration
	runnable := map[string][]cluster.Pod{}
	var declined []offer.Offer
	for _, v := range pl.book.Views() {
		age := now.Sub(v.Received)
		if v.Reserved > 0 || age < minAge {
			continue
		}
		pods, ok := runnable[v.Role]
		if !ok {
			pods = pl.withinShare(pl.state.RunnablePods(v.Role))
			runnable[v.Role] = pods
		}
		v.Free = pl.plan.usable(v.Node, v.Role, v.Free)
		if age < maxAge && usable(v, pods) {
			continue
		}
		if o, _, ok := pl.book.Remove(v.ID); ok {
			declined = append(declined, o)
		}
	}
	if len(declined) == 0 {
		return
	}
	ids := make([]string, len(declined))
	for i, o := range declined {
		ids[i] = o.ID
		metrics.Offers.WithLabelValues(o.Role, metrics.OfferDeclined).Inc()
		klog.FromContext(ctx).V(4).Info("Declining offer", "offerID", o.ID, "role", o.Role, "node", o.Node, "refuse", pl.refuse)
	}
	metrics.OfferBookSize.Set(float64(pl.book.Len()))
	if err := pl.source.Decline(ctx, ids, pl.refuse); err != nil {
		klog.FromContext(ctx).Error(err, "DECLINE failed", "offers", len(ids))
	}
	pl.state.Touch(true) // the declined resources are free again
}

// withinShare keeps the pods whose role stays within its fair target with
// them: the others are turned away by DRF and cannot use an offer.
func (pl *Offers) withinShare(pods []cluster.Pod) []cluster.Pod {
	out := pods[:0]
	for _, p := range pods {
		if v, _ := pl.state.FairShare(p.UID, p.Role, p.Request); v == fair.Below || v == fair.At {
			out = append(out, p)
		}
	}
	return out
}

func usable(v offer.View, pods []cluster.Pod) bool {
	for _, p := range pods {
		if p.Request.Fits(v.Free) {
			if _, ok := v.Ports.ContainsAll(p.Ports); ok {
				return true
			}
		}
	}
	return false
}

// syncActiveRoles suppresses roles with no pending pod within their fair
// target (nothing pending, or every pending pod beyond it) and revives them
// when they have one again (Mesos SUPPRESS / REVIVE per role). Every idle
// role is named on every sweep, not only when it turns idle: a role whose
// pods were placed between two sweeps, or one a new subscription knows,
// is suppressed too (the source sends only what changes at the master).
// Roles are revived when they turn active. The decision and the calls are
// made under roleCalls, in order with a new pod's REVIVE.
func (pl *Offers) syncActiveRoles(ctx context.Context, before sets.Set[string]) sets.Set[string] {
	pl.roleCalls.Lock()
	defer pl.roleCalls.Unlock()
	pl.mu.Lock()
	if pl.revivedRoles.Len() > 0 {
		before = before.Union(pl.revivedRoles)
		pl.revivedRoles = sets.New[string]()
	}
	pl.mu.Unlock()
	now := sets.New[string]()
	var idle []string
	for _, r := range pl.state.Roles() {
		if r.Pending > 0 {
			runnable := pl.state.RunnablePods(r.Name)
			switch {
			case len(runnable) < r.Pending && before.Has(r.Name):
				// Pods that failed everywhere wait for room and leave the
				// fair targets until some is freed: the role keeps its
				// state, or every REVIVE would clear its decline filters.
				now.Insert(r.Name)
				continue
			case len(pl.withinShare(runnable)) > 0:
				now.Insert(r.Name)
				continue
			}
		}
		idle = append(idle, r.Name)
	}
	if len(idle) > 0 {
		if err := pl.source.Suppress(ctx, idle...); err != nil {
			klog.FromContext(ctx).Error(err, "SUPPRESS failed", "roles", idle)
		}
	}
	if added := sets.List(now.Difference(before)); len(added) > 0 {
		if err := pl.source.Revive(ctx, added...); err != nil {
			klog.FromContext(ctx).Error(err, "REVIVE failed", "roles", added)
		}
	}
	return now
}

// activateFixedRoles re-activates pods held for a bad role once their
// namespace maps to a valid role.
func (pl *Offers) activateFixedRoles() {
	pods := map[string]*v1.Pod{}
	pl.mu.Lock()
	for uid, p := range pl.waiting[""] {
		if _, err := pl.state.RoleOfPod(p); err == nil {
			pods[key(p)] = p
			delete(pl.waiting[""], uid)
		}
	}
	pl.mu.Unlock()
	pl.activate(pods)
}
