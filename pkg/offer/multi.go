package offer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// Member is one source of a Multi.
type Member struct {
	// Name names the source in offer IDs, metrics, events and reasons.
	Name   string
	Source Source
	// Selector picks, by label, the nodes the member serves. nil on the
	// member that serves every node no other member picks (the embedded
	// allocator); at most one member has none.
	Selector labels.Selector
}

// Status is what a source says of its link to whoever makes its offers.
type Status struct {
	// Connected: subscribed to its master (always, for a local source).
	Connected bool
	// Leader is the master it is subscribed to ("" when none or local).
	Leader string
}

// Statuser is implemented by sources that can be disconnected (a Mesos
// master).
type Statuser interface {
	Status() Status
}

// Claims decides which source serves a node: the member whose selector
// matches the node's labels, else the member without a selector. The
// members' selectors are disjoint (validation refuses overlapping ones),
// so the first match is the only one. It is the one place that policy
// lives: the embedded allocator, each Mesos source and the offer routing
// all ask it.
type Claims struct {
	selectors []labels.Selector
	fallback  int // member without a selector, or -1
}

// NewClaims returns the claims of the members, in order.
func NewClaims(members []Member) Claims {
	c := Claims{selectors: make([]labels.Selector, len(members)), fallback: -1}
	for i, m := range members {
		c.selectors[i] = m.Selector
		if m.Selector == nil && c.fallback < 0 {
			c.fallback = i
		}
	}
	return c
}

// Owner returns the index of the member serving a node with these labels,
// or -1 when none does.
func (c Claims) Owner(nodeLabels map[string]string) int {
	if len(c.selectors) == 1 && c.selectors[0] == nil {
		return 0
	}
	set := labels.Set(nodeLabels)
	for i, s := range c.selectors {
		if s != nil && s.Matches(set) {
			return i
		}
	}
	return c.fallback
}

// Serves returns a predicate for the nodes member i serves.
func (c Claims) Serves(i int) func(*v1.Node) bool {
	return func(n *v1.Node) bool { return n != nil && c.Owner(n.Labels) == i }
}

// Multi is a Source made of several: Mesos masters, each serving the nodes
// its selector picks, and the embedded allocator serving the rest. Offers
// from all of them share one book; a call about an offer goes to the
// member that made it. With more than one member, offer IDs carry the
// member's name ("dc1/ID"), so two masters' IDs never collide and every
// ACCEPT and DECLINE finds its way back.
type Multi struct {
	members []Member
	claims  Claims
	// nodeLabels returns a node's labels (the node informer's lister).
	nodeLabels func(node string) (map[string]string, bool)
	// observe counts per member what happens to its offers (metrics).
	observe func(member, event string, n int)
}

const (
	// EventMade, EventAccepted, EventDeclined and EventRescinded are the
	// offer events Multi reports per member.
	EventMade      = "made"
	EventAccepted  = "accepted"
	EventDeclined  = "declined"
	EventRescinded = "rescinded"
)

// NewMulti returns a source over the members. nodeLabels gives a node's
// labels for calls about a node; observe (may be nil) counts offer events
// per member.
func NewMulti(members []Member, nodeLabels func(string) (map[string]string, bool), observe func(member, event string, n int)) *Multi {
	if observe == nil {
		observe = func(string, string, int) {}
	}
	return &Multi{members: members, claims: NewClaims(members), nodeLabels: nodeLabels, observe: observe}
}

var (
	_ Source      = &Multi{}
	_ Killer      = &Multi{}
	_ Maintenance = &Multi{}
	_ Explainer   = &Multi{}
	_ Capacity    = &Multi{}
)

// Names returns the members' names, in order.
func (m *Multi) Names() []string {
	out := make([]string, len(m.members))
	for i, mb := range m.members {
		out[i] = mb.Name
	}
	return out
}

// Members returns the members, in order.
func (m *Multi) Members() []Member { return m.members }

// Claims returns the node claims of the members.
func (m *Multi) Claims() Claims { return m.claims }

