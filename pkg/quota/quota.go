// Package quota holds the rules of guarantees and limits between roles, as
// pure functions: whether a request takes a role (or an ancestor) past its
// limit, whether it takes resources still guaranteed to other roles, and
// whether a role is below its guarantee. Every place that applies them — the
// DRF plugin's PreFilter, the fair-share engine (pkg/fair) and through it the
// embedded allocator and the Mesos-mode acceptance — calls these functions,
// so the rules cannot drift apart.
//
// The rules, as Mesos' quota (limits) and guarantees apply them:
//
//   - limit: for the role and each ancestor with a limit L, used + request
//     must stay within L in every counted resource the request asks for;
//   - headroom: the resources still guaranteed to other roles (guarantee
//     minus use, summed over the roles outside the requester's own line in
//     the role tree) stay free, unless the requester stays within its own
//     guarantee in that resource;
//   - guarantees come before fairness: a role below its guarantee is served
//     before roles that are not.
package quota

import (
	"fmt"
	"sort"
	"strings"

	v1 "k8s.io/api/core/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/roles"
)

// Parent returns the parent of a hierarchical role ("" at the top).
func Parent(role string) string {
	if i := strings.LastIndex(role, roles.Separator); i > 0 {
		return role[:i]
	}
	return ""
}

// IsDescendant reports whether r lies strictly below ancestor in the role tree.
func IsDescendant(r, ancestor string) bool {
	return len(r) > len(ancestor) && r[:len(ancestor)] == ancestor && r[len(ancestor):len(ancestor)+1] == roles.Separator
}

// SameLine reports whether a and b are the same role or one is an ancestor
// of the other: their guarantees and use count for each other.
func SameLine(a, b string) bool {
	return a == b || IsDescendant(a, b) || IsDescendant(b, a)
}

// LimitError says that a request would take a role past its limit.
type LimitError struct {
	Role     string // the role whose limit is hit (the requester or an ancestor)
	Resource v1.ResourceName
	Used     int64
	Asked    int64
	Limit    int64
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("role %q would exceed its limit of %s: used %s, pod asks %s, limit %s",
		e.Role, e.Resource, resources.Format(e.Resource, e.Used), resources.Format(e.Resource, e.Asked),
		resources.Format(e.Resource, e.Limit))
}

// HeadroomError says that a request would take resources still guaranteed to
// other roles while the requester would be above its own guarantee.
type HeadroomError struct {
	Role       string
	Resource   v1.ResourceName
	Asked      int64
	Free       int64
	Guaranteed int64 // still guaranteed to other roles (guarantee minus use)
}

func (e *HeadroomError) Error() string {
	return fmt.Sprintf("role %q is above its guarantee of %s and the pod asks %s, but only %s is free and %s of it is still guaranteed to other roles",
		e.Role, e.Resource, resources.Format(e.Resource, e.Asked), resources.Format(e.Resource, e.Free),
		resources.Format(e.Resource, e.Guaranteed))
}

// Limits gives the limit of a role and the use of its subtree (nil limit:
// none). The use must not be modified.
type Limits interface {
	Limit(role string) resources.Vector
	Used(role string) resources.Vector
}

// CheckLimits returns a *LimitError when req would take role or one of its
// ancestors past a limit in a resource that counts (counts nil: all count),
// nil otherwise. Resources are checked in name order, so the error is
// deterministic.
func CheckLimits(role string, req resources.Vector, l Limits, counts func(v1.ResourceName) bool) *LimitError {
	for r := role; r != ""; r = Parent(r) {
		limit := l.Limit(r)
		if limit == nil {
			continue
		}
		used := l.Used(r)
		for _, name := range SortedNames(limit) {
			asked := req[name]
			if asked <= 0 || (counts != nil && !counts(name)) {
				continue
			}
			if resources.AddSat(used[name], asked) > limit[name] {
				return &LimitError{Role: r, Resource: name, Used: used[name], Asked: asked, Limit: limit[name]}
			}
		}
	}
	return nil
}

// Unmet returns max(0, guarantee - used) per guaranteed resource (nil when
// nothing is unmet).
func Unmet(guarantee, used resources.Vector) resources.Vector {
	var out resources.Vector
	for name, g := range guarantee {
		if d := resources.AddSat(g, -used[name]); d > 0 {
			if out == nil {
				out = resources.Vector{}
			}
			out[name] = d
		}
	}
	return out
}

// Below reports whether used is below guarantee in some resource.
func Below(guarantee, used resources.Vector) bool {
	for name, g := range guarantee {
		if used[name] < g {
			return true
		}
	}
	return false
}

// CheckHeadroom returns a *HeadroomError when req would take resources that
// are still guaranteed to other roles (othersUnmet, summed) out of free,
// while the requester would be above its own guarantee (ownUnmet: what its
// guarantee still lacks, as Unmet gives it). Resources that do not count are
// skipped (counts nil: all count).
func CheckHeadroom(role string, req, ownUnmet, othersUnmet, free resources.Vector, counts func(v1.ResourceName) bool) *HeadroomError {
	for _, name := range SortedNames(req) {
		asked := req[name]
		if asked <= 0 || othersUnmet[name] <= 0 || (counts != nil && !counts(name)) {
			continue
		}
		if asked <= ownUnmet[name] {
			continue // within its own guarantee
		}
		if resources.AddSat(free[name], -asked) < othersUnmet[name] {
			return &HeadroomError{Role: role, Resource: name, Asked: asked, Free: free[name], Guaranteed: othersUnmet[name]}
		}
	}
	return nil
}

// SortedNames returns the names of v in order.
func SortedNames(v resources.Vector) []v1.ResourceName {
	out := make([]v1.ResourceName, 0, len(v))
	for k := range v {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
