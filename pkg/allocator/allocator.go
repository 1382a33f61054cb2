// Package allocator is the embedded Mesos-style allocator: the default offer
// source, which offers the cluster's own nodes to roles with Mesos'
// hierarchical allocator semantics, so that the scheduler gets two-level
// offer negotiation with no Mesos master.
//
// Mesos concept -> here:
//
//	agent               a schedulable node
//	agent resources     allocatable minus the requests of every pod on the node
//	                    (other schedulers, DaemonSets, our own bound or assumed pods)
//	static reservation  node label kube-mesos.io/reserved-role: the node's
//	                    resources are offered only to that role, as reserved
//	active role         a role with pods waiting for this scheduler, not suppressed
//	allocation cycle    every Interval, and at once when a role revives or
//	                    capacity is freed
//	DRF sorter          roles.Sorter over the shares of bound, assumed and offered resources
//	decline filter      (node, role) skipped for the refuse duration
//	offer timeout       unused offers are rescinded after OfferTimeout
package allocator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/cluster"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/fair"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/metrics"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/offer"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/roles"
)

const (
	// LabelReservedRole on a node reserves its resources for a role ("."
	// separates levels, as in the namespace label).
	LabelReservedRole = "kube-mesos.io/reserved-role"
	// AnnotationPorts on a node lists the host ports it offers.
	AnnotationPorts = "kube-mesos.io/ports"
	// reviveDelay gathers revives that arrive together into one cycle.
	reviveDelay = 5 * time.Millisecond
)

// Config tunes the allocator.
type Config struct {
	// Interval between allocation cycles (Mesos --allocation_interval).
	Interval time.Duration
	// OfferTimeout rescinds unused offers (0: never; Mesos --offer_timeout).
	OfferTimeout time.Duration
	// DefaultPorts are offered by nodes without a kube-mesos.io/ports annotation.
	DefaultPorts resources.Ranges
	// Now is the clock (tests replace it).
	Now func() time.Time
	// Remaining returns what is left of an outstanding offer after the
	// pods reserved on it while they wait for the ACCEPT (the MesosOffers
	// plugin's offer book); nil: offers count whole. Pending pods the
	// remainders cover need no new offer; a whole offer would seem to
	// cover pods its reservations have already used up.
	Remaining func(offerID string) (resources.Vector, resources.Ranges, bool)
	// Serves, when set, picks the nodes the allocator offers: with Mesos
	// masters serving some nodes (offer.Multi), the nodes no master
	// serves. Placed pods count on every node all the same: roles' shares
	// are over the whole cluster. It is asked once per node object.
	Serves func(*v1.Node) bool
}

// Allocator is the embedded offer source. Create it with New; it implements
// offer.Source.
type Allocator struct {
	cfg   Config
	state *cluster.State
	id    string

	mu          sync.Mutex
	seq         uint64
	outstanding map[string]*offer.Offer
	filters     map[filterKey]time.Time
	suppressed  map[string]bool
	wake        chan struct{}
	cycles      uint64
	why         map[types.UID]string // last cycle: pods it could not place, why

	// hw caches the hardware judgement of pending pods between cycles
	// (by UID, valid for one resourceVersion); only cycles touch it.
	hwMu sync.Mutex
	hw   *fair.HWCache
	// pendBuf is demandOf's snapshot of a role's pending pods, reused
	// (guarded by hwMu).
	pendBuf []cluster.Pod

	// nodeBuf is agents' snapshot of the nodes, reused across cycles;
	// facts are what the last cycle derived from each node's object, by
	// position in nodeBuf (factsNext is the buffer the next list is built
	// in).
	nodeMu           sync.Mutex
	nodeBuf          []cluster.Node
	facts, factsNext []nodeFacts

	lastAgents int // agents in the last cycle: the next one's capacity
}

type filterKey struct{ node, role string }

