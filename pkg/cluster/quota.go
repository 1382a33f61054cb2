package cluster

import (
	"fmt"
	"sort"
	"strings"

	v1 "k8s.io/api/core/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/roles"
)

// LimitError says that a pod would take a role past its limit.
type LimitError struct {
	Role     string // the role whose limit is hit (the pod's role or an ancestor)
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

// HeadroomError says that a pod would take resources still guaranteed to
// other roles while its own role is above its guarantee.
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

// CheckQuota checks a pod's request against the limits of its role and the
// role's ancestors, and against the guarantees of other roles. It returns a
// *LimitError or *HeadroomError, or nil. A preemptor whose nomination
// already counts for its role passes.
func (s *State) CheckQuota(pod *v1.Pod, role string, req resources.Vector) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if p, ok := s.pods[pod.UID]; ok && p.Nominated {
		return nil
	}
	return s.checkQuotaLocked(role, req)
}

func (s *State) checkQuotaLocked(role string, req resources.Vector) error {
	for r := role; r != ""; r = parentOf(r) {
		_, limit := s.quotaLocked(r)
		if limit == nil {
			continue
		}
		used := s.sorter.SubtreeView(r)
		for _, name := range sortedNames(limit) {
			if req[name] > 0 && s.config.counts(name) && used[name]+req[name] > limit[name] {
				return &LimitError{Role: r, Resource: name, Used: used[name], Asked: req[name], Limit: limit[name]}
			}
		}
	}
	return s.checkHeadroomLocked(role, req)
}

// checkHeadroomLocked enforces guarantees: the resources still guaranteed to
// other roles (guarantee minus use, summed) stay free when a role that would
// be above its own guarantee takes more. Guarantees of the role's ancestors
// and descendants are its own: its use counts toward them.
func (s *State) checkHeadroomLocked(role string, req resources.Vector) error {
	if !s.hasGuaranteesLocked() {
		return nil
	}
	own := map[string]bool{role: true}
	for _, a := range roles.Ancestors(role) {
		own[a] = true
	}
	ownG, _ := s.quotaLocked(role)
	ownUsed := s.sorter.SubtreeView(role)
	var unmet resources.Vector
	for _, r := range s.sorter.Roles() {
		if own[r] || isDescendant(r, role) {
			continue
		}
		g, _ := s.quotaLocked(r)
		if g == nil {
			continue
		}
		used := s.sorter.SubtreeView(r)
		for name, amount := range g {
			if d := amount - used[name]; d > 0 {
				if unmet == nil {
					unmet = resources.Vector{}
				}
				unmet[name] += d
			}
		}
	}
	if unmet == nil {
		return nil
	}
	free := s.freeLocked()
	for _, name := range sortedNames(req) {
		asked := req[name]
		if asked <= 0 || !s.config.counts(name) || unmet[name] <= 0 || ownUsed[name]+asked <= ownG[name] {
			continue // within its own guarantee, or nothing guaranteed to others
		}
		if free[name]-asked < unmet[name] {
			return &HeadroomError{Role: role, Resource: name, Asked: asked, Free: free[name], Guaranteed: unmet[name]}
		}
	}
	return nil
}

func (s *State) hasGuaranteesLocked() bool {
	for _, o := range s.config.Roles {
		if len(o.Guarantee) > 0 {
			return true
		}
	}
	for _, q := range s.quotas {
		if len(q.min) > 0 {
			return true
		}
	}
	return false
}

// freeLocked is the cluster's free capacity: allocatable minus use over the
// schedulable nodes.
func (s *State) freeLocked() resources.Vector {
	free := s.total.Clone()
	free.Sub(s.usedSched)
	return free
}

// parentOf returns the parent of a hierarchical role ("" at the top).
func parentOf(role string) string {
	if i := strings.LastIndex(role, roles.Separator); i > 0 {
		return role[:i]
	}
	return ""
}

func isDescendant(r, ancestor string) bool {
	return len(r) > len(ancestor) && r[:len(ancestor)] == ancestor && r[len(ancestor)] == '/'
}

func sortedNames(v resources.Vector) []v1.ResourceName {
	out := make([]v1.ResourceName, 0, len(v))
	for k := range v {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
