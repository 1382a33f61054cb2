package hardware

import (
	"sort"
	"sync"
	"sync/atomic"

	v1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"
)

// Store keeps the hardware model of every node current. It is fed by
// informer events (nodes and ResourceSlices) and read on the scheduling hot
// path, where a read is a map lookup under a read lock: models are rebuilt
// when their sources change, never per pod. It is safe for concurrent use.
type Store struct {
	accelerators []v1.ResourceName
	drivers      map[string]bool

	mu     sync.RWMutex
	nodes  map[string]*v1.Node
	models map[string]*Node
	// slices maps a ResourceSlice name to its node and accelerator devices.
	slices map[string]sliceEntry
	// dra maps a node name to its accelerator devices, by slice name.
	dra map[string]map[string][]Device
	// devices maps each accelerator device to its node.
	devices map[DeviceID]string

	version atomic.Uint64
}

type sliceEntry struct {
	node    string
	devices []Device
}

// NewStore returns an empty store. accelerators are the extended resources
// that count as accelerators; drivers are the DRA drivers whose devices do.
func NewStore(accelerators []v1.ResourceName, drivers []string) *Store {
	d := make(map[string]bool, len(drivers))
	for _, name := range drivers {
		d[name] = true
	}
	return &Store{
		accelerators: append([]v1.ResourceName(nil), accelerators...), drivers: d,
		nodes: map[string]*v1.Node{}, models: map[string]*Node{}, slices: map[string]sliceEntry{},
		dra: map[string]map[string][]Device{}, devices: map[DeviceID]string{},
	}
}

// IsAcceleratorDriver reports whether a DRA driver's devices are accelerators.
func (s *Store) IsAcceleratorDriver(driver string) bool { return s.drivers[driver] }

// SetNode records a node object (added or updated) and rebuilds its model.
func (s *Store) SetNode(node *v1.Node) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nodes[node.Name] = node
	s.rebuild(node.Name)
}

// DeleteNode forgets a node.
func (s *Store) DeleteNode(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.nodes, name)
	delete(s.models, name)
	s.version.Add(1)
}

// SetSlice records a ResourceSlice (added or updated).
func (s *Store) SetSlice(slice *resourceapi.ResourceSlice) {
	node, devs := SliceDevices(slice, s.IsAcceleratorDriver)
	s.mu.Lock()
	defer s.mu.Unlock()
	old, had := s.slices[slice.Name]
	if !had && len(devs) == 0 {
		return
	}
	s.dropSlice(slice.Name)
	if len(devs) > 0 {
		s.slices[slice.Name] = sliceEntry{node: node, devices: devs}
		if s.dra[node] == nil {
			s.dra[node] = map[string][]Device{}
		}
		s.dra[node][slice.Name] = devs
		for _, d := range devs {
			s.devices[d.ID] = node
		}
		s.rebuild(node)
	}
	if had && (old.node != node || len(devs) == 0) {
		s.rebuild(old.node)
	}
}

// DeleteSlice forgets a ResourceSlice.
func (s *Store) DeleteSlice(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.slices[name]; ok {
		s.dropSlice(name)
		s.rebuild(e.node)
	}
}

// dropSlice removes a slice's devices; the caller rebuilds the node.
func (s *Store) dropSlice(name string) {
	e, ok := s.slices[name]
	if !ok {
		return
	}
	delete(s.slices, name)
	delete(s.dra[e.node], name)
	if len(s.dra[e.node]) == 0 {
		delete(s.dra, e.node)
	}
	for _, d := range e.devices {
		if s.devices[d.ID] == e.node {
			delete(s.devices, d.ID)
		}
	}
}

// rebuild recomputes a node's model; the caller holds the write lock.
func (s *Store) rebuild(name string) {
	defer s.version.Add(1)
	node, ok := s.nodes[name]
	if !ok {
		return
	}
	s.models[name] = Build(Sources{Node: node, Accelerators: s.accelerators, DRA: s.draDevices(name)})
}

// draDevices returns a node's accelerator devices in slice-name order.
func (s *Store) draDevices(name string) []Device {
	bySlice := s.dra[name]
	if len(bySlice) == 0 {
		return nil
	}
	names := make([]string, 0, len(bySlice))
	for n := range bySlice {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []Device
	for _, n := range names {
		out = append(out, bySlice[n]...)
	}
	return out
}

// Get returns a node's model.
func (s *Store) Get(name string) (*Node, bool) {
	s.mu.RLock()
	m, ok := s.models[name]
	s.mu.RUnlock()
	return m, ok
}

// ModelOf builds the model of a node object with the DRA devices the store
// knows for it, without recording it: for nodes the store has not seen yet
// and for queueing hints, which see node objects before the store does.
func (s *Store) ModelOf(node *v1.Node) *Node {
	s.mu.RLock()
	devs := s.draDevices(node.Name)
	s.mu.RUnlock()
	return Build(Sources{Node: node, Accelerators: s.accelerators, DRA: devs})
}

// Nodes returns the models of all nodes, sorted by name.
func (s *Store) Nodes() []*Node {
	s.mu.RLock()
	out := make([]*Node, 0, len(s.models))
	for _, m := range s.models {
		out = append(out, m)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// CountByNode counts, per node, the DRA accelerator devices among ids
// (e.g. the allocated ones); devices the store does not know are ignored.
func (s *Store) CountByNode(ids []DeviceID) map[string]int64 {
	out := map[string]int64{}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, id := range ids {
		if n, ok := s.devices[id]; ok {
			out[n]++
		}
	}
	return out
}

// HasDRA reports whether any node has DRA accelerator devices.
func (s *Store) HasDRA() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.devices) > 0
}

// Version changes whenever a model changes.
func (s *Store) Version() uint64 { return s.version.Load() }
