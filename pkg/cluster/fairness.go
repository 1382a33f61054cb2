package cluster

import (
	"context"
	"sort"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/klog/v2"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/fair"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// targetsInterval bounds how often RunTargets looks at the targets while
// the state changes.
const targetsInterval = 10 * time.Millisecond

// targetCache holds the last fair targets and the state version they were
// computed at. Readers get the published *fair.Targets, which is never
// modified (a snapshot).
type targetCache struct {
	mu      sync.Mutex
	targets *fair.Targets
	key     targetsKey
	at      time.Time
}

// Targets returns the roles' fair targets (fair.Compute over every role's
// placed and pending pods and the capacity the scheduler sees), computed
// again only when that input changed (demand.go): a pod placed or
// forgotten in a scheduling cycle does not change it. The result is a
// snapshot, never modified.
func (s *State) Targets() *fair.Targets {
	s.tc.mu.Lock()
	defer s.tc.mu.Unlock()
	s.mu.RLock()
	key, heldElsewhere := s.targetsKeyLocked(), s.heldElsewhere
	if s.tc.targets != nil && s.tc.key == key {
		s.mu.RUnlock()
		return s.tc.targets
	}
	s.mu.RUnlock()
	// Asked outside the state's lock: the offer source takes its own lock
	// first and the state's after it (lock order: source, then state).
	// The targets are cached under the key read before what is held
	// elsewhere: a source that changes it afterwards moves the key
	// (HeldElsewhereChanged), so the next query computes them again. Read
	// the other way round, targets computed from an old figure could be
	// kept under the new key for good.
	var held map[string]resources.Vector
	if heldElsewhere != nil {
		held = heldElsewhere()
	}
	s.mu.RLock()
	in := s.targetInputLocked(held)
	s.mu.RUnlock()
	s.tc.targets, s.tc.key, s.tc.at = fair.Compute(in), key, time.Now()
	if v := klog.V(4); v.Enabled() {
		pods := map[string]int{}
		asked := map[string]int{}
		for r, t := range s.tc.targets.Roles {
			pods[r] = t.Pods
		}
		for r, tr := range in.Roles {
			for _, g := range tr.Groups {
				asked[r] += g.Count
			}
		}
		v.InfoS("Fair targets computed", "pods", pods, "asked", asked, "capacity", in.Capacity, "key", key)
	}
	return s.tc.targets
}

// RefreshTargets is Targets (kept for tests and tools that want to say
// they read fresh targets).
func (s *State) RefreshTargets() *fair.Targets { return s.Targets() }

// RunTargets keeps the targets current until ctx ends: after a change of
// the state it recomputes them (at most every targetsInterval) and, when a
// role's target moved, tells the subscribers, so that pods the DRF gate
// turned away are tried again.
//
// It also retries blocked pods every blockedRetry: a pod that failed
// everywhere leaves the demand until capacity is freed, and the events that
// free capacity are many but not all seen (room left by an offer another
// role did not use, say). Like the scheduler's own periodic flush of
// unschedulable pods, this bounds how long such a pod stays out.
func (s *State) RunTargets(ctx context.Context) {
	changed := s.Subscribe()
	retry := time.NewTicker(blockedRetry)
	defer retry.Stop()
	var before *fair.Targets
	for {
		select {
		case <-ctx.Done():
			return
		case <-retry.C:
			if s.anyBlocked() {
				s.Touch(true)
			}
			continue
		case <-changed:
		}
		after := s.Targets()
		if moved(before, after) {
			s.notify()
		}
		before = after
		select {
		case <-ctx.Done():
			return
		case <-time.After(targetsInterval):
		}
	}
}

// blockedRetry is how often blocked pods are taken back into the demand.
const blockedRetry = 30 * time.Second

// anyBlocked reports whether some pending pod is blocked.
func (s *State) anyBlocked() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, pd := range s.pendingBy {
		for _, g := range pd.groups {
			if g.unblocked(s.freedVersion) < len(g.pods) {
				return true
			}
		}
	}
	return false
}

