// Package fair is the one DRF engine of the scheduler: weighted
// hierarchical Dominant Resource Fairness by progressive filling at pod
// granularity, with guarantees, limits and excluded resources. Everything
// that decides who gets what calls it:
//
//   - Targets computes each role's fair target: the filling of every role's
//     pods (bound and pending) into the capacity the scheduler can see, from
//     zero. The DRF plugin's PreFilter lets a pod go only while its role stays
//     within its target; fair-share preemption takes only from roles above
//     theirs and gives only to roles below; in Mesos mode a role uses an
//     offer only within its target and is suppressed at it.
//   - Fill places pending pods onto agents (nodes) in DRF order, from the
//     roles' current allocations, each role capped at its target: the
//     embedded allocator turns the result into offers, and in Mesos mode it
//     says which part of an agent the master offered to one role belongs to
//     the pods of others (the master offers a whole agent to one role).
//
// The package is pure: it reads its input and returns a result; the cluster
// state, the allocator and the plugins build the input.
package fair

import (
	"fmt"
	"math"
	"sort"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/quota"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/roles"
)

// Epsilon absorbs floating-point error when shares are compared with targets.
const Epsilon = 1e-9

// Agent is a node as one fill sees it.
type Agent struct {
	Name string
	// Node is the node object (constraints and hardware are judged on it);
	// nil for the aggregate agent of Targets, which admits every pod.
	Node *v1.Node
	// Free is what pods may still take, over the fill's Dims; the fill
	// consumes it.
	Free resources.Dense
	// Alloc and Used are the node's allocatable and the requests of its pods
	// (read only; the hardware score looks at them).
	Alloc, Used resources.Vector
	// Ports are the free host ports; the fill consumes them.
	Ports resources.Ranges
	// Tainted: the node has NoSchedule/NoExecute taints.
	Tainted bool
	// ReservedFor is the role the node is reserved for ("" = unreserved).
	ReservedFor string

	hwOK map[string]bool // hardware verdicts by PodPlacement key
}

// Demand is a pod the fill tries to place.
type Demand struct {
	Pod     *v1.Pod
	Req     resources.Vector
	DReq    resources.Dense  // Req over the fill's Dims (set by Densify)
	Counted resources.Vector // Req restricted to the resources that count for shares
	Shape   string           // Req.String(): pods of one shape fit alike
	Ports   []int32
	Prio    int32
	Created time.Time
	Fit     *PodFit
	// HW is the pod's hardware judgement; nil when hardware does not matter.
	HW PodPlacement
	// Nominated is the node a preemption made room on for the pod: it is
	// placed there first, and counts for its role already.
	Nominated string
	// Bound: the pod is already placed (Targets counts it like any demand,
	// and prefers, between roles of equal shares, the role whose next pod
	// is placed already: fewer evictions reach the target).
	Bound bool
	// Count is how many identical pods the demand stands for (0 means 1);
	// grouped demands carry no Pod.
	Count int
}

func (d *Demand) count() int {
	if d.Count > 1 {
		return d.Count
	}
	return 1
}

// Role is a role's input to a fill.
type Role struct {
	Weight    float64
	Alloc     resources.Vector // allocation the fill starts from (counted resources)
	Guarantee resources.Vector
	Limit     resources.Vector
	// Cap is the dominant share (of the role's own allocation) the fill may
	// not take the role past; negative: no cap.
	Cap    float64
	Demand []Demand // in the role's serving order (priority, then age)
}

// Input is everything one fill needs. It is consumed: agents' free
// resources, roles' allocations and demands change.
type Input struct {
	Agents  []*Agent
	Roles   map[string]*Role
	Total   resources.Vector // the capacity shares are relative to
	Counted []v1.ResourceName
	// Counts reports whether a resource counts in allocations (limits);
	// nil: all do.
	Counts func(v1.ResourceName) bool
	// Filtered reports whether (node, role) is under a decline filter.
	Filtered func(node, role string) bool
	// OfferedTo, when not nil, names the role each agent is offered to now
	// (a Mesos master offers an agent to one role at a time; absent: to
	// none). Pods are then placed on agents offered to their own role
	// first and on agents offered to other roles last, so that a plan
	// follows the master's offers: each role's part lies where the role can
	// take it at once, instead of on agents the master must offer to every
	// role planned there in turn. Pods whose hardware matters keep their
	// hardware's choice.
	OfferedTo map[string]string
	// Dims are the resources demands ask for; FreeTotal sums the agents'
	// free resources over them (Densify sets both).
	Dims      *resources.Dims
	FreeTotal resources.Dense
}

