package offer

import (
	"fmt"
	"sort"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// Book holds the outstanding offers by role and node and the pods reserved
// on them. Reserve takes a pod's requests and ports from one offer; Unreserve
// gives them back exactly; Take removes an offer with its pods for an
// ACCEPT. All methods are safe for concurrent use and never call out while
// holding the lock.
type Book struct {
	mu     sync.RWMutex
	offers map[string]*held
	byRole map[string]map[string][]*held // role -> node -> offers
	resv   map[types.UID]*reservation
}

type held struct {
	Offer
	free  resources.Vector // resources minus reservations
	ports resources.Ranges // ports minus reserved ports
	pods  map[types.UID]*reservation
}

type reservation struct {
	launch  Launch
	offerID string
}

// NewBook returns an empty book.
func NewBook() *Book {
	return &Book{offers: map[string]*held{}, byRole: map[string]map[string][]*held{}, resv: map[types.UID]*reservation{}}
}

// Add puts offers in the book (an ID already there is ignored).
func (b *Book) Add(offers ...Offer) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, o := range offers {
		if _, ok := b.offers[o.ID]; ok {
			continue
		}
		h := &held{Offer: o, free: o.Resources.Clone(), ports: append(resources.Ranges(nil), o.Ports...), pods: map[types.UID]*reservation{}}
		b.offers[o.ID] = h
		if b.byRole[o.Role] == nil {
			b.byRole[o.Role] = map[string][]*held{}
		}
		b.byRole[o.Role][o.Node] = append(b.byRole[o.Role][o.Node], h)
	}
}

// Remove drops an offer (rescinded) and returns it with the pods that were
// reserved on it.
func (b *Book) Remove(id string) (Offer, []*v1.Pod, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	h, ok := b.offers[id]
	if !ok {
		return Offer{}, nil, false
	}
	return h.Offer, b.dropLocked(h), true
}

// RemoveNode drops every offer on a node (agent lost) made by source (""
// for every source) and returns them with the pods that were reserved on
// them, by offer ID.
func (b *Book) RemoveNode(node, source string) ([]Offer, map[string][]*v1.Pod) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var offers []Offer
	pods := map[string][]*v1.Pod{}
	for _, h := range b.offers {
		if h.Node == node && (source == "" || h.Source == source) {
			offers = append(offers, h.Offer)
			if reserved := b.dropLocked(h); len(reserved) > 0 {
				pods[h.ID] = reserved
			}
		}
	}
	return offers, pods
}

func (b *Book) dropLocked(h *held) []*v1.Pod {
	delete(b.offers, h.ID)
	list := b.byRole[h.Role][h.Node]
	for i, x := range list {
		if x == h {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(b.byRole[h.Role], h.Node)
		if len(b.byRole[h.Role]) == 0 {
			delete(b.byRole, h.Role)
		}
	} else {
		b.byRole[h.Role][h.Node] = list
	}
	var pods []*v1.Pod
	for uid, r := range h.pods {
		delete(b.resv, uid)
		pods = append(pods, r.launch.Pod)
	}
	return pods
}

// HasRole reports whether the role holds any offer.
func (b *Book) HasRole(role string) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.byRole[role]) > 0
}

