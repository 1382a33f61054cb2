package allocator

import (
	"fmt"
	"sort"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/cluster"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/roles"
)

// agent is a node as one allocation cycle sees it.
type agent struct {
	name    string
	node    *v1.Node
	free    dvec             // allocatable - used - outstanding offers, over the cycle's dims
	alloc   resources.Vector // the node's allocatable (read only)
	used    resources.Vector // the requests of the pods on it (read only)
	ports   resources.Ranges // offered ranges - ports in use - ports in outstanding offers
	tainted bool             // has NoSchedule/NoExecute taints
	// reservedFor is the role the node is reserved for ("" = unreserved).
	reservedFor string
	// hwOK caches hardware verdicts on the node by PodPlacement key.
	hwOK map[string]bool
}

// demand is a pending pod the cycle tries to place.
type demand struct {
	pod     *v1.Pod
	req     resources.Vector
	dreq    dvec             // req over the cycle's dims
	counted resources.Vector // req restricted to the resources that count for shares
	shape   string           // req.String()
	ports   []int32
	prio    int32
	created time.Time
	fit     *podFit
	// hw is the pod's hardware judgement (the Hetero plugin's); nil when
	// hardware does not matter to it.
	hw cluster.PodPlacement
	// nominated is the node a preemption made room on for the pod.
	nominated string
}

// roleIn is a role's input to the cycle.
type roleIn struct {
	weight    float64
	alloc     resources.Vector // bound + assumed + outstanding offers
	guarantee resources.Vector
	limit     resources.Vector
	demand    []demand // uncovered pending pods, in priority and age order
}

// cycleIn is everything one allocation cycle needs; it is built from the
// cluster state and the outstanding offers, then run without locks.
type cycleIn struct {
	agents  []*agent
	roles   map[string]*roleIn
	total   resources.Vector
	counted []v1.ResourceName
	// filtered returns whether (node, role) is under a decline filter.
	filtered func(node, role string) bool
	// dims are the resources pods ask for; freeTotal sums the agents' free
	// resources over them, kept current.
	dims      *dims
	freeTotal dvec
}

// grant is resources of one agent given to one role in one cycle: the pods
// progressive filling placed there.
type grant struct {
	agent *agent
	role  string
	dreq  dvec
	ports []int32
	pods  int
}

