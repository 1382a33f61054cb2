package cluster

import (
	"fmt"
	"sort"

	v1 "k8s.io/api/core/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/roles"
)

// RoleConfig is the part of the DRF plugin's args that the state needs.
type RoleConfig struct {
	// Resources count in allocations; Excluded count for limits but not shares.
	Resources []v1.ResourceName
	Excluded  []v1.ResourceName
	// Roles override weights, guarantees and limits per role.
	Roles map[string]RoleOverride
}

// RoleOverride is the configuration of one role from args.
type RoleOverride struct {
	Weight    float64          // 0: not set
	Guarantee resources.Vector // nil: not set
	Limit     resources.Vector // nil: not set
}

// Counted returns the resources that count for dominant shares.
func (c RoleConfig) Counted() []v1.ResourceName {
	return resources.Counted(c.Resources, c.Excluded)
}

func (c RoleConfig) withDefaults() RoleConfig {
	if len(c.Resources) == 0 {
		c.Resources = []v1.ResourceName{v1.ResourceCPU, v1.ResourceMemory}
	}
	return c
}

// counts reports whether a resource counts in allocations.
func (c RoleConfig) counts(name v1.ResourceName) bool {
	for _, r := range c.Resources {
		if r == name {
			return true
		}
	}
	return false
}

// only restricts a vector to the resources that count in allocations.
func (c RoleConfig) only(v resources.Vector) resources.Vector {
	return v.Only(c.Resources)
}

// UpsertNamespace records a namespace's role and weight.
func (s *State) UpsertNamespace(ns *v1.Namespace) {
	info := &namespaceInfo{}
	info.role, info.roleErr = roles.OfNamespace(ns.Name, ns.Labels, ns.Annotations)
	if w, ok := ns.Annotations[roles.AnnotationWeight]; ok {
		weight, err := roles.ParseWeight(w)
		if err != nil {
			info.wErr = fmt.Errorf("namespace %q annotation %s: %w", ns.Name, roles.AnnotationWeight, err)
		} else {
			info.weight = weight
		}
	}
	s.mu.Lock()
	old := s.namespaces[ns.Name]
	s.namespaces[ns.Name] = info
	if old != nil && old.role != "" {
		delete(s.roleNS[old.role], ns.Name)
	}
	if info.role != "" {
		if s.roleNS[info.role] == nil {
			s.roleNS[info.role] = map[string]bool{}
		}
		s.roleNS[info.role][ns.Name] = true
		s.sorter.Add(info.role)
	}
	s.reroleLocked(ns.Name)
	s.refreshWeightsLocked()
	s.epoch++
	s.changedLocked(true)
	s.mu.Unlock()
	s.notify()
}

// DeleteNamespace forgets a namespace.
func (s *State) DeleteNamespace(name string) {
	s.mu.Lock()
	if old := s.namespaces[name]; old != nil && old.role != "" {
		delete(s.roleNS[old.role], name)
	}
	delete(s.namespaces, name)
	s.reroleLocked(name)
	s.refreshWeightsLocked()
	s.epoch++
	s.changedLocked(false)
	s.mu.Unlock()
	s.notify()
}

// NamespaceError returns the configuration problem of a namespace, if any:
// a bad role label or a bad weight annotation.
func (s *State) NamespaceError(name string) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if ns, ok := s.namespaces[name]; ok {
		if ns.roleErr != nil {
			return ns.roleErr
		}
		return ns.wErr
	}
	if err := roles.ValidateName(name); err != nil {
		return fmt.Errorf("namespace %q: %w", name, err)
	}
	return nil
}

// refreshWeightsLocked sets every role's weight: from args if set, else the
// weight annotation of its namespaces (the first namespace by name that has
// a valid one, when several namespaces share the role), else 1.
func (s *State) refreshWeightsLocked() {
	for _, r := range s.sorter.Roles() {
		w := 0.0
		if o, ok := s.conf().Roles[r]; ok && o.Weight > 0 {
			w = o.Weight
		} else {
			names := make([]string, 0, len(s.roleNS[r]))
			for ns := range s.roleNS[r] {
				names = append(names, ns)
			}
			sort.Strings(names)
			for _, ns := range names {
				if info := s.namespaces[ns]; info != nil && info.weight > 0 {
					w = info.weight
					break
				}
			}
		}
		if w == 0 {
			w = 1
		}
		if s.sorter.Weight(r) != w {
			s.sorter.SetWeight(r, w)
		}
	}
}

// quotaLocked returns a role's guarantee and limit: from args if set there,
// else the sums of the min and max of the ElasticQuotas of its namespaces. A
// resource no ElasticQuota max names is unlimited.
func (s *State) quotaLocked(role string) (guarantee, limit resources.Vector) {
	o, hasArgs := s.conf().Roles[role]
	if hasArgs && o.Guarantee != nil {
		guarantee = o.Guarantee
	}
	if hasArgs && o.Limit != nil {
		limit = o.Limit
	}
	if guarantee != nil && limit != nil {
		return guarantee, limit
	}
	var gsum, lsum resources.Vector
	for ns := range s.roleNS[role] {
		q, ok := s.quotas[ns]
		if !ok {
			continue
		}
		if q.min != nil {
			if gsum == nil {
				gsum = resources.Vector{}
			}
			gsum.Add(q.min)
		}
		if q.max != nil {
			if lsum == nil {
				lsum = resources.Vector{}
			}
			lsum.Add(q.max)
		}
	}
	if guarantee == nil {
		guarantee = gsum
	}
	if limit == nil {
		limit = lsum
	}
	return guarantee, limit
}

// SetQuota records the ElasticQuota of a namespace (nil min/max: none).
func (s *State) SetQuota(namespace string, min, max v1.ResourceList) {
	s.mu.Lock()
	q := elasticQuota{}
	if min != nil {
		q.min = resources.FromList(min)
	}
	if max != nil {
		q.max = resources.FromList(max)
	}
	s.quotas[namespace] = q
	s.epoch++
	s.changedLocked(true)
	s.mu.Unlock()
	s.notify()
}

// DeleteQuota forgets the ElasticQuota of a namespace.
func (s *State) DeleteQuota(namespace string) {
	s.mu.Lock()
	delete(s.quotas, namespace)
	s.epoch++
	s.changedLocked(true)
	s.mu.Unlock()
	s.notify()
}