// nodeFacts is what a cycle derives from a node's object: hard taints, the
// ports it offers, the role it is reserved for. They are kept from one
// cycle to the next while the object is the same (the state replaces a
// node's object when the node changes, never modifies it): at 5,000 nodes,
// reading every node's taints, labels and annotations in every cycle cost
// more than the rest of building the agents.
type nodeFacts struct {
	obj         *v1.Node
	tainted     bool
	ports       resources.Ranges
	reservedFor string
	// foreign: another source serves the node (Config.Serves).
	foreign bool
}

func (a *Allocator) factsOf(node *v1.Node) nodeFacts {
	f := nodeFacts{obj: node, tainted: fair.HardTaints(node), ports: nodePorts(node, a.cfg.DefaultPorts),
		foreign: a.cfg.Serves != nil && !a.cfg.Serves(node)}
	if r, ok := node.Labels[LabelReservedRole]; ok {
		f.reservedFor = roles.FromLabel(r)
	}
	return f
}

var (
	_ offer.Source    = &Allocator{}
	_ offer.Explainer = &Allocator{}
	_ offer.Local     = &Allocator{}
)

// LocalAccept marks the allocator as a local source (offer.Local): its
// ACCEPT is bookkeeping, so pods bind without waiting for it.
func (a *Allocator) LocalAccept() {}

// New returns an allocator over the cluster state.
func New(state *cluster.State, cfg Config) *Allocator {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return &Allocator{
		cfg: cfg, state: state, id: hex.EncodeToString(b),
		outstanding: map[string]*offer.Offer{}, filters: map[filterKey]time.Time{},
		suppressed: map[string]bool{}, wake: make(chan struct{}, 1),
	}
}

// Run offers resources to the handler every interval and on revive, once
// the cluster state has synced, until ctx is done.
func (a *Allocator) Run(ctx context.Context, h offer.Handler) error {
	logger := klog.FromContext(ctx).WithName("allocator")
	if err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(context.Context) (bool, error) {
		return a.state.HasSynced(), nil
	}); err != nil {
		return nil
	}
	logger.V(2).Info("Embedded allocator running", "interval", a.cfg.Interval, "offerTimeout", a.cfg.OfferTimeout)
	ticker := time.NewTicker(a.cfg.Interval)
	defer ticker.Stop()
	changed := a.state.Subscribe()
	for {
		a.Cycle(ctx, h)
		freed := a.state.FreedVersion()
		for waiting := true; waiting; {
			select {
			case <-ctx.Done():
				return nil
			case <-ticker.C:
				waiting = false
			case <-a.wake:
				waiting = false
			case <-changed:
				// Capacity freed (a pod gone, a node added): offer it now,
				// not at the next interval, so a preemptor whose victims
				// left binds at once.
				waiting = a.state.FreedVersion() == freed
			}
		}
		select { // let changes that arrive together share one cycle
		case <-ctx.Done():
			return nil
		case <-time.After(reviveDelay):
		}
	}
}

// Cycle runs one allocation cycle: rescind expired offers and offers on
// nodes that are gone, then offer what the roles can use.
func (a *Allocator) Cycle(ctx context.Context, h offer.Handler) {
	start := time.Now()
	now := a.cfg.Now()
	agents := a.agents()
	lost, expired := a.sweep(now, agents)
	for _, node := range lost {
		h.AgentLost(node)
	}
	for _, id := range expired {
		h.Rescind(id)
	}
	in := a.input(now, agents)
	out := fair.Fill(in)
	offers := a.offers(now, in, out.Grants)
	why := a.keptWhy(out.Why)
	a.mu.Lock()
	a.cycles++
	a.why = why
	a.mu.Unlock()
	metrics.AllocationCycleDuration.Observe(time.Since(start).Seconds())
	if len(offers) > 0 {
		klog.FromContext(ctx).V(4).Info("Allocation cycle", "offers", len(offers), "duration", time.Since(start))
		h.Offers(offers)
	} else if logger := klog.FromContext(ctx).V(5); logger.Enabled() {
		demand := 0
		for _, r := range in.Roles {
			demand += len(r.Demand)
		}
		logger.Info("Allocation cycle offered nothing", "uncoveredPods", demand, "unplaced", len(out.Why), "outstanding", a.Outstanding(), "duration", time.Since(start))
	}
}

