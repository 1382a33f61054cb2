package allocator

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/cluster"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// The embedded allocator places each pending pod on an agent itself (Mesos'
// allocator offers agents; here the offer is sized by the pods it is meant
// for), so the agent it picks is, most of the time, the only node the pod's
// scheduling cycle sees. Left to next fit, it would hand a CPU pod an
// accelerator node and a pod asking for one GPU model a node of another,
// and the Hetero plugin could only decline. So when a plugin of the profile
// judges hardware (cluster.Placement: Hetero), the allocator asks it:
// agents the pod's hardware rejects are skipped, and among the others the
// pod goes where its hardware score is highest.

// hwCache computes pods' hardware judgements once per pod version: a cycle
// reuses the previous cycle's entry when the pod has not changed, and keeps
// only the pods it saw. One cycle uses it (under Allocator.hwMu).
type hwCache struct {
	placement cluster.Placement
	old, now  map[types.UID]hwEntry
}

// of returns a pod's hardware judgement, nil when hardware does not matter
// to it or no plugin judges hardware.
func (c *hwCache) of(pod *v1.Pod) cluster.PodPlacement {
	if c.placement == nil {
		return nil
	}
	if e, ok := c.old[pod.UID]; ok && e.rv == pod.ResourceVersion {
		c.now[pod.UID] = e
		return e.pp
	}
	e := hwEntry{rv: pod.ResourceVersion, pp: c.placement.For(pod)}
	c.now[pod.UID] = e
	return e.pp
}

// hwAdmits reports whether the pod's hardware allows the agent.
func hwAdmits(d demand, a *agent) bool {
	if d.hw == nil {
		return true
	}
	if a.hwOK == nil {
		a.hwOK = map[string]bool{}
	}
	k := d.hw.Key()
	ok, seen := a.hwOK[k]
	if !seen {
		ok = d.hw.Admits(a.node)
		a.hwOK[k] = ok
	}
	return ok
}

// placeByHardware picks, among the agents that admit the pod, the one its
// hardware scores highest: the role's last agent on a tie (several pods
// pack into one offer), then the first from the cursor. A best score ends
// the search at once, so pods that prefer the common case (a CPU pod on a
// node without accelerators) cost next fit's amortised O(1).
func placeByHardware(in *cycleIn, role string, d demand, last *agent, cursor *int) *agent {
	var best *agent
	bestScore := int64(-1)
	if last != nil && admits(in, last, role, d) {
		best, bestScore = last, d.hw.Score(last.node, last.usedNow(in))
		if bestScore >= cluster.MaxPlacementScore {
			return best
		}
	}
	n := len(in.agents)
	at := -1
	for i := 0; i < n; i++ {
		j := (*cursor + i) % n
		a := in.agents[j]
		if a == last || !admits(in, a, role, d) {
			continue
		}
		s := d.hw.Score(a.node, a.usedNow(in))
		if s > bestScore {
			best, bestScore, at = a, s, j
			if s >= cluster.MaxPlacementScore {
				break
			}
		}
	}
	if at >= 0 {
		*cursor = at
	}
	return best
}

// usedNow is what the agent's node holds this cycle: the requests of its
// pods, and over the resources pending pods ask for, whatever is not free
// (outstanding offers and this cycle's grants included).
func (a *agent) usedNow(in *cycleIn) resources.Vector {
	u := a.used.Clone()
	for j, k := range in.dims.names {
		u[k] = a.alloc[k] - a.free[j]
	}
	return u
}