// Grant is resources of one agent given to one role in one fill: the pods
// progressive filling placed there.
type Grant struct {
	Agent *Agent
	Role  string
	DReq  resources.Dense
	Ports []int32
	Pods  []*v1.Pod // the pods placed (grouped demands carry none)
	N     int       // how many pods
}

// Output is what a fill decided.
type Output struct {
	// Grants in the order they were first made.
	Grants []*Grant
	// Why says, for pods not placed, why (a fixed phrase with values).
	Why map[types.UID]string
	// Alloc is each role's allocation at the end (counted resources).
	Alloc map[string]resources.Vector
	// Dims are the dimensions of the grants' dense vectors.
	Dims *resources.Dims
}

// Reasons a pod was not placed.
const (
	WhyLimit     = "the role is at its limit"
	WhyHeadroom  = "what is left is guaranteed to other roles"
	WhyFairShare = "the role is at its fair share"
)

// Room is what an agent has for a fill: its capacity less what is taken on
// it and what is held there otherwise (nil vectors: nothing).
type Room struct{ Capacity, Taken, Held resources.Vector }

// Densify makes the agents' free resources and the demands dense over the
// resources the demands ask for, and sums the free resources. free gives
// each agent's room (allocatable, its pods' use, what is promised or held
// elsewhere); it is made dense without building a vector per agent.
// Negative entries count as zero.
func Densify(in *Input, free func(a *Agent) Room) {
	in.Dims = resources.NewDims()
	for _, r := range in.Roles {
		for i := range r.Demand {
			in.Dims.Add(r.Demand[i].Req)
		}
	}
	n := in.Dims.Len()
	slab := make(resources.Dense, n*(len(in.Agents)+1))
	in.FreeTotal = slab[:n:n]
	for i, a := range in.Agents {
		room := free(a)
		a.Free = in.Dims.Dense(room.Capacity, slab[n*(i+1):n*(i+2):n*(i+2)])
		in.Dims.SubVector(a.Free, room.Taken)
		in.Dims.SubVector(a.Free, room.Held)
		a.Free.ClampZero()
		in.FreeTotal.Add(a.Free)
	}
	byShape := map[string]resources.Dense{}
	for _, r := range in.Roles {
		for i := range r.Demand {
			d := &r.Demand[i]
			dv, ok := byShape[d.Shape]
			if !ok {
				dv = in.Dims.Dense(d.Req, make(resources.Dense, n))
				byShape[d.Shape] = dv
			}
			d.DReq = dv
		}
	}
}

// Fill runs weighted-DRF progressive filling over the roles' demands, as
// Mesos' hierarchical allocator does over frameworks' demand:
//
//  1. the next role is the one furthest below its guarantee first (roles
//     below a guarantee are served before the others), then the active role
//     of lowest H-DRF key (roles.Sorter.Min), ties to the role whose next
//     pod is placed already, then by name;
//  2. it receives its next pod on an agent where the pod fits (resources,
//     host ports, taints, node affinity, hardware, the agent's reservation
//     and the (agent, role) decline filters) — preferring the agent it got
//     last, so several pods pack into one offer — unless that would take the
//     role past its cap (its fair target), past a limit of the role or an
//     ancestor, or take resources still guaranteed to other roles while the
//     role is above its own guarantee (pkg/quota);
//  3. its share grows by the pod's requests and the loop goes on until no
//     role has a pod left to try. Each pod is tried once: capacity only
//     shrinks during a fill, so a pod that does not fit when its turn comes
//     never will.
//
// Preemptors (Demand.Nominated) go first, on their nominated node: the DRF
// plugin decided they are owed it, and they count for their role already.
func Fill(in *Input) *Output {
	f := newFiller(in)
	f.placeNominated()
	for {
		name, ok := f.nextRole()
		if !ok {
			return f.output()
		}
		r := in.Roles[name]
		d := &r.Demand[f.next[name]]
		if why := f.admissible(name, r, d); why != "" {
			f.reject(name, d, why)
			continue
		}
		key := noRoomKeyOf(name, d)
		if w, ok := f.noRoom[key]; ok {
			f.reject(name, d, w)
			continue
		}
		a := f.place(name, d)
		if a == nil {
			f.noRoom[key] = explain(in, name, d)
			f.reject(name, d, f.noRoom[key])
			continue
		}
		n := f.bulk(name, r, d, a)
		f.advance(name, n)
		f.give(a, name, d, n, true)
	}
}