// allocate runs weighted-DRF progressive filling over pending pods, as Mesos'
// hierarchical allocator does over frameworks' demand:
//
//  1. the next role is the one furthest below its guarantee's share first
//     (roles below a guarantee are served before the others), then the
//     active role of lowest H-DRF key (roles.Sorter.Min);
//  2. it receives its next pending pod on an agent where the pod fits
//     (resources, host ports, taints, node affinity, the agent's reservation
//     and the (agent, role) decline filters) — preferring an agent it already
//     got this cycle, so several pods pack into one offer — unless that would
//     take the role or an ancestor past a limit, or take resources still
//     guaranteed to other roles while the role is above its own guarantee;
//  3. its share grows by the pod's requests and the loop goes on until no
//     role has a pod that fits.
//
// Each role ends up offered what it can use, in DRF order; the result is
// the DRF paper's progressive filling at pod granularity.
func allocate(in *cycleIn) ([]*grant, map[types.UID]string) {
	sorter := roles.NewSorter(in.total, in.counted)
	names := make([]string, 0, len(in.roles))
	for name := range in.roles {
		names = append(names, name)
	}
	sort.Strings(names)
	unmet := resources.Vector{} // guarantees still unmet, summed over roles
	var guaranteed []string
	for _, name := range names {
		r := in.roles[name]
		sorter.SetWeight(name, r.weight)
		sorter.Allocate(name, r.alloc)
		if len(r.demand) > 0 {
			sorter.SetActive(name, true)
		}
		if len(r.guarantee) > 0 {
			guaranteed = append(guaranteed, name)
			addUnmet(unmet, r.guarantee, r.alloc, 1)
		}
	}
	next := make(map[string]int, len(names))
	last := map[string]*agent{} // the agent a role got last: pack there first
	grants := map[*agent]map[string]*grant{}
	var order []*grant
	cursor := 0
	// give grants a pod's resources on an agent to a role; count adds them
	// to the role's allocation (preemptors are counted already).
	give := func(a *agent, name string, d demand, count bool) {
		r := in.roles[name]
		a.free.sub(d.dreq)
		in.freeTotal.sub(d.dreq)
		a.ports = a.ports.Without(d.ports)
		last[name] = a
		if grants[a] == nil {
			grants[a] = map[string]*grant{}
		}
		g := grants[a][name]
		if g == nil {
			g = &grant{agent: a, role: name, dreq: make(dvec, len(in.dims.names))}
			grants[a][name] = g
			order = append(order, g)
		}
		g.dreq.add(d.dreq)
		g.ports = append(g.ports, d.ports...)
		g.pods++
		if !count {
			return
		}
		if r.guarantee != nil {
			before := r.alloc.Clone()
			r.alloc.Add(d.counted)
			addUnmet(unmet, r.guarantee, before, -1)
			addUnmet(unmet, r.guarantee, r.alloc, 1)
		} else {
			r.alloc.Add(d.counted)
		}
	}
	// Preemptors first, on the node their victims are leaving: the DRF
	// plugin decided they are owed it (their share already counts them).
	byAgent := make(map[string]*agent, len(in.agents))
	for _, a := range in.agents {
		byAgent[a.name] = a
	}
	for _, name := range names {
		r := in.roles[name]
		rest := r.demand[:0]
		for _, d := range r.demand {
			if a := byAgent[d.nominated]; d.nominated != "" && a != nil && admits(in, a, name, d) {
				give(a, name, d, false)
				continue
			}
			rest = append(rest, d)
		}
		r.demand = rest
		if len(rest) == 0 {
			sorter.SetActive(name, false)
		}
	}
	noRoom := map[string]string{} // role|shape|constraints that fit nowhere this cycle -> why
	why := map[types.UID]string{}

	for {
		name, ok := nextRole(sorter, in.roles, guaranteed, next)
		if !ok {
			return order, why
		}
		r := in.roles[name]
		d := r.demand[next[name]]
		next[name]++
		if next[name] == len(r.demand) {
			sorter.SetActive(name, false)
		}
		if !withinLimits(sorter, in.roles, name, d.req) {
			why[d.pod.UID] = "the role is at its limit"
			continue
		}
		if len(guaranteed) > 0 && !leavesGuarantees(in, name, d.req, unmet) {
			why[d.pod.UID] = "what is left is guaranteed to other roles"
			continue
		}
		key := name + "|" + d.shape + "|" + d.fit.key
		if d.hw != nil {
			key += "|" + d.hw.Key()
		}
		if len(d.ports) > 0 {
			key += fmt.Sprint(d.ports)
		}
		if w, ok := noRoom[key]; ok {
			why[d.pod.UID] = w
			continue
		}
		a := place(in, name, d, last[name], &cursor)
		if a == nil {
			noRoom[key] = explain(in, name, d)
			why[d.pod.UID] = noRoom[key]
			continue
		}
		give(a, name, d, true)
		sorter.Allocate(name, d.counted)
	}
}

// nextRole picks the role served next: an active role below its guarantee
// (lowest H-DRF key among them), else the active role of lowest key.
func nextRole(s *roles.Sorter, in map[string]*roleIn, guaranteed []string, next map[string]int) (string, bool) {
	best := ""
	for _, name := range guaranteed {
		r := in[name]
		if next[name] >= len(r.demand) || !below(r.alloc, r.guarantee) {
			continue
		}
		if best == "" || s.Compare(name, best) < 0 {
			best = name
		}
	}
	if best != "" {
		return best, true
	}
	return s.Min()
}

func below(alloc, guarantee resources.Vector) bool {
	for k, n := range guarantee {
		if alloc[k] < n {
			return true
		}
	}
	return false
}

// addUnmet adds sign * max(0, guarantee - alloc) to unmet.
func addUnmet(unmet, guarantee, alloc resources.Vector, sign int64) {
	for k, g := range guarantee {
		if d := g - alloc[k]; d > 0 {
			unmet[k] += sign * d
		}
	}
}

