package fair

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// Placement judges nodes for pods beyond resources and the constraints a
// fill checks itself (selectors, affinity, taints). The Hetero plugin
// provides one, so that the fill places a pod on the hardware it can use and
// prefers — the GPU model a pod asks for, and CPU nodes before accelerator
// nodes for pods that need no accelerator — rather than on an agent the
// pod's Filter would turn down or its Score rank low. The agent a fill picks
// is usually the only node the pod's scheduling cycle sees (its offer).
type Placement interface {
	// For returns how a pod judges nodes, or nil when hardware does not
	// matter to it (the fill then keeps its cheap next fit).
	For(pod *v1.Pod) PodPlacement
}

// PodPlacement is one pod's judgement of nodes.
type PodPlacement interface {
	// Key identifies the judgement: pods with equal keys judge every node
	// alike.
	Key() string
	// Admits reports whether the pod may run on the node.
	Admits(node *v1.Node) bool
	// Score rates the node for the pod in [0, MaxPlacementScore], given the
	// requests of the pods bound or assumed on it. used is valid during
	// the call only: Score must neither keep nor modify it.
	Score(node *v1.Node, used resources.Vector) int64
}

// MaxPlacementScore is the best PodPlacement score (the framework's
// MaxNodeScore).
const MaxPlacementScore = fwk.MaxNodeScore

// HWCache computes pods' hardware judgements once per pod version: a fill
// reuses the previous fill's entry when the pod has not changed. Rotate
// keeps only the pods seen since the last rotation. Not safe for concurrent
// use.
type HWCache struct {
	placement Placement
	old, now  map[types.UID]hwEntry
}

type hwEntry struct {
	rv string
	pp PodPlacement
}

// NewHWCache returns a cache over p, starting from the entries of prev (may
// be nil) that are seen again.
func NewHWCache(p Placement, prev *HWCache) *HWCache {
	c := &HWCache{placement: p, now: map[types.UID]hwEntry{}}
	if prev != nil {
		c.old = prev.now
	}
	return c
}

// Of returns a pod's hardware judgement, nil when hardware does not matter
// to it or no plugin judges hardware.
func (c *HWCache) Of(pod *v1.Pod) PodPlacement {
	if c == nil || c.placement == nil {
		return nil
	}
	if e, ok := c.old[pod.UID]; ok && e.rv == pod.ResourceVersion {
		c.now[pod.UID] = e
		return e.pp
	}
	if e, ok := c.now[pod.UID]; ok && e.rv == pod.ResourceVersion {
		return e.pp
	}
	e := hwEntry{rv: pod.ResourceVersion, pp: c.placement.For(pod)}
	c.now[pod.UID] = e
	return e.pp
}

// hwAdmits reports whether the pod's hardware allows the agent.
func hwAdmits(d *Demand, a *Agent) bool {
	if d.HW == nil || a.Node == nil {
		return true
	}
	if a.hwOK == nil {
		a.hwOK = map[string]bool{}
	}
	k := d.HW.Key()
	ok, seen := a.hwOK[k]
	if !seen {
		ok = d.HW.Admits(a.Node)
		a.hwOK[k] = ok
	}
	return ok
}

// placeByHardware picks, among the agents that admit the pod, the one its
// hardware scores highest: the role's last agent on a tie (several pods
// pack into one offer), then the first from the cursor. A best score ends
// the search at once, so pods that prefer the common case (a CPU pod on a
// node without accelerators) cost next fit's amortised O(1). With agents
// offered to roles (Input.OfferedTo), equal scores go to an agent offered
// to the role, then to one offered to nobody: hardware first, then the
// master's offers.
func (f *filler) placeByHardware(role string, d *Demand, last *Agent) *Agent {
	in := f.in
	var best *Agent
	bestScore, bestTier := int64(-1), -1
	consider := func(a *Agent) bool { // reports a best possible choice
		s, t := d.HW.Score(a.Node, f.usedNow(a)), f.tier(a, role)
		if s > bestScore || s == bestScore && t > bestTier {
			best, bestScore, bestTier = a, s, t
		}
		return s >= MaxPlacementScore && t >= tierNobody
	}
	if last != nil && admits(in, last, role, d) && consider(last) {
		return best
	}
	for _, a := range f.offered[role] {
		if a != last && admits(in, a, role, d) && consider(a) {
			return best
		}
	}
	n := len(in.Agents)
	at := -1
	for i := 0; i < n; i++ {
		j := (f.cursor + i) % n
		a := in.Agents[j]
		if a == last || !admits(in, a, role, d) {
			continue
		}
		prev := best
		done := consider(a)
		if best != prev {
			at = j
		}
		if done {
			break
		}
	}
	if at >= 0 && best == in.Agents[at] {
		f.cursor = at
	}
	return best
}

// Tiers of an agent for a role when agents are offered to roles.
const (
	tierOther  = 0 // offered to another role
	tierNobody = 1 // offered to no role (or no offers are known)
	tierOwn    = 2 // offered to the role
)

func (f *filler) tier(a *Agent, role string) int {
	switch r := f.in.OfferedTo[a.Name]; r {
	case "":
		return tierNobody
	case role:
		return tierOwn
	default:
		return tierOther
	}
}

// usedNow is what the agent's node holds in this fill: the requests of its
// pods, and over the resources pending pods ask for, whatever is not free
// (outstanding offers and this fill's grants included).
// The vector is the filler's scratch, valid until the next call (Score
// does not keep it): scoring every candidate agent allocates nothing.
func (f *filler) usedNow(a *Agent) resources.Vector {
	if f.used == nil {
		f.used = resources.Vector{}
	}
	u := f.used
	clear(u)
	for k, n := range a.Used {
		u[k] = n
	}
	for j, k := range f.in.Dims.Names {
		u[k] = resources.AddSat(a.Alloc[k], -a.Free[j])
	}
	return u
}