// OfferID is the ID the book knows a member's offer by.
func (m *Multi) OfferID(member int, id string) string {
	if len(m.members) == 1 {
		return id
	}
	return m.members[member].Name + "/" + id
}

// split returns the member and its own ID of a book's offer ID.
func (m *Multi) split(id string) (int, string, bool) {
	if len(m.members) == 1 {
		return 0, id, true
	}
	name, raw, ok := strings.Cut(id, "/")
	if !ok {
		return -1, "", false
	}
	for i, mb := range m.members {
		if mb.Name == name {
			return i, raw, true
		}
	}
	return -1, "", false
}

// LocalOffer says whether the member that made an offer is local
// (Local): its ACCEPT is bookkeeping, and the offer's pods bind at once.
func (m *Multi) LocalOffer(offerID string) bool {
	i, _, ok := m.split(offerID)
	if !ok {
		return false
	}
	_, local := m.members[i].Source.(Local)
	return local
}

// AllLocal says whether every member is local.
func (m *Multi) AllLocal() bool {
	for _, mb := range m.members {
		if _, local := mb.Source.(Local); !local {
			return false
		}
	}
	return true
}

// Owner returns the member serving a node, or -1 (unknown node, or no
// member serves it).
func (m *Multi) Owner(node string) int {
	if len(m.members) == 1 {
		return 0
	}
	l, ok := m.nodeLabels(node)
	if !ok {
		return -1
	}
	return m.claims.Owner(l)
}

// LocalNode says whether a node is served by a local member.
func (m *Multi) LocalNode(node string) bool {
	i := m.Owner(node)
	if i < 0 {
		return false
	}
	_, local := m.members[i].Source.(Local)
	return local
}

