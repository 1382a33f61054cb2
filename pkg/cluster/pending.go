package cluster

import (
	"k8s.io/apimachinery/pkg/types"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// pending holds a role's pods waiting for this scheduler, grouped by request
// shape and priority: the pods of a group fit alike, so the fairness gate
// asks once per group, not once per pod.
type pending struct {
	count     int
	nominated int
	groups    map[groupKey]*group
	// demand is the state-wide sum of the requests of pending pods, shared
	// by every role's pending set and kept current by add and remove.
	demand resources.Vector
}

type groupKey struct {
	shape string
	prio  int32
}

type group struct {
	req  resources.Vector
	prio int32
	pods map[types.UID]*Pod
	// blocked counts the pods marked blocked while freedVersion was epoch;
	// when capacity is freed (a newer freedVersion) they are all unblocked.
	epoch   uint64
	blocked int
}

func (s *State) pendingOf(role string) *pending {
	pd := s.pendingBy[role]
	if pd == nil {
		pd = &pending{groups: map[groupKey]*group{}, demand: s.pendingDemand}
		s.pendingBy[role] = pd
	}
	return pd
}

func (pd *pending) add(p *Pod) {
	k := groupKey{p.Shape, p.Priority}
	g := pd.groups[k]
	if g == nil {
		g = &group{req: p.Request, prio: p.Priority, pods: map[types.UID]*Pod{}}
		pd.groups[k] = g
	}
	if _, ok := g.pods[p.UID]; ok {
		return
	}
	g.pods[p.UID] = p
	pd.demand.Add(g.req)
	pd.count++
	if p.Nominated {
		pd.nominated++
	}
}

func (pd *pending) remove(p *Pod, freedVersion uint64) {
	k := groupKey{p.Shape, p.Priority}
	g := pd.groups[k]
	if g == nil {
		return
	}
	if _, ok := g.pods[p.UID]; !ok {
		return
	}
	delete(g.pods, p.UID)
	pd.demand.Sub(g.req)
	pd.count--
	if p.Nominated {
		pd.nominated--
	}
	if g.epoch == freedVersion && p.BlockedAt > freedVersion {
		g.blocked--
	}
	if len(g.pods) == 0 {
		delete(pd.groups, k)
	}
}

// markBlocked counts a pod of the group as blocked in the current epoch.
func (pd *pending) markBlocked(p *Pod, freedVersion uint64) {
	g := pd.groups[groupKey{p.Shape, p.Priority}]
	if g == nil {
		return
	}
	if g.epoch != freedVersion {
		g.epoch, g.blocked = freedVersion, 0
	}
	g.blocked++
}

// unblocked is the number of the group's pods not blocked now.
func (g *group) unblocked(freedVersion uint64) int {
	if g.epoch == freedVersion {
		return len(g.pods) - g.blocked
	}
	return len(g.pods)
}