// withinLimits: the role and its ancestors stay within their limits.
func withinLimits(s *roles.Sorter, in map[string]*roleIn, name string, req resources.Vector) bool {
	for r := name; r != ""; r = parent(r) {
		ri, ok := in[r]
		if !ok || ri.limit == nil {
			continue
		}
		used := s.SubtreeView(r)
		for k, l := range ri.limit {
			if req[k] > 0 && used[k]+req[k] > l {
				return false
			}
		}
	}
	return true
}

// leavesGuarantees: a role that would be above its own guarantee may not
// take resources still guaranteed to other roles.
func leavesGuarantees(in *cycleIn, name string, req resources.Vector, unmet resources.Vector) bool {
	r := in.roles[name]
	own := resources.Vector{}
	if r.guarantee != nil {
		addUnmet(own, r.guarantee, r.alloc, 1)
	}
	for k, n := range req {
		others := unmet[k] - own[k]
		if n <= 0 || others <= 0 || n <= own[k] {
			continue
		}
		i, ok := in.dims.index[k]
		if !ok || in.freeTotal[i]-n < others {
			return false
		}
	}
	return true
}

func parent(role string) string {
	if i := strings.LastIndex(role, roles.Separator); i > 0 {
		return role[:i]
	}
	return ""
}

// place finds an agent for a pod of a role: the agent the role got last
// (pack into one offer), else the next agent from the cursor where it fits
// (next fit: amortised O(1) when pods look alike). For a pod whose hardware
// matters (d.hw), the agent its hardware scores best instead (see
// placeByHardware).
func place(in *cycleIn, role string, d demand, last *agent, cursor *int) *agent {
	if d.hw != nil {
		return placeByHardware(in, role, d, last, cursor)
	}
	if last != nil && admits(in, last, role, d) {
		return last
	}
	n := len(in.agents)
	for i := 0; i < n; i++ {
		a := in.agents[(*cursor+i)%n]
		if admits(in, a, role, d) {
			*cursor = (*cursor + i) % n
			return a
		}
	}
	return nil
}

// explain says why no agent admits a pod, checking the conditions in the
// order a user can act on them.
func explain(in *cycleIn, role string, d demand) string {
	var constraints, hardware, reserved, filtered, ports, room int
	for _, a := range in.agents {
		switch {
		case !d.fit.matches(a):
			constraints++
		case !hwAdmits(d, a):
			hardware++
		case a.reservedFor != "" && a.reservedFor != role:
			reserved++
		case !portsFree(a, d.ports):
			ports++
		case !d.dreq.fits(a.free):
			room++
		case in.filtered != nil && in.filtered(a.name, role):
			filtered++
		}
	}
	switch {
	case len(in.agents) == 0:
		return "no schedulable node"
	case filtered > 0:
		return fmt.Sprintf("%d node(s) with room were declined by the role recently (refuse filter)", filtered)
	case constraints == len(in.agents):
		return "no node matches the pod's node selector, affinity and tolerations"
	case constraints+hardware == len(in.agents):
		return "no node has the hardware the pod needs (Hetero: architecture, accelerator model or memory, or no accelerators)"
	case constraints+hardware+reserved == len(in.agents):
		return "the nodes the pod may use are reserved for other roles"
	case ports > 0 && room == 0:
		return fmt.Sprintf("no node has host port(s) %v free", d.ports)
	}
	return fmt.Sprintf("no node has room for %s", d.req)
}

func portsFree(a *agent, ports []int32) bool {
	_, ok := a.ports.ContainsAll(ports)
	return ok
}

// admits reports whether a pod of a role may go on an agent this cycle.
func admits(in *cycleIn, a *agent, role string, d demand) bool {
	if a.reservedFor != "" && a.reservedFor != role {
		return false
	}
	if !d.dreq.fits(a.free) {
		return false
	}
	if _, ok := a.ports.ContainsAll(d.ports); !ok {
		return false
	}
	if !d.fit.matches(a) || !hwAdmits(d, a) {
		return false
	}
	return in.filtered == nil || !in.filtered(a.name, role)
}
