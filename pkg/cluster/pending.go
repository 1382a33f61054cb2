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
		pd = &pending{groups: map[groupKey]*group{}}
		s.pendingBy[role] = pd
	}
	return pd
}

// add puts a pod in the set; it reports whether it was not there yet.
func (pd *pending) add(p *Pod) bool {
	k := groupKey{p.Shape, p.Priority}
	g := pd.groups[k]
	if g == nil {
		g = &group{req: p.Request, prio: p.Priority, pods: map[types.UID]*Pod{}}
		pd.groups[k] = g
	}
	if _, ok := g.pods[p.UID]; ok {
		return false
	}
	g.pods[p.UID] = p
	pd.count++
	if p.Nominated {
		pd.nominated++
	}
	return true
}

// remove takes a pod out of the set; it reports whether it was there.
func (pd *pending) remove(p *Pod, freedVersion uint64) bool {
	k := groupKey{p.Shape, p.Priority}
	g := pd.groups[k]
	if g == nil {
		return false
	}
	if _, ok := g.pods[p.UID]; !ok {
		return false
	}
	delete(g.pods, p.UID)
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
	return true
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