// moved reports whether some role's target changed.
func moved(a, b *fair.Targets) bool {
	if a == nil || b == nil {
		return a != b
	}
	if len(a.Roles) != len(b.Roles) {
		return true
	}
	for r, t := range b.Roles {
		if o, ok := a.Roles[r]; !ok || o.Pods != t.Pods || !o.Alloc.Equal(t.Alloc) {
			return true
		}
	}
	return false
}

// SetHeldElsewhere tells the state how to learn the resources of its nodes
// held outside Kubernetes (in Mesos mode: by other frameworks' tasks and
// offers), which no role here can have, by node. f is called without the
// state's lock held; figures of nodes the state does not have, or that
// take no new pods, are ignored.
func (s *State) SetHeldElsewhere(f func() map[string]resources.Vector) {
	s.mu.Lock()
	s.heldElsewhere = f
	s.epoch++
	s.changedLocked(false)
	s.mu.Unlock()
	s.notify()
}

// HeldElsewhereChanged tells the state that what is held elsewhere may have
// changed (the fair targets are computed again).
func (s *State) HeldElsewhereChanged() {
	s.mu.Lock()
	s.epoch++
	s.changedLocked(false)
	s.mu.Unlock()
	s.notify()
}

// targetInputLocked builds the targets' input: each role's pods — placed
// (victims being evicted left out), preemptors owed their room, and pending
// pods not blocked that fit some node — by shape and priority, and the
// capacity the roles share: the schedulable nodes' allocatable minus what
// pods of no role hold there and what is held elsewhere (on those nodes
// only, at most their allocatable: a figure the source kept for a node
// that is gone must not shrink the others' capacity), plus what role pods
// hold on nodes that take no new pods.
func (s *State) targetInputLocked(held map[string]resources.Vector) *fair.TargetInput {
	in := &fair.TargetInput{
		Total: s.total.Clone(), Counted: s.conf().Counted(), Counts: s.conf().counts,
		Roles: make(map[string]*fair.TargetRole, len(s.roleNS)),
	}
	// From sums kept as pods and nodes change: the schedulable nodes'
	// allocatable and what pods of no role hold there; then only the nodes
	// holding something elsewhere and those taking no new pods are visited.
	capacity := s.total.Minus(s.noRoleSched)
	for name, h := range held {
		if n := s.nodes[name]; n != nil && n.Schedulable {
			capacity.Sub(h.Min(n.Allocatable))
		}
	}
	for name := range s.unsched {
		for _, p := range s.byNode[name] {
			if p.Role != "" && !p.Evicting {
				capacity.Add(p.Request)
			}
		}
	}
	in.Capacity = capacity.ClampZero()
	for _, r := range s.sorter.Roles() {
		g, l := s.quotaLocked(r)
		in.Roles[r] = &fair.TargetRole{Weight: s.sorter.Weight(r), Guarantee: g, Limit: l}
	}
	role := func(name string) *fair.TargetRole {
		r := in.Roles[name]
		if r == nil {
			r = &fair.TargetRole{Weight: s.sorter.Weight(name)}
			in.Roles[name] = r
		}
		return r
	}
	for name, groups := range s.placedBy {
		r := role(name)
		for _, g := range groups {
			r.Groups = append(r.Groups, fair.PodGroup{Req: g.req, Shape: g.shape, Count: g.n, Bound: true, Prio: g.prio})
		}
	}
	for name, pd := range s.pendingBy {
		for _, g := range pd.groups {
			var any *Pod
			nominated := 0
			for _, p := range g.pods {
				if any == nil {
					any = p
				}
				if p.Nominated {
					nominated++
				}
			}
			if any == nil {
				continue
			}
			r := role(name)
			n := g.unblocked(s.freedVersion) - nominated
			runnable := n > 0 && s.fitsSomeNodeLocked(any)
			if nominated == 0 && !runnable {
				continue
			}
			req := s.conf().only(g.req)
			shape := req.String()
			if nominated > 0 {
				r.Groups = append(r.Groups, fair.PodGroup{Req: req, Shape: shape, Count: nominated, Bound: true, Prio: g.prio})
			}
			if runnable {
				r.Groups = append(r.Groups, fair.PodGroup{Req: req, Shape: shape, Count: n, Prio: g.prio})
			}
		}
	}
	// A role's groups in serving order: priority, then shape, then placed
	// before pending. Which of a role's pods the target holds then does not
	// depend on which are placed yet (placing a pod leaves the targets as
	// they were); the placed ones still go first between equal shares of
	// different roles, to ask for the fewest evictions.
	for _, r := range in.Roles {
		sort.Slice(r.Groups, func(i, j int) bool {
			a, b := r.Groups[i], r.Groups[j]
			if a.Prio != b.Prio {
				return a.Prio > b.Prio
			}
			if a.Shape != b.Shape {
				return a.Shape < b.Shape
			}
			return a.Bound && !b.Bound
		})
	}
	return in
}

