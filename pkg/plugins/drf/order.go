package drf

import (
	"math"
	"sync"

	"k8s.io/apimachinery/pkg/types"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/cluster"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// tagBook holds the queue-sort keys: a virtual start tag per pod, fixed when
// the pod is first enqueued, as in start-time fair queuing. A role's next
// pod starts where its previous pod finished, or at the role's current key
// if that is later:
//
//	start(p)  = max(finish(R), key(R))
//	finish(R) = start(p) + share(request(p)) / weight(R)
//
// Keys never change while a pod sits in the heap (a heap keyed by shares
// that move under it would mis-order pods), and pods of all roles created at
// once interleave in weighted-DRF order. The tags make the queue order right
// in the common case; the fairness gate in PreFilter makes it exact when
// shares move after the tags were taken.
type tagBook struct {
	mu     sync.RWMutex
	start  map[types.UID]tag
	finish map[string]float64 // role -> finish tag of its last tagged pod
	count  map[string]int     // role -> tagged pods
}

type tag struct {
	start float64
	role  string
}

func newTagBook() *tagBook {
	return &tagBook{start: map[types.UID]tag{}, finish: map[string]float64{}, count: map[string]int{}}
}

// tag computes and stores the start tag of a pod if it has none.
func (b *tagBook) tag(st *cluster.State, uid types.UID, role string, req resources.Vector) {
	b.mu.RLock()
	_, ok := b.start[uid]
	b.mu.RUnlock()
	if ok {
		return
	}
	r := st.Role(role)
	share := resources.DominantShare(req, st.Total(), st.Counted())
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.start[uid]; ok {
		return
	}
	// A role with no tagged pod left restarts from its current key.
	start := math.Max(b.finish[role], r.Key)
	b.start[uid] = tag{start: start, role: role}
	b.count[role]++
	b.finish[role] = start + resources.WeightedShare(share, r.Weight)
}

// get returns a pod's start tag (0 for untagged pods).
func (b *tagBook) get(uid types.UID) float64 {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.start[uid].start
}

// forget drops a pod's tag once it left the queue for good.
func (b *tagBook) forget(uid types.UID) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.start[uid]
	if !ok {
		return
	}
	delete(b.start, uid)
	if b.count[t.role]--; b.count[t.role] <= 0 {
		delete(b.count, t.role)
		delete(b.finish, t.role)
	}
}
