package mesosemulator

import (
	"fmt"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// maintenanceWindow is a scheduled unavailability of one agent.
type maintenanceWindow struct {
	start    time.Time
	duration time.Duration
	notified map[string]bool // frameworks that got an inverse offer
}

// inverseOffer is an outstanding inverse offer.
type inverseOffer struct {
	id    string
	fw    *framework
	agent *agent
}

// InverseOfferResponse records a scheduler's answer to an inverse offer.
type InverseOfferResponse struct {
	InverseOfferID string
	FrameworkID    string
	AgentID        string
	Hostname       string
	// Accepted is true for ACCEPT_INVERSE_OFFERS, false for DECLINE_INVERSE_OFFERS.
	Accepted bool
	Time     time.Time
}

// ScheduleMaintenance schedules an unavailability window for an agent. Every
// framework holding tasks or offers on it gets an INVERSE_OFFERS event, and
// the agent's offers carry the unavailability until the window ends or is
// cancelled.
func (m *Master) ScheduleMaintenance(hostname string, start time.Time, duration time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.agentByHost(hostname)
	if a == nil {
		return fmt.Errorf("no agent %q", hostname)
	}
	m.rescindInverseOffersOn(a)
	m.maintenance[a.id] = &maintenanceWindow{start: start, duration: duration, notified: map[string]bool{}}
	m.offerMaintenance()
	return nil
}

// CancelMaintenance cancels an agent's maintenance: outstanding inverse
// offers are rescinded with RESCIND_INVERSE_OFFER.
func (m *Master) CancelMaintenance(hostname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.agentByHost(hostname)
	if a == nil || m.maintenance[a.id] == nil {
		return fmt.Errorf("no maintenance scheduled for %q", hostname)
	}
	delete(m.maintenance, a.id)
	m.rescindInverseOffersOn(a)
	return nil
}

// InverseOfferResponses returns the recorded answers to inverse offers.
func (m *Master) InverseOfferResponses() []InverseOfferResponse {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]InverseOfferResponse(nil), m.ioResponses...)
}

// unavailability returns the agent's maintenance window for offers.
func (m *Master) unavailability(a *agent) *mesos.Unavailability {
	w := m.maintenance[a.id]
	if w == nil {
		return nil
	}
	return &mesos.Unavailability{
		Start:    mesos.TimeInfo{Nanoseconds: w.start.UnixNano()},
		Duration: &mesos.DurationInfo{Nanoseconds: int64(w.duration)},
	}
}

// offerMaintenance ends expired windows and sends inverse offers to active
// frameworks with tasks or offers on agents under maintenance.
func (m *Master) offerMaintenance() {
	now := time.Now()
	batches := map[*framework][]mesos.InverseOffer{}
	for _, a := range m.agents {
		w := m.maintenance[a.id]
		if w == nil {
			continue
		}
		if w.duration > 0 && now.After(w.start.Add(w.duration)) {
			delete(m.maintenance, a.id)
			m.rescindInverseOffersOn(a)
			continue
		}
		for _, fw := range m.sortedFrameworks() {
			if !fw.active || w.notified[fw.id] || !m.usesAgent(fw, a) {
				continue
			}
			w.notified[fw.id] = true
			io := &inverseOffer{id: m.newOfferID(), fw: fw, agent: a}
			m.inverseOffers[io.id] = io
			batches[fw] = append(batches[fw], mesos.InverseOffer{
				OfferID:        mesos.OfferID{Value: io.id},
				URL:            a.offerURL(),
				FrameworkID:    mesos.FrameworkID{Value: fw.id},
				AgentID:        &mesos.AgentID{Value: a.id},
				Unavailability: *m.unavailability(a),
			})
		}
	}
	for _, fw := range m.sortedFrameworks() {
		if ios := batches[fw]; len(ios) > 0 {
			m.send(fw, &scheduler.Event{
				Type:          scheduler.Event_INVERSE_OFFERS,
				InverseOffers: &scheduler.Event_InverseOffers{InverseOffers: ios},
			})
		}
	}
}

// usesAgent reports whether fw has non-terminal tasks or offers on a.
func (m *Master) usesAgent(fw *framework, a *agent) bool {
	for _, t := range fw.tasks {
		if t.agent == a && !isTerminal(t.state) {
			return true
		}
	}
	for _, o := range m.offers {
		if o.fw == fw && o.agent == a {
			return true
		}
	}
	return false
}

// answerInverseOffers records ACCEPT_INVERSE_OFFERS / DECLINE_INVERSE_OFFERS.
func (m *Master) answerInverseOffers(fw *framework, ids []mesos.OfferID, accepted bool) {
	for _, id := range ids {
		io := m.inverseOffers[id.Value]
		if io == nil || io.fw != fw {
			continue
		}
		delete(m.inverseOffers, id.Value)
		m.ioResponses = append(m.ioResponses, InverseOfferResponse{
			InverseOfferID: io.id, FrameworkID: fw.id, AgentID: io.agent.id,
			Hostname: io.agent.info.Hostname, Accepted: accepted, Time: time.Now(),
		})
	}
}

// rescindInverseOffersOn rescinds the outstanding inverse offers for agent a.
func (m *Master) rescindInverseOffersOn(a *agent) {
	for _, io := range m.sortedInverseOffers() {
		if io.agent == a {
			m.rescindInverseOffer(io, true)
		}
	}
}

// rescindInverseOffersOf removes (send=true: rescinds) fw's inverse offers.
func (m *Master) rescindInverseOffersOf(fw *framework, send bool) {
	for _, io := range m.sortedInverseOffers() {
		if io.fw == fw {
			m.rescindInverseOffer(io, send)
			if w := m.maintenance[io.agent.id]; w != nil {
				delete(w.notified, fw.id) // offer it again on reconnection
			}
		}
	}
}

// rescindInverseOffer removes an inverse offer, sending RESCIND_INVERSE_OFFER.
func (m *Master) rescindInverseOffer(io *inverseOffer, send bool) {
	delete(m.inverseOffers, io.id)
	if send {
		m.send(io.fw, &scheduler.Event{
			Type:                scheduler.Event_RESCIND_INVERSE_OFFER,
			RescindInverseOffer: &scheduler.Event_RescindInverseOffer{InverseOfferID: mesos.OfferID{Value: io.id}},
		})
	}
}

// sortedInverseOffers returns the outstanding inverse offers in id order.
func (m *Master) sortedInverseOffers() []*inverseOffer {
	var out []*inverseOffer
	for _, io := range m.inverseOffers {
		out = append(out, io)
	}
	sortByOfferSeq(out, func(io *inverseOffer) string { return io.id })
	return out
}
