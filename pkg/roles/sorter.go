package roles

import (
	"container/heap"
	"strings"

	v1 "k8s.io/api/core/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// Sorter orders roles by hierarchical weighted Dominant Resource Fairness
// (H-DRF), as Mesos' hierarchical sorter does: siblings in the role tree are
// compared by the dominant share of their whole subtree divided by their
// weight, so children split their parent's share.
//
// Every role R is a tree node T(R) with weight w(R). R's own allocation (the
// pods of namespaces mapped exactly to R) sits in a leaf L(R), a child of
// T(R) with weight 1, next to the nodes of R's child roles. For
// roles a and b, Less walks down from the root to the first level where their
// paths differ and compares the two siblings there:
//
//	share(X) = max_r alloc_subtree(X)[r] / total[r]   (r over counted resources)
//	key(X)   = share(X) / w(X)
//
// ties broken by rank (SetRank), then by name. Min returns the active role of lowest key by descending
// from the root through per-node heaps of active children, so picking a role
// costs O(depth · log siblings) and so does an allocation change.
//
// A Sorter is not safe for concurrent use.
type Sorter struct {
	total   resources.Vector
	counted []v1.ResourceName
	root    *node
	roles   map[string]*node // T(R) by role name
}

type node struct {
	name     string // role name; "" for the root; leaves carry their role's name
	leaf     bool
	parent   *node
	weight   float64
	alloc    resources.Vector // own for leaves, subtree sum for others
	key      float64
	children map[string]*node // T nodes of child roles, by last path component
	own      *node            // L(R) for a T node
	active   childHeap        // children with an active descendant
	index    int              // position in parent's active heap; -1 if absent
	isActive bool             // leaf: the role has demand
	rank     int              // tie-break between equal keys, lower first (SetRank)
}

// NewSorter returns a sorter over a cluster of the given total capacity,
// counting the given resources for dominant shares.
func NewSorter(total resources.Vector, counted []v1.ResourceName) *Sorter {
	return &Sorter{
		total:   total.Clone(),
		counted: append([]v1.ResourceName(nil), counted...),
		root:    &node{weight: 1, alloc: resources.Vector{}, children: map[string]*node{}, index: -1},
		roles:   map[string]*node{},
	}
}

// Add makes sure the role (and its ancestors) exist. New roles have weight 1.
func (s *Sorter) Add(role string) {
	s.ensure(role)
}

func (s *Sorter) ensure(role string) *node {
	if n, ok := s.roles[role]; ok {
		return n
	}
	parent := s.root
	if i := strings.LastIndex(role, Separator); i > 0 {
		parent = s.ensure(role[:i])
	}
	n := &node{name: role, parent: parent, weight: 1, alloc: resources.Vector{}, children: map[string]*node{}, index: -1}
	n.own = &node{name: role, leaf: true, parent: n, weight: 1, alloc: resources.Vector{}, index: -1}
	parent.children[role[strings.LastIndex(role, Separator)+1:]] = n
	s.roles[role] = n
	return n
}

// Has reports whether the role is known.
func (s *Sorter) Has(role string) bool { _, ok := s.roles[role]; return ok }

// Roles returns the known role names (unordered).
func (s *Sorter) Roles() []string {
	out := make([]string, 0, len(s.roles))
	for r := range s.roles {
		out = append(out, r)
	}
	return out
}

// SetWeight sets a role's weight (non-positive means 1).
func (s *Sorter) SetWeight(role string, w float64) {
	if w <= 0 {
		w = 1
	}
	n := s.ensure(role)
	n.weight = w
	s.refresh(n)
}

// Weight returns a role's weight.
func (s *Sorter) Weight(role string) float64 {
	if n, ok := s.roles[role]; ok {
		return n.weight
	}
	return 1
}

// Allocate adds delta to the role's own allocation.
func (s *Sorter) Allocate(role string, delta resources.Vector) {
	n := s.ensure(role)
	for x := n.own; x != nil; x = x.parent {
		x.alloc.Add(delta)
	}
	s.refresh(n.own)
}

// Unallocate removes delta from the role's own allocation.
func (s *Sorter) Unallocate(role string, delta resources.Vector) {
	n := s.ensure(role)
	for x := n.own; x != nil; x = x.parent {
		x.alloc.Sub(delta)
	}
	s.refresh(n.own)
}

// Allocation returns the role's own allocation (not its children's).
func (s *Sorter) Allocation(role string) resources.Vector {
	if n, ok := s.roles[role]; ok {
		return n.own.alloc.Clone()
	}
	return resources.Vector{}
}

// SubtreeAllocation returns the allocation of the role and all its descendants.
func (s *Sorter) SubtreeAllocation(role string) resources.Vector {
	if n, ok := s.roles[role]; ok {
		return n.alloc.Clone()
	}
	return resources.Vector{}
}

// SubtreeView returns the allocation of the role and its descendants
// without copying it: the caller must not modify it nor keep it across
// changes to the sorter.
func (s *Sorter) SubtreeView(role string) resources.Vector {
	if n, ok := s.roles[role]; ok {
		return n.alloc
	}
	return nil
}

// Share returns the role's dominant share (of its own allocation) and its
// key at its own level of the tree (subtree share / weight).
func (s *Sorter) Share(role string) (dominant, weighted float64) {
	n, ok := s.roles[role]
	if !ok {
		return 0, 0
	}
	return resources.DominantShare(n.own.alloc, s.total, s.counted), n.key
}

// SetTotal changes the cluster capacity and recomputes every key.
func (s *Sorter) SetTotal(total resources.Vector) {
	s.total = total.Clone()
	var walk func(n *node)
	walk = func(n *node) {
		s.computeKey(n)
		if n.own != nil {
			s.computeKey(n.own)
		}
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(s.root)
	s.rebuildHeaps(s.root)
}

// Total returns the cluster capacity the shares are relative to.
func (s *Sorter) Total() resources.Vector { return s.total }

// Counted returns the resources that count for shares.
func (s *Sorter) Counted() []v1.ResourceName { return s.counted }

// SetActive marks whether a role has demand; only active roles are returned by Min.
func (s *Sorter) SetActive(role string, active bool) {
	n := s.ensure(role)
	if n.own.isActive == active {
		return
	}
	n.own.isActive = active
	s.refreshActivity(n.own)
}

// Active reports whether the role is active.
func (s *Sorter) Active(role string) bool {
	n, ok := s.roles[role]
	return ok && n.own.isActive
}

// SetRank sets a role's tie-break rank: between roles of equal keys, the
// lower rank comes first (then the name). All ranks start at 0. The rank of
// a role's tree node and of its own leaf are set together, so it decides
// between flat roles; deeper in a hierarchy names break ties among
// siblings of different ranks' subtrees.
func (s *Sorter) SetRank(role string, rank int) {
	n := s.ensure(role)
	if n.rank == rank && n.own.rank == rank {
		return
	}
	n.rank, n.own.rank = rank, rank
	s.refresh(n.own)
}

// Min returns the active role with the lowest key, descending level by level.
func (s *Sorter) Min() (string, bool) {
	n := s.root
	for !n.leaf {
		if len(n.active) == 0 {
			return "", false
		}
		n = n.active[0]
	}
	return n.name, true
}

// RunnerUp returns the key of the best active role other than role when
// role is the active role of lowest key in a flat arrangement: a top-level
// role whose only active part is its own allocation. ok is false when that
// does not hold (role is not the minimum, or sits in a hierarchy); none is
// true when no other role is active.
func (s *Sorter) RunnerUp(role string) (key float64, none, ok bool) {
	n, exists := s.roles[role]
	if !exists || n.parent != s.root || len(n.active) != 1 || n.active[0] != n.own {
		return 0, false, false
	}
	h := s.root.active
	if len(h) == 0 || h[0] != n {
		return 0, false, false
	}
	switch len(h) {
	case 1:
		return 0, true, true
	case 2:
		return h[1].key, false, true
	}
	if h.Less(2, 1) {
		return h[2].key, false, true
	}
	return h[1].key, false, true
}

// Walk calls fn for the active roles in H-DRF order (the order of Min and
// Compare) until fn returns false. Each visited level costs a copy of its
// heap of active children, so stopping early is cheap.
func (s *Sorter) Walk(fn func(role string) bool) {
	s.walk(s.root, fn)
}

func (s *Sorter) walk(n *node, fn func(string) bool) bool {
	if n.leaf {
		return fn(n.name)
	}
	if len(n.active) == 0 {
		return true
	}
	// The first child is the heap's top: visit it without copying, which
	// is all most walks need.
	if !s.walk(n.active[0], fn) {
		return false
	}
	if len(n.active) == 1 {
		return true
	}
	h := make(walkHeap, len(n.active))
	copy(h, n.active)
	heap.Init(&h)
	heap.Pop(&h) // the top, visited above
	for h.Len() > 0 {
		if !s.walk(heap.Pop(&h).(*node), fn) {
			return false
		}
	}
	return true
}

// walkHeap orders nodes like childHeap without touching their heap indexes.
type walkHeap []*node

func (h walkHeap) Len() int           { return len(h) }
func (h walkHeap) Less(i, j int) bool { return childHeap(h).Less(i, j) }
func (h walkHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *walkHeap) Push(x any)        { *h = append(*h, x.(*node)) }
func (h *walkHeap) Pop() any {
	old := *h
	n := old[len(old)-1]
	*h = old[:len(old)-1]
	return n
}

// Less reports whether role a comes before role b in H-DRF order.
func (s *Sorter) Less(a, b string) bool {
	return s.Compare(a, b) < 0
}

// Compare returns -1, 0 or 1 as a comes before, ties with or after b. Equal
// keys are ordered by name so the order is total and deterministic.
func (s *Sorter) Compare(a, b string) int {
	if a == b {
		return 0
	}
	na, nb := s.ensure(a).own, s.ensure(b).own
	pa, pb := pathFromRoot(na), pathFromRoot(nb)
	i := 0
	for i < len(pa) && i < len(pb) && pa[i] == pb[i] {
		i++
	}
	x, y := pa[i], pb[i] // both exist: the two leaves differ
	switch {
	case x.key < y.key:
		return -1
	case x.key > y.key:
		return 1
	case x.rank != y.rank:
		if x.rank < y.rank {
			return -1
		}
		return 1
	case x.leaf != y.leaf:
		// A role's own pods come before its children at equal keys.
		if x.leaf {
			return -1
		}
		return 1
	case x.name < y.name:
		return -1
	default:
		return 1
	}
}

// CompareShares compares the keys of a and b at the level where their paths
// diverge, like Compare but without tie-breaking: 0 when the keys are equal.
func (s *Sorter) CompareShares(a, b string) int {
	if a == b {
		return 0
	}
	pa, pb := pathFromRoot(s.ensure(a).own), pathFromRoot(s.ensure(b).own)
	i := 0
	for i < len(pa) && i < len(pb) && pa[i] == pb[i] {
		i++
	}
	switch x, y := pa[i].key, pb[i].key; {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func pathFromRoot(n *node) []*node {
	var p []*node
	for x := n; x != nil; x = x.parent {
		p = append(p, x)
	}
	for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
		p[i], p[j] = p[j], p[i]
	}
	return p
}

func (s *Sorter) computeKey(n *node) {
	n.key = resources.WeightedShare(resources.DominantShare(n.alloc, s.total, s.counted), n.weight)
}

// refresh recomputes keys from n up to the root and fixes heap positions.
func (s *Sorter) refresh(n *node) {
	for x := n; x != nil; x = x.parent {
		s.computeKey(x)
		if x.parent != nil && x.index >= 0 {
			heap.Fix(&x.parent.active, x.index)
		}
	}
}

// refreshActivity inserts or removes nodes on the path to the root from the
// active heaps after a leaf's activity changed.
func (s *Sorter) refreshActivity(leaf *node) {
	for x := leaf; x.parent != nil; x = x.parent {
		want := x.leaf && x.isActive || !x.leaf && len(x.active) > 0
		switch {
		case want && x.index < 0:
			heap.Push(&x.parent.active, x)
		case !want && x.index >= 0:
			heap.Remove(&x.parent.active, x.index)
		default:
			return
		}
	}
}

func (s *Sorter) rebuildHeaps(n *node) {
	for _, c := range n.children {
		s.rebuildHeaps(c)
	}
	heap.Init(&n.active)
}

// childHeap is a min-heap of nodes by key, then rank, then leaf first, then name.
type childHeap []*node

func (h childHeap) Len() int { return len(h) }
func (h childHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.key != b.key {
		return a.key < b.key
	}
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	if a.leaf != b.leaf {
		return a.leaf
	}
	return a.name < b.name
}
func (h childHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *childHeap) Push(x any) {
	n := x.(*node)
	n.index = len(*h)
	*h = append(*h, n)
}
func (h *childHeap) Pop() any {
	old := *h
	n := old[len(old)-1]
	old[len(old)-1] = nil
	n.index = -1
	*h = old[:len(old)-1]
	return n
}