// Nodes returns the nodes holding an offer to the role with room for the
// request and the host ports, sorted.
func (b *Book) Nodes(role string, req resources.Vector, ports []int32) []string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []string
	for node, list := range b.byRole[role] {
		for _, h := range list {
			if fits(h, req, ports) {
				out = append(out, node)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// Free returns what is left of an offer after the reservations on it, and
// its unreserved ports (false if the book does not hold it).
func (b *Book) Free(id string) (resources.Vector, resources.Ranges, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	h, ok := b.offers[id]
	if !ok {
		return nil, nil, false
	}
	return h.free.Clone(), h.ports, true
}

// Fits reports whether some offer to the role has room for the request and
// holds the ports (Nodes, stopping at the first). With no ports it is the
// fairness gate's "could run now" in offer mode.
func (b *Book) Fits(role string, req resources.Vector, ports []int32) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, list := range b.byRole[role] {
		for _, h := range list {
			if fits(h, req, ports) {
				return true
			}
		}
	}
	return false
}

// Choice is the offer a pod would use on a node.
type Choice struct {
	OfferID string
	Kind    Kind
	Expires time.Time
	// Batching: pods are already reserved on the offer, so it will be
	// accepted anyway; another pod there rides in the same ACCEPT.
	Batching bool
}

// Verdict says whether a pod fits the offers of its role on a node, or
// what is missing.
type Verdict int

const (
	// Fits: an offer has room for the requests and holds the ports.
	Fits Verdict = iota
	// NoOffer: the role holds no offer on the node.
	NoOffer
	// TooSmall: no offer has room for the requests.
	TooSmall
	// PortsMissing: offers with room lack some host port.
	PortsMissing
)

func (v Verdict) String() string {
	switch v {
	case Fits:
		return "fits"
	case NoOffer:
		return "no offer"
	case TooSmall:
		return "too small"
	case PortsMissing:
		return "ports missing"
	}
	return "unknown"
}

// Best returns the offer on the node that a pod of the role should use:
// one with room for the request and ports, reserved before unreserved
// before revocable, then one already holding reservations (its ACCEPT is
// coming: packing pods into it leaves the other offers whole), then the one
// closest to expiry. The verdict tells what is missing when nothing fits.
func (b *Book) Best(role, node string, req resources.Vector, ports []int32) (Choice, Verdict) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	list := b.byRole[role][node]
	if len(list) == 0 {
		return Choice{}, NoOffer
	}
	var best *held
	portsShort := false
	for _, h := range list {
		if !req.Fits(h.free) {
			continue
		}
		if _, ok := h.ports.ContainsAll(ports); !ok {
			portsShort = true
			continue
		}
		if best == nil || better(h, best) {
			best = h
		}
	}
	if best == nil {
		if portsShort {
			return Choice{}, PortsMissing
		}
		return Choice{}, TooSmall
	}
	return Choice{OfferID: best.ID, Kind: best.Kind, Expires: best.Expires, Batching: len(best.pods) > 0}, Fits
}

// better orders offers for consumption: kind first, then offers holding
// reservations, then expiry (an offer that never expires comes last), then ID.
func better(a, b *held) bool {
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	if ab, bb := len(a.pods) > 0, len(b.pods) > 0; ab != bb {
		return ab
	}
	switch {
	case a.Expires.IsZero() != b.Expires.IsZero():
		return !a.Expires.IsZero()
	case !a.Expires.Equal(b.Expires):
		return a.Expires.Before(b.Expires)
	}
	return a.ID < b.ID
}

func fits(h *held, req resources.Vector, ports []int32) bool {
	if !req.Fits(h.free) {
		return false
	}
	_, ok := h.ports.ContainsAll(ports)
	return ok
}

// Reserve takes a pod's requests and ports from the best offer of its role
// on the node and returns the offer's ID. Reserving a pod twice is an error.
func (b *Book) Reserve(pod *v1.Pod, role, node string, req resources.Vector, ports []int32) (string, error) {
	c, v := b.Best(role, node, req, ports)
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, dup := b.resv[pod.UID]; dup {
		return "", fmt.Errorf("pod %s/%s is already reserved on an offer", pod.Namespace, pod.Name)
	}
	if v != Fits {
		return "", fmt.Errorf("no offer to role %q on node %q fits the pod (%s)", role, node, v)
	}
	h, live := b.offers[c.OfferID]
	if !live || !fits(h, req, ports) {
		return "", fmt.Errorf("offer %s changed before the pod could be reserved on it", c.OfferID)
	}
	r := &reservation{launch: Launch{Pod: pod, Resources: req, Ports: ports}, offerID: h.ID}
	h.free.Sub(req)
	h.ports = h.ports.Without(ports)
	h.pods[pod.UID] = r
	b.resv[pod.UID] = r
	return h.ID, nil
}

// Unreserve gives back exactly what Reserve took, if the offer is still in
// the book. It returns the offer's ID.
func (b *Book) Unreserve(uid types.UID) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.resv[uid]
	if !ok {
		return "", false
	}
	delete(b.resv, uid)
	if h, live := b.offers[r.offerID]; live {
		delete(h.pods, uid)
		h.free.Add(r.launch.Resources)
		h.ports = h.ports.Union(resources.FromPorts(r.launch.Ports))
	}
	return r.offerID, true
}

// Reserved returns the offer a pod is reserved on.
func (b *Book) Reserved(uid types.UID) (string, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	r, ok := b.resv[uid]
	if !ok {
		return "", false
	}
	return r.offerID, true
}

// Full reports whether an offer has nothing left to place a pod in (its
// resources are all reserved; leftover ports do not count).
func (b *Book) Full(id string) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	h, ok := b.offers[id]
	return ok && h.free.IsZero()
}

// Take removes an offer for an ACCEPT and returns it with its launches.
func (b *Book) Take(id string) (Offer, []Launch, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	h, ok := b.offers[id]
	if !ok {
		return Offer{}, nil, false
	}
	launches := make([]Launch, 0, len(h.pods))
	for _, r := range h.pods {
		launches = append(launches, r.launch)
	}
	sort.Slice(launches, func(i, j int) bool { return launches[i].Pod.UID < launches[j].Pod.UID })
	b.dropLocked(h)
	return h.Offer, launches, true
}

// View is a read-only look at an outstanding offer.
type View struct {
	Offer
	Free     resources.Vector
	Ports    resources.Ranges
	Reserved int
}

// OnNode returns the outstanding offers on a node, sorted by ID.
func (b *Book) OnNode(node string) []View {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []View
	for _, nodes := range b.byRole {
		for _, h := range nodes[node] {
			out = append(out, View{Offer: h.Offer, Free: h.free.Clone(), Ports: append(resources.Ranges(nil), h.ports...), Reserved: len(h.pods)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// OfferedTo returns, for every node with an outstanding offer, the role it
// is offered to (of several, the first by name).
func (b *Book) OfferedTo() map[string]string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make(map[string]string, len(b.offers))
	for _, h := range b.offers {
		if r, ok := out[h.Node]; !ok || h.Role < r {
			out[h.Node] = h.Role
		}
	}
	return out
}

// Views returns every outstanding offer, sorted by ID.
func (b *Book) Views() []View {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]View, 0, len(b.offers))
	for _, h := range b.offers {
		out = append(out, View{Offer: h.Offer, Free: h.free.Clone(), Ports: append(resources.Ranges(nil), h.ports...), Reserved: len(h.pods)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Len returns the number of outstanding offers.
func (b *Book) Len() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.offers)
}
