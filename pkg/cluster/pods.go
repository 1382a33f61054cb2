package cluster

import (
	"maps"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// UpsertPod adds or updates a pod from the informer.
func (s *State) UpsertPod(pod *v1.Pod) {
	if resources.IsTerminal(pod) {
		s.DeletePod(pod.UID)
		return
	}
	s.mu.Lock()
	if _, dead := s.gone[pod.UID]; dead {
		// A copy of a pod deleted meanwhile (a plugin's, from the
		// scheduling queue): it must not come back as a ghost.
		s.mu.Unlock()
		return
	}
	p, ok := s.pods[pod.UID]
	if !ok {
		p = s.newPodLocked(pod)
	}
	p.Object = pod
	p.Gated = pod.DeletionTimestamp != nil || len(pod.Spec.SchedulingGates) > 0
	freed := false
	if p.Evicting && pod.DeletionTimestamp == nil && time.Since(p.EvictingSince) > evictionGrace {
		// The eviction did not happen: the pod counts for its role again.
		p.Evicting = false
		if p.Role != "" && p.NodeName != "" {
			s.sorter.Allocate(p.Role, s.conf().only(p.Request))
			s.countPlacedLocked(p, 1)
		}
	}
	if p.Nominated && pod.Status.NominatedNodeName == "" && pod.Spec.NodeName == "" && time.Since(p.NominatedSince) > evictionGrace {
		s.clearNominationLocked(p)
	}
	switch {
	case pod.Spec.NodeName != "" && (p.NodeName != pod.Spec.NodeName || p.Assumed):
		// Bound (or bound elsewhere than assumed).
		if p.NodeName != "" {
			s.unplaceLocked(p)
		}
		s.setPendingLocked(p, false)
		s.clearNominationLocked(p)
		p.NodeName, p.Assumed = pod.Spec.NodeName, false
		s.placeLocked(p)
	case pod.Spec.NodeName == "" && p.NodeName == "":
		s.setPendingLocked(p, p.Pending())
	case pod.Spec.NodeName == "" && !p.Assumed:
		// An informer shows a bound pod as unbound: cannot happen for a real
		// API server, but keep the books straight if it does.
		s.unplaceLocked(p)
		p.NodeName = ""
		s.setPendingLocked(p, p.Pending())
		freed = true
	}
	s.changedLocked(freed)
	s.mu.Unlock()
	s.notify()
}

// DeletePod removes a pod (deleted, or terminal).
func (s *State) DeletePod(uid types.UID) {
	s.mu.Lock()
	s.rememberGoneLocked(uid)
	p, ok := s.pods[uid]
	if !ok {
		s.mu.Unlock()
		return
	}
	if p.NodeName != "" {
		s.unplaceLocked(p)
	}
	s.setPendingLocked(p, false)
	s.clearNominationLocked(p)
	delete(s.pods, uid)
	if m := s.byNS[p.Namespace]; m != nil {
		delete(m, uid)
		if len(m) == 0 {
			delete(s.byNS, p.Namespace)
		}
	}
	s.changedLocked(true)
	s.mu.Unlock()
	s.notify()
}

// goneTTL is how long a deleted pod's UID is remembered: far longer than
// any scheduling cycle that may still hold a copy of the pod.
const goneTTL = 10 * time.Minute

// rememberGoneLocked records a deleted pod's UID (UIDs are never reused),
// and forgets those older than goneTTL, at most once per goneTTL/10.
func (s *State) rememberGoneLocked(uid types.UID) {
	now := time.Now()
	s.gone[uid] = now
	if now.Sub(s.gonePruned) < goneTTL/10 {
		return
	}
	s.gonePruned = now
	for u, at := range s.gone {
		if now.Sub(at) > goneTTL {
			delete(s.gone, u)
		}
	}
}

func (s *State) newPodLocked(pod *v1.Pod) *Pod {
	p := &Pod{
		UID:       pod.UID,
		Namespace: pod.Namespace,
		Name:      pod.Name,
		Request:   resources.PodRequests(pod),
		Ports:     resources.HostPorts(pod),
		Created:   pod.CreationTimestamp.Time,
		Ours:      pod.Spec.SchedulerName == s.schedulerName,
		Object:    pod,
	}
	p.Shape = p.Request.String()
	if pod.Spec.Priority != nil {
		p.Priority = *pod.Spec.Priority
	}
	p.Role, p.RoleErr = s.roleOfLocked(pod.Namespace)
	if p.RoleErr != nil {
		p.Role = ""
	} else {
		s.sorter.Add(p.Role)
	}
	s.pods[pod.UID] = p
	if s.byNS[pod.Namespace] == nil {
		s.byNS[pod.Namespace] = map[types.UID]*Pod{}
	}
	s.byNS[pod.Namespace][pod.UID] = p
	return p
}

// placeLocked adds a placed pod's requests to its node and role.
func (s *State) placeLocked(p *Pod) {
	if s.byNode[p.NodeName] == nil {
		s.byNode[p.NodeName] = map[types.UID]*Pod{}
	}
	s.byNode[p.NodeName][p.UID] = p
	s.capVersion++
	if n := s.nodes[p.NodeName]; n != nil {
		// Copy on write: copies of the node handed out keep their vectors.
		n.Used = n.Used.Plus(p.Request)
		if p.Role == "" {
			n.UsedNoRole = n.UsedNoRole.Plus(p.Request)
		}
		if n.Schedulable {
			s.usedSched.Add(p.Request)
			if p.Role == "" {
				s.noRoleSched.Add(p.Request)
			}
		}
		if len(p.Ports) > 0 {
			n.Ports = maps.Clone(n.Ports)
			for _, port := range p.Ports {
				n.Ports[port]++
			}
		}
	}
	if p.Role == "" || !p.Evicting {
		s.countPlacedLocked(p, 1)
		s.noteOffNodeLocked(p)
	}
	if p.Role != "" && !p.Evicting {
		s.sorter.Allocate(p.Role, s.conf().only(p.Request))
	}
}

// unplaceLocked removes a placed pod's requests from its node and role.
func (s *State) unplaceLocked(p *Pod) {
	if m := s.byNode[p.NodeName]; m != nil {
		delete(m, p.UID)
		if len(m) == 0 {
			delete(s.byNode, p.NodeName)
		}
	}
	s.capVersion++
	if n := s.nodes[p.NodeName]; n != nil {
		n.Used = n.Used.Minus(p.Request) // copy on write, as in placeLocked
		if p.Role == "" {
			n.UsedNoRole = n.UsedNoRole.Minus(p.Request)
		}
		if n.Schedulable {
			s.usedSched.Sub(p.Request)
			if p.Role == "" {
				s.noRoleSched.Sub(p.Request)
			}
		}
		if len(p.Ports) > 0 {
			n.Ports = maps.Clone(n.Ports)
			for _, port := range p.Ports {
				if n.Ports[port]--; n.Ports[port] <= 0 {
					delete(n.Ports, port)
				}
			}
		}
	}
	if p.Role == "" || !p.Evicting {
		s.countPlacedLocked(p, -1)
		s.noteOffNodeLocked(p)
	}
	if p.Role != "" && !p.Evicting {
		s.sorter.Unallocate(p.Role, s.conf().only(p.Request))
	}
}

// setPendingLocked puts a pod in or out of its role's pending set (and its
// demand, unless it is blocked).
func (s *State) setPendingLocked(p *Pod, pending bool) {
	if p.Role == "" {
		return
	}
	pd := s.pendingOf(p.Role)
	if pending {
		if pd.add(p) && !s.blockedLocked(p) && s.fitsSomeNodeLocked(p) {
			s.noteDemandLocked(p, 1)
		}
	} else if pd.remove(p, s.freedVersion) && !s.blockedLocked(p) && s.fitsSomeNodeLocked(p) {
		s.noteDemandLocked(p, -1)
	}
	s.sorter.SetActive(p.Role, pd.count > 0)
}

// reroleLocked moves the pods of a namespace whose role changed.
func (s *State) reroleLocked(namespace string) {
	role, err := s.roleOfLocked(namespace)
	for _, p := range s.byNS[namespace] {
		if p.Role == role && p.RoleErr == nil && err == nil {
			continue
		}
		pending := p.Pending()
		placed := p.NodeName != ""
		s.clearNominationLocked(p)
		if placed {
			s.unplaceLocked(p)
		}
		s.setPendingLocked(p, false)
		p.Role, p.RoleErr = role, err
		if err != nil {
			p.Role = ""
		} else {
			s.sorter.Add(role)
		}
		if placed {
			s.placeLocked(p)
		}
		s.setPendingLocked(p, pending)
	}
}
