package mesos

import (
	"context"
	"fmt"
	"strings"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/events"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/metrics"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/offer"
)

// eventHandler dispatches the subscription's events; every event counts as
// a sign of life for the heartbeat watchdog.
func (s *Source) eventHandler() events.Handler {
	hs := events.HandlerFuncs{
		scheduler.Event_SUBSCRIBED:     s.onSubscribed,
		scheduler.Event_OFFERS:         s.onOffers,
		scheduler.Event_RESCIND:        s.onRescind,
		scheduler.Event_UPDATE:         s.onUpdate,
		scheduler.Event_FAILURE:        s.onFailure,
		scheduler.Event_ERROR:          s.onError,
		scheduler.Event_INVERSE_OFFERS: s.onInverseOffers,
		scheduler.Event_RESCIND_INVERSE_OFFER: func(ctx context.Context, e *scheduler.Event) error {
			s.maintenance.rescind(e.GetRescindInverseOffer().InverseOfferID.Value)
			return nil
		},
	}
	return events.HandlerFunc(func(ctx context.Context, e *scheduler.Event) error {
		s.mu.Lock()
		s.lastEvent = time.Now()
		s.mu.Unlock()
		return hs.HandleEvent(ctx, e)
	})
}

// onSubscribed records the framework ID (stored in the cluster for
// failover) and the heartbeat interval, and reconciles every task.
func (s *Source) onSubscribed(ctx context.Context, e *scheduler.Event) error {
	sub := e.GetSubscribed()
	id := sub.GetFrameworkID().GetValue()
	s.mu.Lock()
	changed := id != s.frameworkID
	s.frameworkID = id
	if hb := sub.GetHeartbeatIntervalSeconds(); hb > 0 {
		s.heartbeat = time.Duration(hb * float64(time.Second))
	}
	close(s.subscribed)
	s.subscribed = make(chan struct{})
	s.connected, s.lastErr = true, nil
	s.leader = fmt.Sprintf("%s:%d", sub.GetMasterInfo().GetAddress().GetHostname(), sub.GetMasterInfo().GetAddress().GetPort())
	leader := s.leader
	s.mu.Unlock()
	s.sourceEvent(v1.EventTypeNormal, ReasonSubscribed, "Subscribe", "Subscribed to the leading Mesos master %s as framework %s", leader, id)
	metrics.MesosSubscriptions.Inc()
	go s.afterSubscribe(ctx) // bounded by the subscription's context and the call timeout
	s.logger.Info("Subscribed to Mesos", "frameworkID", id, "master", sub.GetMasterInfo().GetAddress().GetHostname(),
		"port", sub.GetMasterInfo().GetAddress().GetPort(), "heartbeat", s.heartbeat)
	if changed {
		go s.saveFrameworkID(s.ctx, id)
	}
	go s.tasks.beginReconcile(ctx)
	return nil
}

// onOffers converts offers on agents that map to a node and hands them to
// the plugin; offers on agents that map to none are declined at once.
func (s *Source) onOffers(ctx context.Context, e *scheduler.Event) error {
	nodes := s.nodeIndex()
	now := time.Now()
	var out []offer.Offer
	var orphans []mesos.OfferID
	seen := sets.New[string]()
	agentOf := map[string]string{} // node -> agent ID, of this event's offers
	s.mu.Lock()
	for i := range e.GetOffers().GetOffers() {
		o := e.GetOffers().GetOffers()[i]
		n, ok := nodes.byAgent[o.GetHostname()]
		if !ok {
			orphans = append(orphans, o.ID)
			s.logger.V(2).Info("Offer on an agent with no node: declining", "offerID", o.ID.Value, "agent", o.GetHostname())
			continue
		}
		seen.Insert(n)
		agentOf[n] = o.AgentID.Value
		s.maintenance.offered(n, o.Unavailability != nil)
		s.agents[o.AgentID.Value] = n
		s.offers[o.ID.Value] = &o
		out = append(out, convert(&o, n, nodes.freePods[n], now))
	}
	heldChanged := s.forgetHeldLocked(nodes)
	for n, agent := range agentOf {
		heldChanged = s.noteHeldLocked(n, agent) || heldChanged
	}
	h := s.handler
	s.mu.Unlock()
	if heldChanged {
		s.state.HeldElsewhereChanged()
	}
	out = s.relaunchOrphans(ctx, out)
	s.noteAgents(nodes, seen, len(orphans))
	if len(orphans) > 0 {
		go func() { _ = s.call(ctx, calls.Decline(orphans...).With(calls.RefuseSeconds(s.cfg.Refuse))) }()
	}
	if len(out) > 0 {
		h.Offers(out)
	}
	return nil
}

