package cluster

import (
	"context"
	"sync/atomic"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// Placement judges nodes for pods beyond resources and the constraints the
// embedded allocator checks itself (selectors, affinity, taints). The
// Hetero plugin provides one, so that the allocator offers a role the
// hardware its pods can use and prefer — the GPU model a pod asks for, and
// CPU nodes before accelerator nodes for pods that need no accelerator —
// rather than an agent the pod's Filter would turn down or its Score rank
// low. It is consulted by the allocator only: the scheduling cycle runs the
// plugin itself.
type Placement interface {
	// For returns how a pod judges nodes, or nil when hardware does not
	// matter to it (the allocator then keeps its cheap next-fit).
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
	// requests of the pods bound or assumed on it.
	Score(node *v1.Node, used resources.Vector) int64
}

// MaxPlacementScore is the best PodPlacement score (the framework's
// MaxNodeScore).
const MaxPlacementScore = fwk.MaxNodeScore

// PlacementSlot holds the Placement of one profile: the plugin that judges
// hardware sets it, the allocator reads it every cycle, in whichever order
// the framework creates the plugins.
type PlacementSlot struct{ p atomic.Pointer[placementBox] }

type placementBox struct{ p Placement }

// Set installs the profile's Placement.
func (s *PlacementSlot) Set(p Placement) { s.p.Store(&placementBox{p}) }

// Get returns the profile's Placement, or nil if no plugin set one.
func (s *PlacementSlot) Get() Placement {
	if s == nil {
		return nil
	}
	if b := s.p.Load(); b != nil {
		return b.p
	}
	return nil
}

// PlacementSlot returns the placement slot of the handle's profile. It
// attaches nothing to the informers: a profile with Hetero but neither DRF
// nor MesosOffers pays nothing for it. It is dropped when ctx ends.
func (p *Provider) PlacementSlot(ctx context.Context, h fwk.Handle) *PlacementSlot {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.slotLocked(h)
	go func() {
		<-ctx.Done()
		p.mu.Lock()
		delete(p.slots, h)
		p.mu.Unlock()
	}()
	return s
}

func (p *Provider) slotLocked(h fwk.Handle) *PlacementSlot {
	if s, ok := p.slots[h]; ok {
		return s
	}
	s := &PlacementSlot{}
	p.slots[h] = s
	return s
}

// Placement returns the Placement of the state's profile, or nil.
func (s *State) Placement() Placement { return s.placement.Get() }

// SetPlacementSlot makes the state read its Placement from slot
// (Provider.For does this for the plugins' states).
func (s *State) SetPlacementSlot(slot *PlacementSlot) { s.placement = slot }
