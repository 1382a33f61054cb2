package cluster

import (
	"sort"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// FitFunc reports whether a request of a role could be placed now. The
// default looks for a schedulable node with enough free capacity; the
// MesosOffers plugin replaces it with "fits in an offer to the role".
type FitFunc func(role string, req resources.Vector) bool

// SetFitFunc replaces how Ahead decides that a pending pod could run.
func (s *State) SetFitFunc(f FitFunc) {
	s.mu.Lock()
	s.fit = f
	s.mu.Unlock()
}

// Precedes reports whether role a is served before role b: roles below a
// guarantee come first, then H-DRF order (see roles.Sorter.Compare).
func (s *State) Precedes(a, b string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.precedesLocked(a, b)
}

func (s *State) precedesLocked(a, b string) bool {
	ga, gb := s.belowGuaranteeLocked(a), s.belowGuaranteeLocked(b)
	if ga != gb {
		return ga
	}
	return s.sorter.Compare(a, b) < 0
}

// belowGuaranteeLocked reports whether a role holds less than its guarantee
// of some resource.
func (s *State) belowGuaranteeLocked(role string) bool {
	g, _ := s.quotaLocked(role)
	if len(g) == 0 {
		return false
	}
	used := s.sorter.SubtreeView(role)
	for name, amount := range g {
		if used[name] < amount {
			return true
		}
	}
	return false
}

// Nominated reports whether a pod is a preemptor whose victims are being
// evicted (it already counts for its role).
func (s *State) Nominated(uid types.UID) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.pods[uid]
	return ok && p.Nominated
}

// Ahead returns a role that must be served before a pod of the given role,
// priority and request: a role that precedes it and has a pending pod of at
// least that priority that could run now (not blocked by a failed attempt,
// within its limits, and fitting according to the FitFunc). It returns ""
// when the pod may go. This is the fairness gate of the DRF plugin: the
// queue order cannot follow shares that change while pods wait, so a pod
// whose role is not next waits until it is.
//
// The gate only acts under contention (it is work-conserving, as Mesos'
// allocator is):
//
//   - with offers (a FitFunc), a pod that fits in an offer to its own role
//     goes: the allocator already shared the resources out in DRF order, and
//     an offer is its role's alone, so holding the pod back would serve no
//     other role;
//   - without, when every pending pod fits in the cluster's free capacity
//     at once (summed over nodes), the order cannot change who gets what,
//     and every pod goes.
//
// Cost: roles are visited in H-DRF order (Sorter.Walk) and the first
// runnable one is cached per state version and priority, and so is the
// contention check, so most calls are a map lookup and a comparison.
func (s *State) Ahead(role string, priority int32, req resources.Vector) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fit != nil {
		if s.fit(role, req) {
			return ""
		}
	} else if s.roomForAllLocked() {
		return ""
	}
	if s.aheadVersion != s.version {
		s.aheadVersion, s.aheadCache = s.version, map[int32]string{}
	}
	first, ok := s.aheadCache[priority]
	if !ok {
		first = s.firstRunnableLocked(priority)
		s.aheadCache[priority] = first
	}
	if first == "" || first == role || !s.precedesLocked(first, role) {
		return ""
	}
	return first
}

// roomForAllLocked reports whether the requests of all pending pods
// together fit in the free capacity of the schedulable nodes (summed over
// nodes). Cached per state version.
func (s *State) roomForAllLocked() bool {
	if s.roomyVersion == s.version+1 {
		return s.roomy
	}
	s.roomy = s.pendingDemand.Fits(s.freeLocked())
	s.roomyVersion = s.version + 1
	return s.roomy
}

// firstRunnableLocked returns the first role, in serving order, with a pod
// of at least the given priority that could run now: roles below a
// guarantee first (among them in H-DRF order), then all in H-DRF order.
func (s *State) firstRunnableLocked(priority int32) string {
	if s.hasGuaranteesLocked() {
		var below []string
		for r, pd := range s.pendingBy {
			if pd.count > 0 && s.belowGuaranteeLocked(r) {
				below = append(below, r)
			}
		}
		sort.Slice(below, func(i, j int) bool { return s.sorter.Compare(below[i], below[j]) < 0 })
		for _, r := range below {
			if s.hasRunnableLocked(r, priority) {
				return r
			}
		}
	}
	first := ""
	s.sorter.Walk(func(r string) bool {
		if s.hasRunnableLocked(r, priority) {
			first = r
			return false
		}
		return true
	})
	return first
}