// relaunchOrphans uses offers on the nodes of orphan pods (bound pods whose
// task the master does not run) to relaunch their tasks, and asks again
// about tasks reported unreachable on the offers' agents (an agent that
// makes offers is back). It returns the offers left for the plugin.
func (s *Source) relaunchOrphans(ctx context.Context, offers []offer.Offer) []offer.Offer {
	out := offers[:0]
	asked := sets.New[string]()
	for _, o := range offers {
		if !asked.Has(o.AgentID) {
			asked.Insert(o.AgentID)
			if back := s.tasks.unreachableOn(o.AgentID); len(back) > 0 {
				go func() { _ = s.call(ctx, calls.Reconcile(calls.ReconcileTasks(back))) }()
			}
		}
		launches := s.tasks.claim(o.Node, o.Role, o.Resources, o.Ports)
		if len(launches) == 0 {
			out = append(out, o)
			continue
		}
		go func(id string) {
			failed, err := s.Accept(s.ctx, id, launches)
			s.tasks.relaunched(launches, failed, err)
		}(o.ID)
	}
	return out
}

// nodeIndex maps agent hostnames to schedulable nodes (node name, or the
// value of AgentNodeLabel) and gives each node's free pod slots.
type nodeIndex struct {
	byAgent  map[string]string
	freePods map[string]int64
}

func (s *Source) nodeIndex() nodeIndex {
	idx := nodeIndex{byAgent: map[string]string{}, freePods: map[string]int64{}}
	for _, n := range s.state.AppendNodes(nil) {
		if !n.Schedulable {
			continue
		}
		if s.cfg.Serves != nil && !s.cfg.Serves(n.Object) {
			continue // another source's node
		}
		host := n.Name
		if s.cfg.AgentNodeLabel != "" {
			var ok bool
			if host, ok = n.Object.Labels[s.cfg.AgentNodeLabel]; !ok {
				continue
			}
		}
		idx.byAgent[host] = n.Name
		idx.freePods[n.Name] = n.Allocatable[v1.ResourcePods] - n.Used[v1.ResourcePods]
	}
	return idx
}

// forgetHeldLocked drops the figures held elsewhere of nodes that no longer
// map to an agent (deleted, cordoned, or their agent label gone): no offer
// for them will come to correct a figure kept. A cordoned node's figure is
// learnt again from the first offer after it is uncordoned. It reports
// whether any was dropped.
func (s *Source) forgetHeldLocked(nodes nodeIndex) bool {
	if len(s.held) == 0 {
		return false
	}
	live := make(sets.Set[string], len(nodes.byAgent))
	for _, n := range nodes.byAgent {
		live.Insert(n)
	}
	dropped := false
	for n := range s.held {
		if !live.Has(n) {
			delete(s.held, n)
			dropped = true
		}
	}
	return dropped
}

// noteAgents keeps the agents-without-node and nodes-without-agent gauges.
func (s *Source) noteAgents(nodes nodeIndex, seen sets.Set[string], orphans int) {
	s.mu.Lock()
	if s.seenNodes == nil {
		s.seenNodes = sets.New[string]()
	}
	s.seenNodes = s.seenNodes.Union(seen)
	missing := 0
	for _, n := range nodes.byAgent {
		if !s.seenNodes.Has(n) {
			missing++
		}
	}
	s.mu.Unlock()
	metrics.MesosNodesWithoutAgent.Set(float64(missing))
	if orphans > 0 {
		metrics.MesosUnmatchedAgents.Set(float64(orphans))
	}
}

func (s *Source) onRescind(_ context.Context, e *scheduler.Event) error {
	id := e.GetRescind().OfferID.Value
	s.mu.Lock()
	_, ours := s.offers[id]
	delete(s.offers, id)
	h := s.handler
	s.mu.Unlock()
	if ours {
		h.Rescind(id)
	}
	return nil
}

// onUpdate follows a task's state and acknowledges updates that carry a uuid
// (master-generated ones carry none).
func (s *Source) onUpdate(ctx context.Context, e *scheduler.Event) error {
	st := e.GetUpdate().GetStatus()
	metrics.MesosTaskStates.WithLabelValues(st.GetState().String()).Inc()
	s.tasks.update(ctx, st)
	if len(st.UUID) > 0 {
		s.mu.Lock()
		acks := s.acks
		s.mu.Unlock()
		if acks != nil {
			acks.add(calls.Acknowledge(st.GetAgentID().GetValue(), st.TaskID.Value, st.UUID))
		}
	}
	return nil
}

// onFailure: an agent failed (no executor in the event) — its offers are gone.
func (s *Source) onFailure(_ context.Context, e *scheduler.Event) error {
	f := e.GetFailure()
	if f.ExecutorID != nil || f.AgentID == nil {
		return nil
	}
	s.mu.Lock()
	node, ok := s.agents[f.AgentID.Value]
	h := s.handler
	s.mu.Unlock()
	if ok {
		s.logger.Info("Agent failed", "agentID", f.AgentID.Value, "node", node)
		h.AgentLost(node)
	}
	return nil
}

// onError: the master ends the subscription. A removed framework (failover
// timeout passed, or torn down) cannot come back: the next SUBSCRIBE
// registers a new one.
func (s *Source) onError(ctx context.Context, e *scheduler.Event) error {
	msg := e.GetError().GetMessage()
	s.logger.Info("Mesos master sent ERROR", "message", msg)
	if strings.Contains(msg, "removed") {
		s.mu.Lock()
		s.frameworkID = ""
		s.mu.Unlock()
		go s.saveFrameworkID(s.ctx, "")
	}
	return nil
}