// reject skips a demand that cannot be placed now, with every identical pod
// it stands for: the fill only grows allocations and shrinks room, so they
// would fail alike.
func (f *filler) reject(name string, d *Demand, why string) {
	if d.Pod != nil {
		f.why[d.Pod.UID] = why
	}
	f.advance(name, d.count()-f.taken[name])
}

// filler is the state of one Fill.
type filler struct {
	in         *Input
	sorter     *roles.Sorter
	names      []string
	guaranteed []string
	unmet      resources.Vector // guarantees still unmet, summed over roles
	next       map[string]int   // index of each role's next demand
	taken      map[string]int   // pods taken from it so far (grouped demands)
	last       map[string]*Agent
	grants     map[grantKey]*Grant
	order      []*Grant
	slab       grantSlab
	cursor     int
	noRoom     map[noRoomKey]string
	used       resources.Vector // usedNow's scratch
	why        map[types.UID]string
	offered    map[string][]*Agent // role -> agents offered to it (Input.OfferedTo)
}

func newFiller(in *Input) *filler {
	f := &filler{
		in: in, sorter: roles.NewSorter(in.Total, in.Counted), unmet: resources.Vector{},
		next: map[string]int{}, taken: map[string]int{}, last: map[string]*Agent{}, grants: map[grantKey]*Grant{},
		noRoom: map[noRoomKey]string{}, why: map[types.UID]string{},
	}
	for name := range in.Roles {
		f.names = append(f.names, name)
	}
	sort.Strings(f.names)
	if in.OfferedTo != nil {
		f.offered = map[string][]*Agent{}
		for _, a := range in.Agents {
			if r := in.OfferedTo[a.Name]; r != "" {
				f.offered[r] = append(f.offered[r], a)
			}
		}
	}
	for _, name := range f.names {
		r := in.Roles[name]
		if r.Alloc == nil {
			r.Alloc = resources.Vector{}
		}
		f.sorter.SetWeight(name, r.Weight)
		f.sorter.Allocate(name, r.Alloc)
		f.refreshActivity(name)
		if len(r.Guarantee) > 0 {
			f.guaranteed = append(f.guaranteed, name)
			f.unmet.Add(quota.Unmet(r.Guarantee, r.Alloc))
		}
	}
	return f
}

// refreshActivity marks a role active while it has demand left, and ranks
// it for ties: a role whose next pod is placed already goes first.
func (f *filler) refreshActivity(name string) {
	r := f.in.Roles[name]
	i := f.next[name]
	active := i < len(r.Demand)
	f.sorter.SetActive(name, active)
	if active {
		rank := 1
		if r.Demand[i].Bound {
			rank = 0
		}
		f.sorter.SetRank(name, rank)
	}
}

// advance moves a role past n pods of its current demand.
func (f *filler) advance(name string, n int) {
	r := f.in.Roles[name]
	f.taken[name] += n
	if f.taken[name] >= r.Demand[f.next[name]].count() {
		f.next[name]++
		f.taken[name] = 0
	}
	f.refreshActivity(name)
}