// Run runs every member until ctx is done; each hands its offers to h
// through a handler that names them for the book.
func (m *Multi) Run(ctx context.Context, h Handler) error {
	if len(m.members) == 1 {
		return m.members[0].Source.Run(ctx, &memberHandler{m: m, i: 0, h: h})
	}
	var wg sync.WaitGroup
	errs := make([]error, len(m.members))
	for i := range m.members {
		wg.Add(1)
		go func() { // ends with ctx, as each member's Run does
			defer wg.Done()
			if err := m.members[i].Source.Run(ctx, &memberHandler{m: m, i: i, h: h}); err != nil {
				klog.FromContext(ctx).Error(err, "Offer source stopped", "source", m.members[i].Name)
				errs[i] = fmt.Errorf("source %s: %w", m.members[i].Name, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// memberHandler names a member's offers for the book.
type memberHandler struct {
	m *Multi
	i int
	h Handler
}

func (mh *memberHandler) Offers(offers []Offer) {
	name := mh.m.members[mh.i].Name
	named := make([]Offer, len(offers)) // the member may keep its slice
	for j, o := range offers {
		o.ID = mh.m.OfferID(mh.i, o.ID)
		o.Source = name
		named[j] = o
	}
	mh.m.observe(name, EventMade, len(named))
	mh.h.Offers(named)
}

func (mh *memberHandler) Rescind(offerID string) {
	mh.m.observe(mh.m.members[mh.i].Name, EventRescinded, 1)
	mh.h.Rescind(mh.m.OfferID(mh.i, offerID))
}

func (mh *memberHandler) AgentLost(node string) {
	if sh, ok := mh.h.(SourcedHandler); ok && len(mh.m.members) > 1 {
		sh.AgentLostFrom(node, mh.m.members[mh.i].Name)
		return
	}
	mh.h.AgentLost(node)
}

// Accept goes to the member that made the offer.
func (m *Multi) Accept(ctx context.Context, offerID string, launches []Launch) (map[types.UID]error, error) {
	i, raw, ok := m.split(offerID)
	if !ok {
		return nil, fmt.Errorf("offer %s: made by no configured source", offerID)
	}
	failed, err := m.members[i].Source.Accept(ctx, raw, launches)
	if err == nil {
		m.observe(m.members[i].Name, EventAccepted, 1)
	}
	return failed, err
}

// Decline sends each member the declines of its offers.
func (m *Multi) Decline(ctx context.Context, offerIDs []string, refuse time.Duration) error {
	byMember := map[int][]string{}
	for _, id := range offerIDs {
		if i, raw, ok := m.split(id); ok {
			byMember[i] = append(byMember[i], raw)
		}
	}
	var errs []error
	for i, ids := range byMember {
		if err := m.members[i].Source.Decline(ctx, ids, refuse); err != nil {
			errs = append(errs, fmt.Errorf("source %s: %w", m.members[i].Name, err))
			continue
		}
		m.observe(m.members[i].Name, EventDeclined, len(ids))
	}
	return errors.Join(errs...)
}

// Suppress and Revive go to every member: a role's pods may use any
// member's offers.
func (m *Multi) Suppress(ctx context.Context, roles ...string) error {
	return m.each(func(s Source) error { return s.Suppress(ctx, roles...) })
}

// Revive asks every member for offers for the roles.
func (m *Multi) Revive(ctx context.Context, roles ...string) error {
	return m.each(func(s Source) error { return s.Revive(ctx, roles...) })
}

// each calls every member, all of them even when some fail (a master
// that is down must not keep the others from hearing the call).
func (m *Multi) each(call func(Source) error) error {
	var errs []error
	for _, mb := range m.members {
		if err := call(mb.Source); err != nil {
			if len(m.members) == 1 {
				return err
			}
			errs = append(errs, fmt.Errorf("source %s: %w", mb.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Kill goes to every member that runs tasks: each stops only a task it
// runs for the pod.
func (m *Multi) Kill(ctx context.Context, pod *v1.Pod) error {
	var errs []error
	for _, mb := range m.members {
		if k, ok := mb.Source.(Killer); ok {
			if err := k.Kill(ctx, pod); err != nil {
				errs = append(errs, fmt.Errorf("source %s: %w", mb.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Unavailable asks the member serving the node.
func (m *Multi) Unavailable(node string) (Window, bool) {
	if i := m.Owner(node); i >= 0 {
		if mt, ok := m.members[i].Source.(Maintenance); ok {
			return mt.Unavailable(node)
		}
	}
	return Window{}, false
}

// HeldElsewhere asks the member serving the node.
func (m *Multi) HeldElsewhere(node string) resources.Vector {
	if i := m.Owner(node); i >= 0 {
		if c, ok := m.members[i].Source.(Capacity); ok {
			return c.HeldElsewhere(node)
		}
	}
	return nil
}

// HeldElsewhereByNode merges the members' figures; each member reports
// only the nodes it serves.
func (m *Multi) HeldElsewhereByNode() map[string]resources.Vector {
	var out map[string]resources.Vector
	for _, mb := range m.members {
		c, ok := mb.Source.(Capacity)
		if !ok {
			continue
		}
		byNode := c.HeldElsewhereByNode()
		if out == nil {
			out = byNode
			continue
		}
		for n, v := range byNode {
			out[n] = v
		}
	}
	if out == nil {
		out = map[string]resources.Vector{}
	}
	return out
}

// Why gathers the members' reasons for giving a pod no offer, each named
// by its source when there are several; noRoom when some member found no
// room (preemption may help there).
func (m *Multi) Why(uid types.UID) (string, bool) {
	var parts []string
	noRoom := false
	for _, mb := range m.members {
		ex, ok := mb.Source.(Explainer)
		if !ok {
			continue
		}
		why, nr := ex.Why(uid)
		noRoom = noRoom || nr
		if why == "" {
			continue
		}
		if len(m.members) > 1 {
			why = "source " + mb.Name + ": " + why
		}
		parts = append(parts, why)
	}
	return strings.Join(parts, "; "), noRoom
}

// Statuses returns each member's status, by name.
func (m *Multi) Statuses() map[string]Status {
	out := make(map[string]Status, len(m.members))
	for _, mb := range m.members {
		st := Status{Connected: true}
		if s, ok := mb.Source.(Statuser); ok {
			st = s.Status()
		}
		out[mb.Name] = st
	}
	return out
}
