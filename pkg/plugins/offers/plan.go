package offers

import (
	"maps"
	"sort"
	"sync"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/allocator"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/offer"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// A Mesos master offers all the free resources of an agent to one role at a
// time. Left alone, the role offered an agent first would take all of it
// that fits its pods — within its fair target overall, but not in the mix
// that leaves each agent usable by the others (a role of memory-heavy pods
// alone on an agent strands its CPUs). So with a master, the plugin plans
// where the pending pods of every role would go, exactly as the embedded
// allocator would offer them (allocator.Plan: DRF order, each role capped at
// its fair target, what other frameworks hold left out), and a role may use
// an offer only for its own planned part and what nobody's plan needs. The
// rest of the agent is declined or left out of the ACCEPT (refuse_seconds
// 0), so the master offers it next to the role it is planned for.
//
// Which agent holds which role's part does not matter for fairness, only
// how much of each: so the plan puts each role's part on the agents offered
// to it at the moment first (fair.Input.OfferedTo). A role offered enough
// agents takes its whole part in one allocation round, rather than waiting
// for the master to offer each agent to each role planned there.

// plan is the part of each agent the last plan gave to each role, less what
// the role has reserved there since.
type plan struct {
	planner *allocator.Allocator
	held    func(node string) resources.Vector
	// holding calls fn for every pod of a role placed on a node.
	holding func(fn func(node, role string, req resources.Vector))

	mu      sync.Mutex
	version uint64                                 // state version planned at
	offered map[string]string                      // node -> role offered it, planned with
	rooms   map[string]map[string]resources.Vector // node -> role -> planned room left
}

// refresh plans again when the cluster or the roles the nodes are offered
// to (node -> role) changed since the last plan. A role's room on a node is
// what the plan gives its pods there less what its pods hold there now.
func (p *plan) refresh(version uint64, offered map[string]string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rooms != nil && p.version == version && maps.Equal(p.offered, offered) {
		return
	}
	out := p.planner.Plan(p.held, offered)
	rooms := map[string]map[string]resources.Vector{}
	for _, g := range out.Grants {
		if rooms[g.Agent.Name] == nil {
			rooms[g.Agent.Name] = map[string]resources.Vector{}
		}
		rooms[g.Agent.Name][g.Role] = out.Dims.Vector(g.DReq)
	}
	// need is what each role's plan asks for in all, less all it holds.
	need := map[string]resources.Vector{}
	for _, byRole := range rooms {
		for r, room := range byRole {
			if need[r] == nil {
				need[r] = resources.Vector{}
			}
			need[r].Add(room)
		}
	}
	p.holding(func(node, role string, req resources.Vector) {
		if room := rooms[node][role]; room != nil {
			room.Sub(req)
		}
		if n := need[role]; n != nil {
			n.Sub(req)
		}
	})
	// A role's rooms never add up to more than it still needs: where its
	// pods landed elsewhere than planned (placed before the plan, or on an
	// offer the plan did not foresee), the room planned for them here is
	// no longer theirs, and holding it for them would strand it — no other
	// role could use it, and they, at their target, will not. What a role
	// still needs is kept on the nodes offered to it first.
	type slot struct{ node, role string }
	slots := make([]slot, 0, len(rooms))
	for n, byRole := range rooms {
		for r := range byRole {
			slots = append(slots, slot{n, r})
		}
	}
	sort.Slice(slots, func(i, j int) bool {
		x, y := slots[i], slots[j]
		if a, b := offered[x.node] == x.role, offered[y.node] == y.role; a != b {
			return a
		}
		if x.node != y.node {
			return x.node < y.node
		}
		return x.role < y.role
	})
	for _, s := range slots {
		room := rooms[s.node][s.role].ClampZero()
		left := need[s.role].ClampZero()
		room = room.Min(left)
		left.Sub(room)
		need[s.role] = left
		rooms[s.node][s.role] = room
	}
	p.rooms, p.version, p.offered = rooms, version, offered
}

// others sums the room planned on a node for roles other than role.
func (p *plan) others(node, role string) resources.Vector {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := resources.Vector{}
	for r, room := range p.rooms[node] {
		if r != role {
			out.Add(room)
		}
	}
	return out
}

// take records that a role reserved req on a node: its planned room there
// shrinks (never below zero).
func (p *plan) take(node, role string, req resources.Vector) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if room := p.rooms[node][role]; room != nil {
		room.Sub(req)
		room.ClampZero()
	}
}

// usable returns what a role may use of its offers' free resources on a
// node: all of it, less the room planned there for other roles.
func (p *plan) usable(node, role string, free resources.Vector) resources.Vector {
	if p == nil {
		return free
	}
	room := free.Clone()
	room.Sub(p.others(node, role))
	return room
}

// offeredTo sums the free resources of a role's offers on a node.
func offeredTo(views []offer.View, role string) resources.Vector {
	out := resources.Vector{}
	for _, v := range views {
		if v.Role == role {
			out.Add(v.Free)
		}
	}
	return out
}