// placeNominated places every preemptor on its nominated node if it still
// fits there; the others stay in their role's demand.
func (f *filler) placeNominated() {
	byAgent := make(map[string]*Agent, len(f.in.Agents))
	for _, a := range f.in.Agents {
		byAgent[a.Name] = a
	}
	for _, name := range f.names {
		r := f.in.Roles[name]
		rest := r.Demand[:0]
		for _, d := range r.Demand {
			// Decline filters do not apply: the room is the preemptor's.
			if a := byAgent[d.Nominated]; d.Nominated != "" && a != nil && admitsUnfiltered(a, name, &d) {
				f.give(a, name, &d, 1, false)
				continue
			}
			rest = append(rest, d)
		}
		r.Demand = rest
		f.refreshActivity(name)
	}
}

// nextRole picks the role served next: an active role below its guarantee
// (lowest H-DRF key among them), else the active role of lowest key.
func (f *filler) nextRole() (string, bool) {
	best := ""
	for _, name := range f.guaranteed {
		r := f.in.Roles[name]
		if f.next[name] >= len(r.Demand) || !quota.Below(r.Guarantee, r.Alloc) {
			continue
		}
		if best == "" || f.sorter.Compare(name, best) < 0 {
			best = name
		}
	}
	if best != "" {
		return best, true
	}
	return f.sorter.Min()
}

// admissible applies the role's cap and the quota rules to its next pod.
func (f *filler) admissible(name string, r *Role, d *Demand) string {
	if r.Cap >= 0 {
		if resources.DominantShareWith(r.Alloc, d.Counted, f.in.Total, f.in.Counted) > r.Cap+Epsilon {
			return WhyFairShare
		}
	}
	if quota.CheckLimits(name, d.Req, limitView{f}, f.in.Counts) != nil {
		return WhyLimit
	}
	if len(f.guaranteed) > 0 && !f.leavesGuarantees(name, r, d) {
		return WhyHeadroom
	}
	return ""
}

// limitView reads limits and subtree use for quota.CheckLimits.
type limitView struct{ f *filler }

func (v limitView) Limit(role string) resources.Vector {
	if r, ok := v.f.in.Roles[role]; ok {
		return r.Limit
	}
	return nil
}

func (v limitView) Used(role string) resources.Vector { return v.f.sorter.SubtreeView(role) }

// leavesGuarantees: a role that would be above its own guarantee may not
// take resources still guaranteed to other roles (quota.CheckHeadroom over
// the fill's free total).
func (f *filler) leavesGuarantees(name string, r *Role, d *Demand) bool {
	own := quota.Unmet(r.Guarantee, r.Alloc)
	others := f.unmet.Minus(own)
	free := resources.Vector{}
	for i, k := range f.in.Dims.Names {
		free[k] = f.in.FreeTotal[i]
	}
	return quota.CheckHeadroom(name, d.Req, own, others, free, f.in.Counts) == nil
}

// give grants n pods of a demand on an agent to a role; count adds them to
// the role's allocation (preemptors are counted already).
func (f *filler) give(a *Agent, name string, d *Demand, n int, count bool) {
	r := f.in.Roles[name]
	dreq, counted := d.DReq, d.Counted
	if n > 1 {
		dreq = make(resources.Dense, len(d.DReq))
		dreq.AddScaled(d.DReq, int64(n))
		counted = resources.Vector{}
		counted.AddScaled(d.Counted, int64(n))
	}
	a.Free.Sub(dreq)
	f.in.FreeTotal.Sub(dreq)
	a.Ports = a.Ports.Without(d.Ports)
	f.last[name] = a
	g := f.grants[grantKey{a, name}]
	if g == nil {
		g = f.slab.next(f.in.Dims.Len())
		g.Agent, g.Role = a, name
		f.grants[grantKey{a, name}] = g
		f.order = append(f.order, g)
	}
	g.DReq.Add(dreq)
	g.N += n
	g.Ports = append(g.Ports, d.Ports...)
	if d.Pod != nil {
		g.Pods = append(g.Pods, d.Pod)
	}
	if !count {
		return
	}
	if r.Guarantee != nil {
		f.unmet.Sub(quota.Unmet(r.Guarantee, r.Alloc))
		r.Alloc.Add(counted)
		f.unmet.Add(quota.Unmet(r.Guarantee, r.Alloc))
	} else {
		r.Alloc.Add(counted)
	}
	f.sorter.Allocate(name, counted)
}

