package mesos

import (
	"context"
	"sync"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/offer"
)

// drainRetry is how often a drain retries evictions that a
// PodDisruptionBudget refused.
const drainRetry = 2 * time.Second

// maintenance follows Mesos maintenance: an INVERSE_OFFER announces that an
// agent will be unavailable for a window; the node takes no new pods until
// the window is over (the plugin's Filter asks Unavailable). With
// drainOnMaintenance our pods there are evicted through the Eviction API
// (so PodDisruptionBudgets hold), and once none is left the inverse offer is
// accepted; without it the inverse offer is declined (we keep the pods).
// RESCIND_INVERSE_OFFER clears the window.
type maintenance struct {
	s      *Source
	mu     sync.Mutex
	byNode map[string]window // node -> window
	byID   map[string]string // inverse offer ID -> node
}

type window struct {
	offerID    string
	start, end time.Time
	cancel     context.CancelFunc
}

func newMaintenance(s *Source) *maintenance {
	return &maintenance{s: s, byNode: map[string]window{}, byID: map[string]string{}}
}

// Unavailable reports whether a node is under announced maintenance (from
// the inverse offer until the end of its window).
func (s *Source) Unavailable(node string) (offer.Window, bool) {
	m := s.maintenance
	m.mu.Lock()
	defer m.mu.Unlock()
	w, ok := m.byNode[node]
	if !ok || !time.Now().Before(w.end) {
		return offer.Window{}, false
	}
	return offer.Window{Start: w.start, Duration: w.end.Sub(w.start)}, true
}

func (s *Source) onInverseOffers(ctx context.Context, e *scheduler.Event) error {
	for _, io := range e.GetInverseOffers().GetInverseOffers() {
		s.mu.Lock()
		node, ok := s.agents[io.GetAgentID().GetValue()]
		s.mu.Unlock()
		if !ok {
			s.logger.Info("Inverse offer for an agent with no known node", "agentID", io.GetAgentID().GetValue())
			continue
		}
		u := io.GetUnavailability()
		start := time.Unix(0, u.Start.Nanoseconds)
		end := time.Unix(1<<62, 0)
		if u.Duration != nil {
			end = start.Add(time.Duration(u.Duration.Nanoseconds))
		}
		dctx, cancel := context.WithCancel(ctx)
		s.maintenance.set(node, window{offerID: io.OfferID.Value, start: start, end: end, cancel: cancel})
		s.logger.Info("Agent scheduled for maintenance", "node", node, "start", start, "end", end, "drain", s.cfg.DrainOnMaintenance)
		if s.cfg.DrainOnMaintenance {
			go s.maintenance.drain(dctx, node, io.OfferID)
		} else {
			go func(id mesos.OfferID) { _ = s.call(ctx, calls.DeclineInverseOffers(id)) }(io.OfferID)
		}
	}
	return nil
}

func (m *maintenance) set(node string, w window) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.byNode[node]; ok && old.cancel != nil {
		old.cancel()
	}
	m.byNode[node] = w
	m.byID[w.offerID] = node
}

// rescind clears the maintenance an inverse offer announced.
func (m *maintenance) rescind(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	node, ok := m.byID[id]
	if !ok {
		return
	}
	delete(m.byID, id)
	if w, ok := m.byNode[node]; ok && w.offerID == id {
		if w.cancel != nil {
			w.cancel()
		}
		delete(m.byNode, node)
	}
	m.s.logger.Info("Maintenance cancelled", "node", node)
}

// offered notes an offer on the node: an offer without unavailability means
// the node is no longer scheduled for maintenance (the master attaches the
// window to every offer of an agent under maintenance), which also covers
// a cancellation after our inverse offer was already answered (nothing left
// for the master to rescind).
func (m *maintenance) offered(node string, unavailable bool) {
	if unavailable {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	w, ok := m.byNode[node]
	if !ok {
		return
	}
	if w.cancel != nil {
		w.cancel()
	}
	delete(m.byNode, node)
	delete(m.byID, w.offerID)
	m.s.logger.Info("Maintenance over: the agent's offers carry no unavailability", "node", node)
}

// drain evicts our pods from the node, retrying while PodDisruptionBudgets
// refuse, then accepts the inverse offer.
func (m *maintenance) drain(ctx context.Context, node string, id mesos.OfferID) {
	for ctx.Err() == nil {
		left := 0
		for _, p := range m.s.state.PodsOn(node) {
			if !p.Ours {
				continue
			}
			left++
			err := m.s.client.PolicyV1().Evictions(p.Namespace).Evict(ctx, &policyv1.Eviction{
				ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace},
			})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsTooManyRequests(err) {
				m.s.logger.Info("Evicting a pod for maintenance", "node", node, "pod", p.Namespace+"/"+p.Name, "err", err)
			}
		}
		if left == 0 {
			if err := m.s.call(ctx, calls.AcceptInverseOffers(id)); err != nil {
				m.s.logger.Info("ACCEPT_INVERSE_OFFERS failed", "node", node, "err", err)
				continue
			}
			m.s.logger.Info("Node drained for maintenance; inverse offer accepted", "node", node)
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(drainRetry):
		}
	}
}
