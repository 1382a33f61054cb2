// Package offer defines two-level offer negotiation as the scheduler sees it:
// the Offer, the Source that makes offers (the embedded allocator or a Mesos
// master) and the Book that holds the outstanding offers and the pods
// reserved on them during scheduling.
//
// The life of an offer:
//
//	Source --Offers--> Book --Filter/Reserve--> pods reserved on the offer
//	  ^                 |                           |
//	  |                 +--unused: Decline(refuse)--+--Permit window: Accept(pods)
//	  +--Rescind (timeout, agent lost)                  (the unused part returns to the pool)
//
// An offer ID is used once: accepted, declined or rescinded, it is gone.
package offer

import (
	"context"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// Kind tells how an offer's resources are held, in the order they should be
// consumed: reserved for the role first, unreserved next, revocable last.
type Kind int

const (
	// Reserved resources belong to the role (a Mesos reservation).
	Reserved Kind = iota
	// Unreserved resources are shared by all roles (Mesos role "*").
	Unreserved
	// Revocable resources may be taken back at any time (oversubscription).
	Revocable
)

func (k Kind) String() string {
	switch k {
	case Reserved:
		return "reserved"
	case Unreserved:
		return "unreserved"
	case Revocable:
		return "revocable"
	}
	return "unknown"
}

// Window is a maintenance window announced for an agent.
type Window struct {
	Start    time.Time
	Duration time.Duration
}

// Offer is resources of one agent offered to one role.
type Offer struct {
	ID      string
	AgentID string
	// Node is the Kubernetes node the agent runs on.
	Node string
	Role string
	// Source names the source that made the offer (Multi's member).
	Source string
	Kind   Kind
	// Resources and Ports are never modified in place: offers may share
	// them (the offer book copies what it changes).
	Resources resources.Vector
	Ports     resources.Ranges
	// Attributes of the agent (Mesos agent attributes, or node labels).
	Attributes map[string]string
	// Unavailability is set when the agent is scheduled for maintenance.
	Unavailability *Window
	Received       time.Time
	// Expires is when the source rescinds the offer (zero: never).
	Expires time.Time
}

// Launch is a pod placed on an offer: what an ACCEPT launches.
type Launch struct {
	Pod       *v1.Pod
	Resources resources.Vector
	Ports     []int32
}

// Handler receives what a Source says.
type Handler interface {
	// Offers delivers new offers.
	Offers(offers []Offer)
	// Rescind withdraws an offer.
	Rescind(offerID string)
	// AgentLost says an agent (and every offer on it) is gone.
	AgentLost(node string)
}

// SourcedHandler is a Handler that can drop the offers one source (of a
// Multi) made on a node, leaving other sources' offers there: a node that
// moves from one source to another is lost to the first only.
type SourcedHandler interface {
	Handler
	AgentLostFrom(node, source string)
}

// Source makes offers: the embedded allocator or a Mesos master.
type Source interface {
	// Run delivers offers to the handler until ctx is done.
	Run(ctx context.Context, h Handler) error
	// Accept launches pods on an offer; the unused part returns to the pool.
	// err fails them all; failed holds pods that did not start (by UID).
	Accept(ctx context.Context, offerID string, launches []Launch) (failed map[types.UID]error, err error)
	// Decline returns offers, filtering their (agent, role) for refuse.
	Decline(ctx context.Context, offerIDs []string, refuse time.Duration) error
	// Suppress stops offers to roles until Revive.
	Suppress(ctx context.Context, roles ...string) error
	// Revive asks for offers for roles now, clearing their decline filters.
	Revive(ctx context.Context, roles ...string) error
}

// Explainer is implemented by sources that can say why a pod got no offer.
type Explainer interface {
	// Why returns the reason, or "" when there is none to give; noRoom
	// says the source found no room for the pod, so that preemption may
	// help (as opposed to, say, a source cut off from its master).
	Why(uid types.UID) (reason string, noRoom bool)
}

// Local is implemented by sources whose offers are the cluster's own nodes
// (the embedded allocator): an ACCEPT is bookkeeping in the same process,
// and a pod's requests already count on its node from Reserve on, so the
// pod may bind without waiting for it. Pods on an offer are still accepted
// together, behind the binding. (A Mesos master's ACCEPT can fail; there
// the pods wait in Permit for it.)
type Local interface {
	// LocalAccept marks the source; it is never called.
	LocalAccept()
}

// Killer is implemented by sources that run something for a launched pod
// (a Mesos task): Kill stops it when the pod will not run after all (its
// binding failed after the ACCEPT).
type Killer interface {
	Kill(ctx context.Context, pod *v1.Pod) error
}

// Maintenance is implemented by sources that know of agent maintenance
// (Mesos inverse offers): Unavailable says whether a node is scheduled to go
// down, and the window.
type Maintenance interface {
	Unavailable(node string) (Window, bool)
}

// Capacity is implemented by sources whose agents hold resources outside
// Kubernetes (a Mesos master: other frameworks' tasks and offers), which no
// pod of this scheduler can have. Fair targets and preemption dry runs
// leave them out.
type Capacity interface {
	// HeldElsewhere returns what is held outside Kubernetes on a node.
	HeldElsewhere(node string) resources.Vector
	// HeldElsewhereByNode returns HeldElsewhere of every node that holds
	// something, as a map the caller owns.
	HeldElsewhereByNode() map[string]resources.Vector
}