// bulk returns how many pods of a grouped demand (Count > 1) the role may
// take at once on the agent, which the pod-by-pod loop would give it in a
// row: as many as fit the agent and the limits while the role's key stays
// strictly below the next role's (ties and the rest go pod by pod). It is
// 1 for single pods, with guarantees, and in a role hierarchy.
func (f *filler) bulk(name string, r *Role, d *Demand, a *Agent) int {
	n := d.count() - f.taken[name]
	if n <= 1 || d.Pod != nil || len(f.guaranteed) > 0 || r.Cap >= 0 {
		return 1
	}
	for j, x := range d.DReq {
		if x > 0 {
			n = min(n, int(max(0, a.Free[j])/x))
		}
	}
	for anc := name; anc != "" && n > 1; anc = quota.Parent(anc) {
		ar, ok := f.in.Roles[anc]
		if !ok || ar.Limit == nil {
			continue
		}
		used := f.sorter.SubtreeView(anc)
		for k, l := range ar.Limit {
			if x := d.Req[k]; x > 0 && (f.in.Counts == nil || f.in.Counts(k)) {
				n = min(n, int(max(0, l-used[k])/x))
			}
		}
	}
	if n <= 1 {
		return 1
	}
	next, none, ok := f.sorter.RunnerUp(name)
	if !ok {
		return 1
	}
	if !none {
		// After i more pods the role's key is max over counted resources of
		// (alloc + (1+i)·req) / total / weight; it takes pod 2+i only while
		// the key after 1+i pods is below next.
		w := r.Weight
		if w <= 0 {
			w = 1
		}
		for _, k := range f.in.Counted {
			x, t := d.Counted[k], f.in.Total[k]
			if t <= 0 {
				continue
			}
			if x <= 0 {
				if float64(r.Alloc[k])/float64(t)/w >= next-Epsilon {
					return 1 // a resource the pods do not ask for keeps the role level with the next
				}
				continue
			}
			limit := (next-Epsilon)*w*float64(t) - float64(r.Alloc[k])
			if limit <= 0 {
				return 1
			}
			// pods p with (alloc + p·x) < limit+alloc, i.e. p < limit/x.
			p := int(math.Ceil(limit / float64(x))) // the first count whose key reaches next
			n = min(n, max(1, p))
		}
	}
	return max(1, n)
}

// noRoomKey identifies pods of a role that fit alike: once one found no
// agent, the others of the cycle need not look.
type noRoomKey struct{ role, shape, fit, hw, ports string }

func noRoomKeyOf(name string, d *Demand) noRoomKey {
	k := noRoomKey{role: name, shape: d.Shape, fit: d.Fit.Key()}
	if d.HW != nil {
		k.hw = d.HW.Key()
	}
	if len(d.Ports) > 0 {
		k.ports = fmt.Sprint(d.Ports)
	}
	return k
}

// grantKey is one role's grant on one agent.
type grantKey struct {
	agent *Agent
	role  string
}

// grantSlab hands out grants with their dense vectors from chunks: a fill
// makes up to one grant per pod, and one allocation per grant would be
// most of a cycle's garbage.
type grantSlab struct {
	grants []Grant
	dense  resources.Dense
	pods   []*v1.Pod
}

const grantChunk = 256

func (s *grantSlab) next(dims int) *Grant {
	if len(s.grants) == 0 {
		s.grants = make([]Grant, grantChunk)
		s.dense = make(resources.Dense, grantChunk*dims)
		s.pods = make([]*v1.Pod, grantChunk)
	}
	g := &s.grants[0]
	s.grants = s.grants[1:]
	g.DReq = s.dense[:dims:dims]
	s.dense = s.dense[dims:]
	g.Pods = s.pods[:0:1] // room for one pod; more grow the slice
	s.pods = s.pods[1:]
	return g
}

func (f *filler) output() *Output {
	out := &Output{Grants: f.order, Why: f.why, Alloc: make(map[string]resources.Vector, len(f.names)), Dims: f.in.Dims}
	for _, name := range f.names {
		out.Alloc[name] = f.in.Roles[name].Alloc
	}
	return out
}

