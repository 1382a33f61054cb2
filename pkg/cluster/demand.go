package cluster

import (
	"hash/maphash"
	"strconv"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// The fair targets are computed from what every role asks for: its placed
// pods and its pending pods that are not blocked, by shape and priority.
// The state keeps the placed ones counted by role and group as pods come
// and go, so building the targets' input costs one step per group, not one
// per pod; and it keeps a hash of that demand (a sum of one random number
// per pod's role, shape and priority) so that the targets are recomputed
// only when the demand changed: a pending pod that becomes placed leaves
// it as it was.

// placedGroup counts the placed pods of a role that fit alike.
type placedGroup struct {
	req   resources.Vector // requests over the resources that count in allocations
	shape string           // req.String()
	prio  int32
	n     int
}

// Pending pods that fit no node are left out of the hash, as they are out
// of the demand; the set of nodes is in the epoch.

// demandKey returns the hash of one pod's contribution to the demand.
func (s *State) demandKey(p *Pod) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	h.WriteString(p.Role)
	h.WriteByte(0)
	h.WriteString(p.Shape)
	h.WriteByte(0)
	h.WriteString(strconv.Itoa(int(p.Priority)))
	return h.Sum64() | 1 // never zero: every change moves the hash
}

// noteDemandLocked adds (d = 1) or removes (d = -1) a pod's contribution to
// the demand hash.
func (s *State) noteDemandLocked(p *Pod, d int) {
	s.demandHash += uint64(int64(d)) * s.demandKey(p)
}

// countPlacedLocked adds (d = 1) or removes (d = -1) a placed pod of a role
// from its role's placed groups and the demand hash.
func (s *State) countPlacedLocked(p *Pod, d int) {
	s.noteDemandLocked(p, d)
	if p.Role == "" {
		return
	}
	m := s.placedBy[p.Role]
	if m == nil {
		m = map[groupKey]*placedGroup{}
		s.placedBy[p.Role] = m
	}
	k := groupKey{p.Shape, p.Priority}
	g := m[k]
	if g == nil {
		req := s.conf().only(p.Request)
		g = &placedGroup{req: req, shape: req.String(), prio: p.Priority}
		m[k] = g
	}
	g.n += d
	if g.n <= 0 {
		delete(m, k)
		if len(m) == 0 {
			delete(s.placedBy, p.Role)
		}
	}
}

// noteOffNodeLocked changes the epoch when a role pod is placed on or taken
// off a node that takes no new pods (or one not known yet): the targets'
// capacity counts what such pods hold.
func (s *State) noteOffNodeLocked(p *Pod) {
	if n := s.nodes[p.NodeName]; p.Role != "" && (n == nil || !n.Schedulable) {
		s.epoch++
	}
}

// targetsKey identifies what the targets depend on: the demand hash, and
// versions of everything else (capacity, roles, quotas, weights, blocked
// pods released by freed capacity).
type targetsKey struct {
	demand   uint64
	epoch    uint64
	unblocks uint64
}

func (s *State) targetsKeyLocked() targetsKey {
	return targetsKey{demand: s.demandHash, epoch: s.epoch, unblocks: s.unblocks}
}