// fitsSomeNodeLocked reports whether a pending pod's requests fit the
// allocatable resources of some schedulable node (a pod that fits none can
// never run and asks for nothing). Cached per shape until nodes change.
func (s *State) fitsSomeNodeLocked(p *Pod) bool {
	if s.nodeFitVersion != s.nodesVersion || s.nodeFit == nil {
		s.nodeFitVersion, s.nodeFit = s.nodesVersion, map[string]bool{}
	}
	if ok, seen := s.nodeFit[p.Shape]; seen {
		return ok
	}
	ok := false
	for _, n := range s.nodes {
		if n.Schedulable && p.Request.Fits(n.Allocatable) {
			ok = true
			break
		}
	}
	s.nodeFit[p.Shape] = ok
	return ok
}

// Allocation returns a role's own allocation (bound and assumed pods not
// being evicted, and preemptors owed their room).
func (s *State) Allocation(role string) resources.Vector {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.sorter.Allocation(role)
}

// FairShare places a role, with req added, against its fair target. A
// preemptor whose nomination counts already adds nothing.
func (s *State) FairShare(uid types.UID, role string, req resources.Vector) (fair.Verdict, fair.Target) {
	t := s.Targets()
	s.mu.RLock()
	alloc := s.sorter.Allocation(role)
	if p, ok := s.pods[uid]; !ok || !p.Nominated {
		alloc.Add(s.conf().only(req))
	}
	s.mu.RUnlock()
	target, _ := t.Of(role)
	return t.Compare(role, alloc), target
}

// Nominated reports whether a pod is a preemptor whose victims are being
// evicted (it already counts for its role).
func (s *State) Nominated(uid types.UID) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.pods[uid]
	return ok && p.Nominated
}

// Evicting reports whether a pod is a victim of a preemption in flight.
func (s *State) Evicting(uid types.UID) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.pods[uid]
	return ok && p.Evicting
}

// evictionGrace is how long a victim counts as gone without being deleted,
// and a preemptor as nominated without a nominated node; after that (the
// eviction failed, the nomination was dropped) both count as before.
const evictionGrace = time.Minute

// Preempting records a preemption the DRF plugin just started: the victims
// stop counting for their roles and the preemptor counts for its role at
// once, before the API server and the informers catch up, so the next
// preemption decision sees the result of this one (no overshoot).
func (s *State) Preempting(preemptor *v1.Pod, node string, victims []*v1.Pod) {
	s.mu.Lock()
	now := time.Now()
	for _, v := range victims {
		p, ok := s.pods[v.UID]
		if !ok || p.Evicting || p.NodeName == "" {
			continue
		}
		p.Evicting, p.EvictingSince = true, now
		if p.Role != "" {
			s.sorter.Unallocate(p.Role, s.conf().only(p.Request))
			s.countPlacedLocked(p, -1)
		}
	}
	if p, ok := s.pods[preemptor.UID]; ok && p.Pending() && p.Role != "" {
		s.clearNominationLocked(p)
		p.Nominated, p.NominatedSince, p.NominatedNode = true, now, node
		s.sorter.Allocate(p.Role, s.conf().only(p.Request))
		s.pendingOf(p.Role).nominated++
	}
	s.changedLocked(false)
	s.mu.Unlock()
	s.notify()
}

