package fair

import (
	v1 "k8s.io/api/core/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// TargetInput is what the scheduler can see, for Targets: every role with
// its pods, bound and pending, and the capacity they share.
type TargetInput struct {
	// Total is the capacity shares are relative to (the allocatable
	// resources of the schedulable nodes).
	Total resources.Vector
	// Capacity is what the roles' pods may hold, summed over the nodes:
	// Total minus what is held by pods of no role and, in Mesos mode, by
	// other frameworks.
	Capacity resources.Vector
	Counted  []v1.ResourceName
	// Counts reports whether a resource counts in allocations (limits);
	// nil: all do.
	Counts func(v1.ResourceName) bool
	Roles  map[string]*TargetRole
}

// TargetRole is one role's weight, quota and pods.
type TargetRole struct {
	Weight           float64
	Guarantee, Limit resources.Vector
	// Groups of identical pods, in the role's serving order: priority
	// (high first), then bound before pending, then age.
	Groups []PodGroup
}

// PodGroup is identical pods of a role.
type PodGroup struct {
	Req resources.Vector // requests over the resources that count in allocations
	// Shape is Req.String() when the caller has it ("": computed here).
	Shape string
	Count int
	Bound bool // placed already (or a preemptor owed its room)
	Prio  int32
}

// Target is a role's fair target.
type Target struct {
	// Alloc is the role's fair allocation (counted resources).
	Alloc resources.Vector
	// Share is its dominant share, Key the share divided by the weight.
	Share, Key float64
	// Pods is how many of its pods the target holds, Asked how many it has.
	Pods, Asked int
}

// Targets are the roles' fair targets, computed together by Targets.
type Targets struct {
	Roles   map[string]Target
	Total   resources.Vector
	Counted []v1.ResourceName
}

// Compute runs progressive filling (Fill) of every role's pods, from zero,
// into the aggregate capacity: the result is the weighted DRF allocation
// the roles converge to whatever the order their pods arrived in. Placement
// on nodes is not modelled (fragmentation is handled where pods are
// placed: a pod that fits no node is marked blocked and leaves the
// demand). Between roles of equal weighted shares, the role whose next pod
// is placed already goes first, so the targets ask for the fewest moves.
//
// When every role's every pod fits the capacity together and no role has
// a guarantee or a limit — an uncongested cluster, the common case while
// pods arrive — the filling gives every role all its pods, and the targets
// are written down without running it (computeAllFit).
func Compute(in *TargetInput) *Targets {
	if t := computeAllFit(in); t != nil {
		return t
	}
	return computeFill(in)
}

// computeAllFit returns the targets when every pod of every role fits the
// capacity at once and no role has a guarantee or a limit: then no step of
// the filling can find its pod without room, so each role's target is all
// its pods. It returns nil otherwise.
func computeAllFit(in *TargetInput) *Targets {
	sum := resources.Vector{}
	for _, r := range in.Roles {
		if len(r.Guarantee) > 0 || len(r.Limit) > 0 {
			return nil
		}
		for _, g := range r.Groups {
			if g.Count > 0 {
				sum.AddScaled(g.Req, int64(g.Count))
			}
		}
	}
	if !sum.Fits(in.Capacity) {
		return nil
	}
	t := &Targets{Roles: make(map[string]Target, len(in.Roles)), Total: in.Total, Counted: in.Counted}
	for name, r := range in.Roles {
		alloc, asked := resources.Vector{}, 0
		for _, g := range r.Groups {
			if g.Count > 0 {
				alloc.AddScaled(g.Req.Only(in.Counted), int64(g.Count))
				asked += g.Count
			}
		}
		share := resources.DominantShare(alloc, in.Total, in.Counted)
		t.Roles[name] = Target{Alloc: alloc, Share: share, Key: resources.WeightedShare(share, r.Weight), Pods: asked, Asked: asked}
	}
	return t
}

// computeFill is Compute by progressive filling.
func computeFill(in *TargetInput) *Targets {
	agent := &Agent{Name: "aggregate"}
	fi := &Input{
		Agents: []*Agent{agent}, Roles: make(map[string]*Role, len(in.Roles)),
		Total: in.Total, Counted: in.Counted, Counts: in.Counts,
	}
	asked := make(map[string]int, len(in.Roles))
	for name, r := range in.Roles {
		role := &Role{Weight: r.Weight, Guarantee: r.Guarantee, Limit: r.Limit, Cap: -1, Demand: make([]Demand, 0, len(r.Groups))}
		for _, g := range r.Groups {
			if g.Count <= 0 {
				continue
			}
			asked[name] += g.Count
			shape := g.Shape
			if shape == "" {
				shape = g.Req.String()
			}
			role.Demand = append(role.Demand, Demand{
				Req: g.Req, Counted: g.Req.Only(in.Counted), Shape: shape, Prio: g.Prio, Bound: g.Bound, Count: g.Count,
			})
		}
		fi.Roles[name] = role
	}
	Densify(fi, func(*Agent) Room { return Room{Capacity: in.Capacity} })
	out := Fill(fi)
	granted := make(map[string]int, len(in.Roles))
	for _, g := range out.Grants {
		granted[g.Role] += g.N
	}
	t := &Targets{Roles: make(map[string]Target, len(in.Roles)), Total: in.Total, Counted: in.Counted}
	for name, r := range in.Roles {
		alloc := out.Alloc[name]
		share := resources.DominantShare(alloc, in.Total, in.Counted)
		t.Roles[name] = Target{Alloc: alloc, Share: share, Key: resources.WeightedShare(share, r.Weight), Pods: granted[name], Asked: asked[name]}
	}
	return t
}

// Of returns a role's target.
func (t *Targets) Of(role string) (Target, bool) {
	if t == nil {
		return Target{}, false
	}
	tg, ok := t.Roles[role]
	return tg, ok
}

// Share returns the dominant share of an allocation, as targets measure it.
func (t *Targets) Share(alloc resources.Vector) float64 {
	return resources.DominantShare(alloc, t.Total, t.Counted)
}

// Verdict says where an allocation stands against a role's target.
type Verdict int

const (
	// Unknown: the role has no target yet (it appeared since they were computed).
	Unknown Verdict = iota
	// Below: the allocation is under the target's share.
	Below
	// At: the allocation's share equals the target's (within Epsilon).
	At
	// Above: the allocation is over the target's share.
	Above
)

func (v Verdict) String() string {
	switch v {
	case Below:
		return "below"
	case At:
		return "at"
	case Above:
		return "above"
	}
	return "unknown"
}

// Compare places an allocation of a role against the role's target.
func (t *Targets) Compare(role string, alloc resources.Vector) Verdict {
	tg, ok := t.Of(role)
	if !ok {
		return Unknown
	}
	s := t.Share(alloc)
	switch {
	case s < tg.Share-Epsilon:
		return Below
	case s > tg.Share+Epsilon:
		return Above
	}
	return At
}

// Admits reports whether a role holding alloc may take req and stay within
// its target.
func (t *Targets) Admits(role string, alloc, req resources.Vector) bool {
	v := t.Compare(role, alloc.Plus(req.Only(t.Counted)))
	return v == Below || v == At
}