// keptWhy is the cycle's reasons, except for a pod still blocked (it
// failed on every node: cluster.State's MarkBlocked), which keeps the
// reason it had when it was last considered unblocked until capacity is
// freed. Blocked, it leaves its role's demand and so the fair target: the
// cycle would then say only that its role is at its fair share, hiding
// the node selector or taint that keeps it out.
func (a *Allocator) keptWhy(why map[types.UID]string) map[types.UID]string {
	a.mu.Lock()
	last := a.why
	a.mu.Unlock()
	freed := a.state.FreedVersion()
	for uid, w := range last {
		if p, ok := a.state.Pod(uid); ok && p.NodeName == "" && p.BlockedAt > freed {
			if why == nil {
				why = map[types.UID]string{}
			}
			why[uid] = w
		}
	}
	return why
}

// Why says why the last cycle offered nothing for a pod ("" if it did, or
// never saw it): always a lack of room for it. It implements
// offer.Explainer.
func (a *Allocator) Why(uid types.UID) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	why := a.why[uid]
	return why, why != ""
}

// Cycles returns how many allocation cycles ran.
func (a *Allocator) Cycles() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cycles
}

// sweep drops outstanding offers on nodes that are gone or unschedulable,
// and offers past their timeout, and expired filters.
func (a *Allocator) sweep(now time.Time, agents []*fair.Agent) (lost []string, expired []string) {
	live := make(map[string]bool, len(agents))
	for _, ag := range agents {
		live[ag.Name] = true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	lostSet := map[string]bool{}
	for id, o := range a.outstanding {
		switch {
		case !live[o.Node]:
			lostSet[o.Node] = true
			delete(a.outstanding, id)
		case !o.Expires.IsZero() && !now.Before(o.Expires):
			expired = append(expired, id)
			delete(a.outstanding, id)
		}
	}
	for k, until := range a.filters {
		if !now.Before(until) {
			delete(a.filters, k)
		}
	}
	for n := range lostSet {
		lost = append(lost, n)
	}
	sort.Strings(lost)
	sort.Strings(expired)
	return lost, expired
}

// agents returns the schedulable nodes as agents: free resources and ports
// after the pods on them, sorted by name so cycles are deterministic.
func (a *Allocator) agents() []*fair.Agent {
	a.nodeMu.Lock()
	defer a.nodeMu.Unlock()
	a.nodeBuf = a.state.AppendNodes(a.nodeBuf[:0]) // in name order
	defer clear(a.nodeBuf)                         // keep no node object beyond the cycle
	slab := make([]fair.Agent, 0, a.lastAgents)    // one allocation for all agents
	next := a.factsNext[:0]
	for i := range a.nodeBuf {
		n := &a.nodeBuf[i]
		f := nodeFacts{}
		if i < len(a.facts) && a.facts[i].obj == n.Object {
			f = a.facts[i]
		} else {
			f = a.factsOf(n.Object)
		}
		next = append(next, f)
		if !n.Schedulable || f.foreign {
			continue
		}
		slab = append(slab, fair.Agent{Name: n.Name, Node: n.Object, Tainted: f.tainted, Alloc: n.Allocatable, Used: n.Used,
			Ports: f.ports, ReservedFor: f.reservedFor})
		if len(n.Ports) > 0 {
			ag := &slab[len(slab)-1]
			used := make([]int32, 0, len(n.Ports))
			for p := range n.Ports {
				used = append(used, p)
			}
			ag.Ports = ag.Ports.Without(used)
		}
	}
	clear(a.facts) // the facts of nodes gone or changed are not kept
	a.facts, a.factsNext = next, a.facts[:0]
	a.lastAgents = len(slab)
	out := make([]*fair.Agent, len(slab))
	for i := range slab {
		out[i] = &slab[i]
	}
	return out
}

// input builds the cycle's view: agents minus the outstanding offers, roles
// with their shares (counting what is offered to them) capped at their fair
// targets, quotas and uncovered pending pods.
func (a *Allocator) input(now time.Time, agents []*fair.Agent) *fair.Input {
	a.mu.Lock()
	outstanding := make([]offer.Offer, 0, len(a.outstanding))
	for _, o := range a.outstanding {
		outstanding = append(outstanding, *o)
	}
	suppressed := make(map[string]bool, len(a.suppressed))
	for r := range a.suppressed {
		suppressed[r] = true
	}
	filters := make(map[filterKey]time.Time, len(a.filters))
	for k, v := range a.filters {
		filters[k] = v
	}
	a.mu.Unlock()
	return a.build(now, agents, outstanding, suppressed, filters, nil)
}

// Plan shares the nodes out from scratch, offering nothing: weighted DRF
// progressive filling of every role's pods, placed and pending alike, over
// the nodes as if they were empty — the packing the roles' fair shares make
// when every agent is filled in DRF order. Each node's capacity is its
// allocatable resources less what pods of no role hold and what held
// returns for it (not nil: other Mesos frameworks). The grants say how much
// of each node each role's pods would hold. With a Mesos master, which
// offers a whole agent to one role, the MesosOffers plugin keeps what other
// roles have yet to take of their part of an agent out of the role's reach,
// so every agent ends up shared in the fair mix instead of stranding
// resources that fit nobody.
//
// offered (node -> role, may be nil) names the role each agent is offered
// to now. The plan then places each role's part on the agents offered to it
// first (fair.Input.OfferedTo) — unless that packing gives some role less
// than the fair mix does (when resources run short, only the mix fits every
// role's share: TestMesosFairWholeAgentOffers), in which case the mix is
// the plan.
func (a *Allocator) Plan(held func(node string) resources.Vector, offered map[string]string) *fair.Output {
	mix := a.plan(held, nil)
	if len(offered) == 0 {
		return mix
	}
	pref := a.plan(held, offered)
	if len(pref.Alloc) != len(mix.Alloc) {
		return mix
	}
	for r, v := range mix.Alloc {
		if !v.Equal(pref.Alloc[r]) {
			return mix
		}
	}
	return pref
}

// plan is one fill of Plan, with agents offered to roles or not.
func (a *Allocator) plan(held func(node string) resources.Vector, offered map[string]string) *fair.Output {
	agents := a.agents()
	noRole := map[string]resources.Vector{}
	for _, n := range a.state.AppendNodes(nil) {
		noRole[n.Name] = n.UsedNoRole
	}
	in := &fair.Input{Agents: agents, Roles: map[string]*fair.Role{}, Total: a.state.Total(), Counted: a.state.Counted(), Counts: a.state.Counts,
		OfferedTo: offered}
	type groupKey struct {
		role, shape string
		prio        int32
	}
	placed := map[groupKey]*fair.Demand{}
	for _, p := range a.state.AppendPlaced(nil) {
		if p.Role == "" || p.Evicting {
			continue
		}
		k := groupKey{p.Role, p.Shape, p.Priority}
		if d := placed[k]; d != nil {
			d.Count++
			continue
		}
		placed[k] = &fair.Demand{Req: p.Request, Counted: p.Request.Only(in.Counted), Shape: p.Shape, Prio: p.Priority, Bound: true, Count: 1}
	}
	fits := map[string]*fair.PodFit{}
	a.hwMu.Lock()
	a.hw = fair.NewHWCache(a.state.Placement(), a.hw)
	for _, r := range a.state.Roles() {
		in.Roles[r.Name] = &fair.Role{Weight: r.Weight, Alloc: resources.Vector{}, Guarantee: r.Guarantee, Limit: r.Limit, Cap: -1}
		if r.Pending > 0 {
			in.Roles[r.Name].Demand = a.demandOf(r.Name, r.Pending, fits, in.Counted)
		}
	}
	a.hwMu.Unlock()
	for k, d := range placed {
		if r := in.Roles[k.role]; r != nil {
			r.Demand = append(r.Demand, *d)
		}
	}
	for _, r := range in.Roles {
		sort.SliceStable(r.Demand, func(i, j int) bool {
			x, y := &r.Demand[i], &r.Demand[j]
			if x.Prio != y.Prio {
				return x.Prio > y.Prio
			}
			if x.Bound != y.Bound {
				return x.Bound
			}
			return x.Shape < y.Shape
		})
		for i := range r.Demand {
			r.Demand[i].Nominated = "" // a plan from scratch owes nobody a node
		}
	}
	fair.Densify(in, func(ag *fair.Agent) fair.Room {
		room := fair.Room{Capacity: ag.Alloc, Taken: noRole[ag.Name]}
		if held != nil {
			room.Held = held(ag.Name)
		}
		return room
	})
	return fair.Fill(in)
}

// build makes a fill's input from the state, the outstanding offers (their
// resources are taken), suppressed roles, decline filters and what is held
// outside Kubernetes per node.
func (a *Allocator) build(now time.Time, agents []*fair.Agent, outstanding []offer.Offer, suppressed map[string]bool,
	filters map[filterKey]time.Time, held func(node string) resources.Vector) *fair.Input {
	in := &fair.Input{Agents: agents, Roles: map[string]*fair.Role{}, Total: a.state.Total(), Counted: a.state.Counted(), Counts: a.state.Counts}
	if len(filters) > 0 {
		in.Filtered = func(node, role string) bool {
			until, ok := filters[filterKey{node, role}]
			return ok && now.Before(until)
		}
	}
	byName := make(map[string]*fair.Agent, len(agents))
	for _, ag := range agents {
		byName[ag.Name] = ag
	}
	offered := map[string]resources.Vector{} // role -> outstanding offers
	byRole := map[string][]*offer.Offer{}
	for i := range outstanding {
		o := &outstanding[i]
		if offered[o.Role] == nil {
			offered[o.Role] = resources.Vector{}
		}
		offered[o.Role].Add(o.Resources.Only(in.Counted))
		byRole[o.Role] = append(byRole[o.Role], o)
	}
	targets := a.state.Targets()
	fits := map[string]*fair.PodFit{}
	a.hwMu.Lock()
	defer a.hwMu.Unlock()
	a.hw = fair.NewHWCache(a.state.Placement(), a.hw)
	for _, r := range a.state.Roles() {
		alloc := r.Allocation
		if o := offered[r.Name]; o != nil {
			alloc = alloc.Plus(o)
		}
		ri := &fair.Role{Weight: r.Weight, Alloc: alloc, Guarantee: r.Guarantee, Limit: r.Limit, Cap: -1}
		if t, ok := targets.Of(r.Name); ok {
			ri.Cap = t.Share
		}
		in.Roles[r.Name] = ri
		if suppressed[r.Name] || r.Pending == 0 {
			continue
		}
		ri.Demand = uncovered(a.demandOf(r.Name, r.Pending, fits, in.Counted), byRole[r.Name], byName, a.cfg.Remaining)
	}
	fair.Densify(in, func(ag *fair.Agent) fair.Room {
		room := fair.Room{Capacity: ag.Alloc, Taken: ag.Used}
		if held != nil {
			room.Held = held(ag.Name)
		}
		return room
	})
	for i := range outstanding {
		o := &outstanding[i]
		if ag := byName[o.Node]; ag != nil {
			ag.Free.Sub(in.Dims.Dense(o.Resources, make(resources.Dense, in.Dims.Len())))
			ag.Free.ClampZero()
			ag.Ports = ag.Ports.Minus(o.Ports)
		}
	}
	in.FreeTotal = make(resources.Dense, in.Dims.Len())
	for _, ag := range agents {
		in.FreeTotal.Add(ag.Free)
	}
	return in
}

// demandOf returns the pending pods of a role by priority, then age. Pods
// that failed on the nodes they were offered are included: the decline
// filters of those (node, role) pairs send them elsewhere, as a Mesos
// framework's declines do. Called with hwMu held.
func (a *Allocator) demandOf(role string, pending int, fits map[string]*fair.PodFit, counted []v1.ResourceName) []fair.Demand {
	out := make([]fair.Demand, 0, pending)
	byShape := map[string]resources.Vector{}
	a.pendBuf = a.state.AppendPending(a.pendBuf[:0], role)
	defer clear(a.pendBuf) // keep no pod object beyond the cycle
	for i := range a.pendBuf {
		p := &a.pendBuf[i]
		c, ok := byShape[p.Shape]
		if !ok {
			c = p.Request.Only(counted)
			byShape[p.Shape] = c
		}
		out = append(out, fair.Demand{
			Pod: p.Object, Req: p.Request, Counted: c, Shape: p.Shape,
			Ports: p.Ports, Prio: p.Priority, Created: p.Created, Fit: fair.FitFor(p.Object, fits),
			HW: a.hw.Of(p.Object), Nominated: p.NominatedNode,
		})
	}
	sort.Slice(out, func(i, j int) bool {
		x, y := &out[i], &out[j]
		if x.Prio != y.Prio {
			return x.Prio > y.Prio
		}
		if !x.Created.Equal(y.Created) {
			return x.Created.Before(y.Created)
		}
		return x.Pod.UID < y.Pod.UID
	})
	return out
}

// uncovered drops the pods that the role's outstanding offers already cover
// (packed first-fit into what is left of them): they need no new offer.
// A preemptor counts as covered only by an offer on its nominated node: the
// room its victims leave is its own, and the scheduler holds it for it (it
// counts nominated pods on their node), so it must be offered there.
func uncovered(demands []fair.Demand, offers []*offer.Offer, agents map[string]*fair.Agent,
	remaining func(string) (resources.Vector, resources.Ranges, bool)) []fair.Demand {
	if len(offers) == 0 {
		return demands
	}
	left := make([]resources.Vector, len(offers))
	ports := make([]resources.Ranges, len(offers))
	for i, o := range offers {
		left[i], ports[i] = o.Resources.Clone(), o.Ports
		if remaining != nil {
			if free, p, ok := remaining(o.ID); ok {
				left[i], ports[i] = free, p
			}
		}
	}
	out := demands[:0]
	for _, d := range demands {
		covered := false
		for j, o := range offers {
			if d.Nominated != "" && o.Node != d.Nominated {
				continue // a preemptor is covered only on its own node
			}
			if ag := agents[o.Node]; ag != nil && d.Req.Fits(left[j]) && fair.Admits(ag, &d) {
				if _, ok := ports[j].ContainsAll(d.Ports); ok {
					left[j].Sub(d.Req)
					covered = true
					break
				}
			}
		}
		if !covered {
			out = append(out, d)
		}
	}
	return out
}

// offers turns the cycle's grants into offers and records them outstanding.
// A grant's ports are its pods' host ports; the rest of a node's free ports
// go to the first role granted there (the one DRF served first).
func (a *Allocator) offers(now time.Time, in *fair.Input, grants []*fair.Grant) []offer.Offer {
	if len(grants) == 0 {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	// One allocation each for the offers handed out, the outstanding
	// records and all the IDs (substrings of one string), not one per offer.
	out := make([]offer.Offer, len(grants))
	kept := make([]offer.Offer, len(grants))
	ids := offerIDs(a.id, a.seq+1, len(grants))
	a.seq += uint64(len(grants))
	seenAgent := make(map[*fair.Agent]bool, len(grants))
	// Offers of equal resources share one vector (offers are never
	// modified in place; the offer book copies what it changes).
	shared := map[[8]int64]resources.Vector{}
	vectorOf := func(d resources.Dense) resources.Vector {
		if len(d) > 8 {
			return in.Dims.Vector(d)
		}
		var k [8]int64
		copy(k[:], d)
		v, ok := shared[k]
		if !ok {
			v = in.Dims.Vector(d)
			shared[k] = v
		}
		return v
	}
	for i, g := range grants {
		ports := resources.FromPorts(g.Ports)
		if !seenAgent[g.Agent] {
			seenAgent[g.Agent] = true
			ports = ports.Union(g.Agent.Ports)
		}
		o := &kept[i]
		*o = offer.Offer{
			ID: ids[i], AgentID: g.Agent.Name, Node: g.Agent.Name,
			Role: g.Role, Kind: offer.Unreserved, Resources: vectorOf(g.DReq), Ports: ports,
			Attributes: g.Agent.Node.Labels, Received: now,
		}
		if g.Agent.ReservedFor != "" {
			o.Kind = offer.Reserved
		}
		if a.cfg.OfferTimeout > 0 {
			o.Expires = now.Add(a.cfg.OfferTimeout)
		}
		a.outstanding[o.ID] = o
		out[i] = *o
	}
	return out
}

// offerIDs returns n offer IDs "<allocator>-O<seq>" from seq on, all
// substrings of one string.
func offerIDs(prefix string, seq uint64, n int) []string {
	buf := make([]byte, 0, n*(len(prefix)+2+20))
	ends := make([]int, n)
	for i := range n {
		buf = append(buf, prefix...)
		buf = append(buf, "-O"...)
		buf = strconv.AppendUint(buf, seq+uint64(i), 10)
		ends[i] = len(buf)
	}
	all := string(buf)
	ids := make([]string, n)
	start := 0
	for i, end := range ends {
		ids[i] = all[start:end]
		start = end
	}
	return ids
}

// nodePorts returns the ports a node offers.
func nodePorts(node *v1.Node, def resources.Ranges) resources.Ranges {
	if s, ok := node.Annotations[AnnotationPorts]; ok {
		if r, err := resources.ParseRanges(s); err == nil {
			return r
		}
	}
	return def // shared: ranges are never modified in place
}

// Accept consumes an offer: its pods now hold what they asked for (they are
// assumed in the cluster state) and the unused part returns to the pool.
func (a *Allocator) Accept(_ context.Context, offerID string, _ []offer.Launch) (map[types.UID]error, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.outstanding[offerID]; !ok {
		return nil, fmt.Errorf("offer %s is no longer valid", offerID)
	}
	delete(a.outstanding, offerID)
	return nil, nil
}

// Decline returns offers and filters their (node, role) for refuse.
func (a *Allocator) Decline(_ context.Context, offerIDs []string, refuse time.Duration) error {
	now := a.cfg.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, id := range offerIDs {
		o, ok := a.outstanding[id]
		if !ok {
			continue // declining a gone offer is not an error (as in Mesos)
		}
		delete(a.outstanding, id)
		if refuse > 0 {
			a.filters[filterKey{o.Node, o.Role}] = now.Add(refuse)
		}
	}
	return nil
}

// Suppress stops offers to the roles until they revive.
func (a *Allocator) Suppress(_ context.Context, rs ...string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range rs {
		a.suppressed[r] = true
	}
	return nil
}

// Revive clears the roles' suppression and decline filters and runs a cycle now.
func (a *Allocator) Revive(_ context.Context, rs ...string) error {
	a.mu.Lock()
	for _, r := range rs {
		delete(a.suppressed, r)
		for k := range a.filters {
			if k.role == r {
				delete(a.filters, k)
			}
		}
	}
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
	return nil
}

// Outstanding returns how many offers are outstanding.
func (a *Allocator) Outstanding() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.outstanding)
}