// place finds an agent for a pod of a role: the agent the role got last
// (pack into one offer), else the next agent from the cursor where it fits
// (next fit: amortised O(1) when pods look alike). For a pod whose hardware
// matters, the agent its hardware scores best instead (placeByHardware).
func (f *filler) place(role string, d *Demand) *Agent {
	last := f.last[role]
	if d.HW != nil {
		return f.placeByHardware(role, d, last)
	}
	if f.in.OfferedTo != nil {
		return f.placeOffered(role, d, last)
	}
	if last != nil && admits(f.in, last, role, d) {
		return last
	}
	n := len(f.in.Agents)
	for i := 0; i < n; i++ {
		a := f.in.Agents[(f.cursor+i)%n]
		if admits(f.in, a, role, d) {
			f.cursor = (f.cursor + i) % n
			return a
		}
	}
	return nil
}

// placeOffered is place when agents are offered to roles (Input.OfferedTo):
// the role's last agent unless it is offered to another role, else the
// agents offered to the role, else next fit over the agents offered to
// nobody, else next fit over the agents offered to other roles.
func (f *filler) placeOffered(role string, d *Demand, last *Agent) *Agent {
	mine := func(a *Agent) bool { r := f.in.OfferedTo[a.Name]; return r == "" || r == role }
	if last != nil && mine(last) && admits(f.in, last, role, d) {
		return last
	}
	for _, a := range f.offered[role] {
		if admits(f.in, a, role, d) {
			return a
		}
	}
	n := len(f.in.Agents)
	for _, others := range []bool{false, true} {
		for i := 0; i < n; i++ {
			a := f.in.Agents[(f.cursor+i)%n]
			if (f.in.OfferedTo[a.Name] != "") == others && admits(f.in, a, role, d) {
				f.cursor = (f.cursor + i) % n
				return a
			}
		}
	}
	return nil
}

// explain says why no agent admits a pod, checking the conditions in the
// order a user can act on them.
func explain(in *Input, role string, d *Demand) string {
	var constraints, hardware, reserved, filtered, ports, room int
	for _, a := range in.Agents {
		switch {
		case !d.Fit.Matches(a):
			constraints++
		case !hwAdmits(d, a):
			hardware++
		case a.ReservedFor != "" && a.ReservedFor != role:
			reserved++
		case !portsFree(a, d.Ports):
			ports++
		case !d.DReq.Fits(a.Free):
			room++
		case in.Filtered != nil && in.Filtered(a.Name, role):
			filtered++
		}
	}
	switch {
	case len(in.Agents) == 0:
		return "no schedulable node"
	case filtered > 0:
		return fmt.Sprintf("%d node(s) with room were declined by the role recently (refuse filter)", filtered)
	case constraints == len(in.Agents):
		return "no node matches the pod's node selector, affinity and tolerations"
	case constraints+hardware == len(in.Agents):
		return "no node has the hardware the pod needs (Hetero: architecture, accelerator model or memory, or no accelerators)"
	case constraints+hardware+reserved == len(in.Agents):
		return "the nodes the pod may use are reserved for other roles"
	case ports > 0 && room == 0:
		return fmt.Sprintf("no node has host port(s) %v free", d.Ports)
	}
	return fmt.Sprintf("no node has room for %s", d.Req)
}

func portsFree(a *Agent, ports []int32) bool {
	_, ok := a.Ports.ContainsAll(ports)
	return ok
}

// admits reports whether a pod of a role may go on an agent in this fill.
func admits(in *Input, a *Agent, role string, d *Demand) bool {
	return admitsUnfiltered(a, role, d) && (in.Filtered == nil || !in.Filtered(a.Name, role))
}

// admitsUnfiltered is admits without the (agent, role) decline filters.
func admitsUnfiltered(a *Agent, role string, d *Demand) bool {
	if a.ReservedFor != "" && a.ReservedFor != role {
		return false
	}
	if !d.DReq.Fits(a.Free) {
		return false
	}
	if _, ok := a.Ports.ContainsAll(d.Ports); !ok {
		return false
	}
	return d.Fit.Matches(a) && hwAdmits(d, a)
}
