package offers

import (
	"sort"

	v1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/cluster"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/metrics"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/offer"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// Offers puts new offers in the book and sends the pods that can use them
// back to the active queue at once: the pods of each role, in priority and
// age order, that fit (first fit) into the role's new offers, wherever they
// wait (unschedulable, backoff), plus those PreEnqueue holds.
func (pl *Offers) Offers(offers []offer.Offer) {
	if pl.plan != nil {
		// Before the offers can be used: a role may use an offer only
		// within the plan (plan.go), made for the roles they are offered to.
		offered := pl.book.OfferedTo()
		for _, o := range offers {
			if r, ok := offered[o.Node]; !ok || o.Role < r {
				offered[o.Node] = o.Role
			}
		}
		pl.plan.refresh(pl.state.Version(), offered)
	}
	pl.book.Add(offers...)
	byRole := map[string][]offer.Offer{}
	for _, o := range offers {
		byRole[o.Role] = append(byRole[o.Role], o)
		metrics.Offers.WithLabelValues(o.Role, metrics.OfferMade).Inc()
	}
	metrics.OfferBookSize.Set(float64(pl.book.Len()))
	pl.state.Touch(true)
	pods := map[string]*v1.Pod{}
	for role, os := range byRole {
		left := make([]resources.Vector, len(os))
		for i, o := range os {
			left[i] = o.Resources.Clone()
		}
		for _, p := range nominatedFirst(pl.state.PendingPods(role)) {
			for i := range os {
				if p.Request.Fits(left[i]) {
					if _, ok := os[i].Ports.ContainsAll(p.Ports); ok {
						left[i].Sub(p.Request)
						pods[key(p.Object)] = p.Object
						break
					}
				}
			}
		}
	}
	pl.mu.Lock()
	for r := range byRole {
		for uid, p := range pl.waiting[r] {
			pods[key(p)] = p
			delete(pl.held, uid)
		}
		delete(pl.waiting, r)
	}
	pl.mu.Unlock()
	klog.FromContext(pl.ctx).V(4).Info("Offers received", "count", len(offers), "activating", len(pods))
	pl.activate(pods)
}

// Rescind drops an offer; pods reserved on it and waiting in Permit are
// rejected and go back to the queue.
func (pl *Offers) Rescind(offerID string) {
	o, pods, ok := pl.book.Remove(offerID)
	if !ok {
		return
	}
	metrics.Offers.WithLabelValues(o.Role, metrics.OfferRescinded).Inc()
	metrics.OfferBookSize.Set(float64(pl.book.Len()))
	klog.FromContext(pl.ctx).V(4).Info("Offer rescinded", "offerID", offerID, "role", o.Role, "node", o.Node, "reserved", len(pods))
	pl.rejectReserved(offerID, pods, "the offer was rescinded")
	pl.state.Touch(true) // its resources are free again
}

// AgentLost drops every offer on the node.
func (pl *Offers) AgentLost(node string) { pl.AgentLostFrom(node, "") }

// AgentLostFrom drops the offers one source made on the node ("": every
// source's).
func (pl *Offers) AgentLostFrom(node, source string) {
	offers, pods := pl.book.RemoveNode(node, source)
	for _, o := range offers {
		metrics.Offers.WithLabelValues(o.Role, metrics.OfferRescinded).Inc()
	}
	metrics.OfferBookSize.Set(float64(pl.book.Len()))
	klog.FromContext(pl.ctx).V(2).Info("Agent lost", "node", node, "source", source, "offers", len(offers))
	for id, reserved := range pods {
		pl.rejectReserved(id, reserved, "the agent was lost")
	}
	pl.state.Touch(false)
}

// rejectReserved rejects the pods reserved on an offer that went away.
// With a master, a pod's Permit may have seen its reservation and returned
// Wait without the framework having registered the pod as waiting yet: the
// rejection is then kept for it and delivered once it waits, as an
// ACCEPT's outcome is (batcher.decide). Rejecting only the pods found
// waiting lost such a pod's rejection, and it waited for the Permit
// timeout (30 s) before it was placed again. A local source's pods never
// wait in Permit.
func (pl *Offers) rejectReserved(offerID string, pods []*v1.Pod, why string) {
	for _, p := range pods {
		if !pl.source.LocalOffer(offerID) {
			pl.batches.decide(p, outcome{offer: offerID, msg: why})
			continue
		}
		if wp := pl.handle.GetWaitingPod(p.UID); wp != nil {
			wp.Reject(Name, why)
		}
	}
}

// nominatedFirst puts preemptors (owed the room their victims left) before
// the other pods, keeping the order otherwise.
func nominatedFirst(pods []cluster.Pod) []cluster.Pod {
	sort.SliceStable(pods, func(i, j int) bool { return pods[i].Nominated && !pods[j].Nominated })
	return pods
}
