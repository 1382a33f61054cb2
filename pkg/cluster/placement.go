package cluster

import (
	"context"
	"sync/atomic"

	fwk "k8s.io/kube-scheduler/framework"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/fair"
)

// PlacementSlot holds the hardware judgement (fair.Placement) of one
// profile: the plugin that judges hardware sets it, the allocator reads it
// every cycle, in whichever order the framework creates the plugins.
type PlacementSlot struct{ p atomic.Pointer[placementBox] }

type placementBox struct{ p fair.Placement }

// Set installs the profile's Placement.
func (s *PlacementSlot) Set(p fair.Placement) { s.p.Store(&placementBox{p}) }

// Get returns the profile's Placement, or nil if no plugin set one.
func (s *PlacementSlot) Get() fair.Placement {
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
	context.AfterFunc(ctx, func() {
		p.mu.Lock()
		delete(p.slots, h)
		p.mu.Unlock()
	})
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
func (s *State) Placement() fair.Placement { return s.placement.Get() }

// SetPlacementSlot makes the state read its Placement from slot
// (Provider.For does this for the plugins' states).
func (s *State) SetPlacementSlot(slot *PlacementSlot) { s.placement = slot }
