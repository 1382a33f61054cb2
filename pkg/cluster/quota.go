package cluster

import (
	v1 "k8s.io/api/core/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/quota"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// CheckQuota checks a pod's request against the limits of its role and the
// role's ancestors, and against the guarantees of other roles (the rules of
// pkg/quota). It returns a *quota.LimitError or *quota.HeadroomError, or
// nil. A preemptor whose nomination already counts for its role passes.
func (s *State) CheckQuota(pod *v1.Pod, role string, req resources.Vector) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if p, ok := s.pods[pod.UID]; ok && p.Nominated {
		return nil
	}
	if err := quota.CheckLimits(role, req, limitView{s}, s.conf().counts); err != nil {
		return err
	}
	if err := s.checkHeadroomLocked(role, req); err != nil {
		return err
	}
	return nil
}

// limitView reads limits and subtree use for quota.CheckLimits.
type limitView struct{ s *State }

func (v limitView) Limit(role string) resources.Vector {
	_, l := v.s.quotaLocked(role)
	return l
}

func (v limitView) Used(role string) resources.Vector { return v.s.sorter.SubtreeView(role) }

// checkHeadroomLocked enforces guarantees (quota.CheckHeadroom): the
// resources still guaranteed to other roles stay free. Guarantees of the
// role's ancestors and descendants are its own: its use counts toward them.
func (s *State) checkHeadroomLocked(role string, req resources.Vector) *quota.HeadroomError {
	if !s.hasGuaranteesLocked() {
		return nil
	}
	var others resources.Vector
	for _, r := range s.sorter.Roles() {
		if quota.SameLine(r, role) {
			continue
		}
		g, _ := s.quotaLocked(r)
		if u := quota.Unmet(g, s.sorter.SubtreeView(r)); u != nil {
			if others == nil {
				others = resources.Vector{}
			}
			others.Add(u)
		}
	}
	if others == nil {
		return nil
	}
	ownG, _ := s.quotaLocked(role)
	return quota.CheckHeadroom(role, req, quota.Unmet(ownG, s.sorter.SubtreeView(role)), others, s.freeLocked(), s.conf().counts)
}

func (s *State) hasGuaranteesLocked() bool {
	for _, o := range s.conf().Roles {
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

// belowGuaranteeLocked reports whether a role holds less than its guarantee
// of some resource.
func (s *State) belowGuaranteeLocked(role string) bool {
	g, _ := s.quotaLocked(role)
	return quota.Below(g, s.sorter.SubtreeView(role))
}