// hasRunnableLocked reports whether a role has a pending pod of at least the
// priority that could run now: a preemptor waiting for its victims, or a
// pod not blocked by a failed attempt, within the role's limits, that fits.
func (s *State) hasRunnableLocked(role string, priority int32) bool {
	pd := s.pendingBy[role]
	if pd == nil || pd.count == 0 {
		return false
	}
	if pd.nominated > 0 {
		return true // its victims are going: it runs as soon as they are gone
	}
	for k, g := range pd.groups {
		if g.prio < priority || g.unblocked(s.freedVersion) == 0 {
			continue
		}
		if s.checkQuotaLocked(role, g.req) == nil && s.fitsLocked(role, k.shape, g.req) {
			return true
		}
	}
	return false
}

// fitsLocked applies the FitFunc, or looks for a node with room; node
// answers are cached per shape until node capacity or use changes.
func (s *State) fitsLocked(role, shape string, req resources.Vector) bool {
	if s.fit != nil {
		return s.fit(role, req)
	}
	if s.fitVersion != s.capVersion || s.fitCache == nil {
		s.fitVersion, s.fitCache = s.capVersion, map[string]bool{}
	}
	if ok, seen := s.fitCache[shape]; seen {
		return ok
	}
	ok := false
	for _, n := range s.nodes {
		if n.Schedulable && req.FitsFree(n.Allocatable, n.Used) {
			ok = true
			break
		}
	}
	s.fitCache[shape] = ok
	return ok
}

// FairToPreempt reports whether evicting victims (requests per role) for a
// pod of role asking req keeps every victim role at or above its fair share,
// so that no role can preempt back (no preemption ping-pong). It holds when,
// with the pod placed and the victims gone, for each victim role V:
//
//   - V's weighted share stays at or above the one the preemptor's role
//     reaches (compared where the two roles' paths in the role tree part), or
//   - the pod stays within its role's guarantee and V stays at or above its
//     own guarantee (guarantees come before fairness).
//
// Victims already being evicted by an earlier preemption count as gone
// already and are not taken off twice.
func (s *State) FairToPreempt(preemptor *v1.Pod, role string, req resources.Vector, victimPods []*v1.Pod) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	req = s.config.only(req)
	if p, ok := s.pods[preemptor.UID]; ok && p.Nominated {
		req = resources.Vector{} // its nomination counts already
	}
	victims := map[string]resources.Vector{}
	for _, vp := range victimPods {
		p, ok := s.pods[vp.UID]
		if !ok || p.Role == "" {
			return false
		}
		if victims[p.Role] == nil {
			victims[p.Role] = resources.Vector{}
		}
		if !p.Evicting {
			victims[p.Role].Add(s.config.only(p.Request))
		}
	}
	s.sorter.Allocate(role, req)
	for v, r := range victims {
		s.sorter.Unallocate(v, r)
	}
	defer func() {
		s.sorter.Unallocate(role, req)
		for v, r := range victims {
			s.sorter.Allocate(v, r)
		}
	}()
	withinOwn := s.withinGuaranteeLocked(role, req)
	for v := range victims {
		if v == role {
			return false
		}
		if s.sorter.CompareShares(role, v) <= 0 {
			continue
		}
		if withinOwn && s.atOrAboveGuaranteeLocked(v) {
			continue
		}
		return false
	}
	return true
}

// withinGuaranteeLocked: the role's allocation (already including the pod)
// is within its guarantee in every resource the pod asks for.
func (s *State) withinGuaranteeLocked(role string, req resources.Vector) bool {
	g, _ := s.quotaLocked(role)
	if len(g) == 0 {
		return false
	}
	used := s.sorter.SubtreeAllocation(role)
	for name, n := range req {
		if n > 0 && used[name] > g[name] {
			return false
		}
	}
	return true
}

// atOrAboveGuaranteeLocked: the role holds at least its guarantee of every
// guaranteed resource (trivially true without a guarantee).
func (s *State) atOrAboveGuaranteeLocked(role string) bool {
	g, _ := s.quotaLocked(role)
	used := s.sorter.SubtreeAllocation(role)
	for name, n := range g {
		if used[name] < n {
			return false
		}
	}
	return true
}