// ReleaseNomination stops counting a preemptor for its role: its preemption
// did not get it placed (it failed again, or was retried), so the room it
// was owed is no longer held for it.
func (s *State) ReleaseNomination(uid types.UID) {
	s.mu.Lock()
	p, ok := s.pods[uid]
	if !ok || !p.Nominated {
		s.mu.Unlock()
		return
	}
	s.clearNominationLocked(p)
	s.changedLocked(false)
	s.mu.Unlock()
	s.notify()
}

// clearNominationLocked stops counting a preemptor's nomination.
func (s *State) clearNominationLocked(p *Pod) {
	if !p.Nominated {
		return
	}
	if p.Role != "" {
		s.sorter.Unallocate(p.Role, s.conf().only(p.Request))
		if pd := s.pendingBy[p.Role]; pd != nil {
			if g := pd.groups[groupKey{p.Shape, p.Priority}]; g != nil && g.pods[p.UID] != nil {
				pd.nominated--
			}
		}
	}
	p.Nominated, p.NominatedNode = false, ""
}

// FairToPreempt reports whether evicting victims for a pod of role asking
// req moves the cluster toward the fair targets and nothing else:
//
//   - the preemptor's role, with the pod, stays within its target;
//   - every victim's role other than the preemptor's stays at or above its
//     own target without the victims (so it cannot preempt back: no
//     ping-pong — the targets do not move with a preemption, whose victim
//     and replacement leave the demand as it was).
//
// Weighted shares themselves are not compared: a role at its target may
// hold a lower share than others when its next pod fits nowhere (the DRF
// allocation leaves it there), and it must still give up what it holds
// beyond its target.
//
// Victims already being evicted count as gone and are not taken off twice.
// Victims of lower priority than the preemptor are taken by priority, not
// by fairness: they may be of any role, their role is not held to its
// target for them, but they count as gone from it — a role that also gives
// up pods of the preemptor's priority must stay at its target without all
// of them. A victim of the preemptor's priority (or higher) must be of
// another role.
func (s *State) FairToPreempt(preemptor *v1.Pod, role string, req resources.Vector, victimPods []*v1.Pod) bool {
	t := s.Targets()
	prio := corev1helpers.PodPriority(preemptor)
	s.mu.RLock()
	defer s.mu.RUnlock()
	take := map[string]resources.Vector{}
	held := map[string]bool{} // roles giving up pods by fairness
	for _, vp := range victimPods {
		p, ok := s.pods[vp.UID]
		byPriority := corev1helpers.PodPriority(vp) < prio
		if !ok || p.Role == "" {
			if byPriority {
				continue // not counted for any role
			}
			return false
		}
		if !byPriority {
			if p.Role == role {
				return false
			}
			held[p.Role] = true
		}
		if take[p.Role] == nil {
			take[p.Role] = resources.Vector{}
		}
		if !p.Evicting {
			take[p.Role].Add(s.conf().only(p.Request))
		}
	}
	mine := s.sorter.Allocation(role)
	if p, ok := s.pods[preemptor.UID]; !ok || !p.Nominated {
		mine.Add(s.conf().only(req))
	}
	if r, ok := take[role]; ok {
		mine.Sub(r)
	}
	if v := t.Compare(role, mine); v != fair.Below && v != fair.At {
		return false
	}
	for v := range held {
		after := s.sorter.Allocation(v)
		after.Sub(take[v])
		if c := t.Compare(v, after); c != fair.At && c != fair.Above {
			return false
		}
	}
	return true
}
