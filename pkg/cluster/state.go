// Package cluster keeps one scheduler profile's view of the cluster for
// fairness and offers: the role of every namespace with its weight, guarantee
// and limit; each role's allocation (requests of all non-terminal pods bound
// or assumed in its namespaces, whichever scheduler placed them); each
// node's capacity and use; and the pods waiting for this scheduler. It is fed
// by the scheduler's shared informers plus the Assume/Forget calls of the
// plugins' Reserve/Unreserve, and read by the DRF plugin, the embedded
// allocator, metrics and reports.
package cluster

import (
	"errors"
	"hash/maphash"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/roles"
)

// Pod is what the state knows of a pod.
type Pod struct {
	UID       types.UID
	Namespace string
	Name      string
	// Role is the pod's role; empty when RoleErr is set.
	Role    string
	RoleErr error
	Request resources.Vector
	// Shape is Request.String(): pods of one shape fit alike.
	Shape string
	Ports []int32
	// Priority of the pod (0 when unset).
	Priority int32
	Created  time.Time
	// NodeName is where the pod is bound or assumed; empty when pending.
	NodeName string
	Assumed  bool
	// Ours marks pods whose schedulerName is this profile's.
	Ours bool
	// Gated: being deleted, or held by spec.schedulingGates.
	Gated bool
	// Nominated: a pending preemptor whose victims are being evicted; its
	// requests count for its role already.
	Nominated      bool
	NominatedSince time.Time
	// NominatedNode is where the preemption made room for it.
	NominatedNode string
	// Evicting: a victim of a preemption in flight; its requests no longer
	// count for its role (they still occupy its node until it is gone).
	Evicting      bool
	EvictingSince time.Time
	// OfferWait: the MesosOffers plugin turned the pod away because its role
	// has no fitting offer yet and the offer source gave no reason to think
	// none will come; such a failure neither blocks nor preempts.
	OfferWait bool
	// BlockedAt is the freedVersion at which the pod last failed every
	// node's filters; it stays blocked until capacity is freed after that.
	BlockedAt uint64
	Object    *v1.Pod
}

// Pending reports whether the pod waits for this scheduler: ours, not
// placed, not being deleted, and not held by scheduling gates.
func (p *Pod) Pending() bool { return p.Ours && p.NodeName == "" && !p.Gated }

// Node is what the state knows of a node. Its vectors and port map are
// never modified in place once the node is in the state: a change replaces
// them (copy on write), so copies handed out (AppendNodes) stay valid
// without the state's lock.
type Node struct {
	Name        string
	Object      *v1.Node
	Allocatable resources.Vector
	// Used is the sum of requests of the non-terminal pods bound or assumed here.
	Used resources.Vector
	// UsedNoRole is the part of Used held by pods of no valid role (they
	// take capacity no role can have).
	UsedNoRole resources.Vector
	// Ports counts the host ports in use.
	Ports       map[int32]int
	Schedulable bool
}

// Free returns allocatable minus used (entries may be negative when overcommitted).
func (n *Node) Free() resources.Vector { return n.Allocatable.Minus(n.Used) }

// Role is a snapshot of one role.
type Role struct {
	Name       string
	Weight     float64
	Guarantee  resources.Vector // nil: none
	Limit      resources.Vector // nil: none
	Namespaces []string
	Allocation resources.Vector
	// DominantShare of the role's own allocation; Key is its H-DRF key at its level.
	DominantShare float64
	Key           float64
	Pending       int
}

// State is the per-profile cluster view. All methods are safe for concurrent use.
type State struct {
	mu            sync.RWMutex
	schedulerName string
	// cfg is the role configuration: set by New and once by Configure
	// while the profile is built, never changed in place, so readers need
	// no lock.
	cfg        atomic.Pointer[RoleConfig]
	configured bool

	pods map[types.UID]*Pod
	// gone holds the UIDs of pods deleted lately (rememberGoneLocked).
	gone       map[types.UID]time.Time
	gonePruned time.Time
	byNS       map[string]map[types.UID]*Pod
	byNode     map[string]map[types.UID]*Pod // placed pods, also on nodes not (yet) known
	pendingBy  map[string]*pending           // role -> its pods waiting for this scheduler
	nodes      map[string]*Node
	namespaces map[string]*namespaceInfo
	quotas     map[string]elasticQuota // namespace -> ElasticQuota
	roleNS     map[string]map[string]bool
	sorter     *roles.Sorter
	total      resources.Vector

	synced []cache.InformerSynced
	// placement is the profile's hardware judgement (nil slot: none).
	placement *PlacementSlot
	// heldElsewhere returns what is held on the nodes outside Kubernetes,
	// by node (nil: nothing); see SetHeldElsewhere.
	heldElsewhere func() map[string]resources.Vector
	tc            targetCache
	// placedBy counts each role's placed pods (not being evicted) by
	// shape and priority; demandHash and epoch tell when the fair targets
	// must be computed again (demand.go).
	placedBy   map[string]map[groupKey]*placedGroup
	seed       maphash.Seed
	demandHash uint64
	epoch      uint64

	capVersion     uint64          // node capacity or use changed
	nodesVersion   uint64          // the set of nodes or their allocatable changed
	nodeFitVersion uint64          // nodesVersion of nodeFit
	nodeFit        map[string]bool // shape -> fits some schedulable node's allocatable
	// usedSched sums the requests placed on schedulable nodes, kept
	// incrementally (the free capacity for the headroom rule).
	usedSched resources.Vector
	// noRoleSched sums what pods of no valid role hold on schedulable
	// nodes, kept incrementally like usedSched; unsched names the nodes
	// that take no new pods (usually few). With them the fair targets'
	// capacity is computed without walking every node.
	noRoleSched resources.Vector
	unsched     map[string]bool
	// order holds the nodes sorted by name (AppendNodes' order), kept as
	// nodes come and go.
	order []*Node

	version      uint64 // any change
	freedVersion uint64 // changes that freed capacity
	// blockedEpoch is BlockedAt of the pod blocked last: some pods are
	// blocked while it is above freedVersion. unblocks counts the freeing
	// changes that brought blocked pods back into the demand.
	blockedEpoch uint64
	unblocks     uint64
	subscribers  []chan struct{}
}

type namespaceInfo struct {
	role    string
	roleErr error
	weight  float64 // 0: not set
	wErr    error
}

type elasticQuota struct{ min, max resources.Vector }

// New returns an empty state for the profile whose pods carry schedulerName.
func New(schedulerName string, cfg RoleConfig) *State {
	s := &State{
		schedulerName: schedulerName,
		pods:          map[types.UID]*Pod{},
		gone:          map[types.UID]time.Time{},
		byNS:          map[string]map[types.UID]*Pod{},
		byNode:        map[string]map[types.UID]*Pod{},
		pendingBy:     map[string]*pending{},
		nodes:         map[string]*Node{},
		namespaces:    map[string]*namespaceInfo{},
		quotas:        map[string]elasticQuota{},
		roleNS:        map[string]map[string]bool{},
		total:         resources.Vector{},
		usedSched:     resources.Vector{},
		noRoleSched:   resources.Vector{},
		unsched:       map[string]bool{},
		placedBy:      map[string]map[groupKey]*placedGroup{},
		seed:          maphash.MakeSeed(),
	}
	s.setConfigLocked(cfg)
	return s
}

// SchedulerName returns the profile's scheduler name.
func (s *State) SchedulerName() string { return s.schedulerName }

// Configure sets the role configuration from the DRF plugin's args, once:
// the profile's plugins are built (and the state with them) before its
// first scheduling cycle, and the configuration stays as it is from then
// on. A state no DRF plugin configures keeps New's. A second call is an
// error (a profile has one DRF plugin).
func (s *State) Configure(cfg RoleConfig) error {
	s.mu.Lock()
	if s.configured {
		s.mu.Unlock()
		return errors.New("the role configuration is set already: a profile has one DRF plugin")
	}
	s.configured = true
	s.setConfigLocked(cfg)
	s.changedLocked(false)
	s.mu.Unlock()
	s.notify()
	return nil
}

// conf returns the role configuration (never modified).
func (s *State) conf() *RoleConfig { return s.cfg.Load() }

func (s *State) setConfigLocked(cfg RoleConfig) {
	c := cfg.withDefaults()
	s.cfg.Store(&c)
	s.sorter = roles.NewSorter(s.total, s.conf().Counted())
	s.placedBy = map[string]map[groupKey]*placedGroup{}
	s.epoch++
	for _, p := range s.pods {
		if p.Role != "" {
			s.sorter.Add(p.Role)
			if (p.NodeName != "" && !p.Evicting) || p.Nominated {
				s.sorter.Allocate(p.Role, s.conf().only(p.Request))
			}
			if p.NodeName != "" && !p.Evicting {
				s.countPlacedLocked(p, 1)
			}
		}
	}
	for r, pd := range s.pendingBy {
		s.sorter.SetActive(r, pd.count > 0)
	}
	for r := range s.conf().Roles {
		s.sorter.Add(r)
	}
	s.refreshWeightsLocked()
}

// Subscribe returns a channel that receives a value (coalesced) after every
// change of allocations, pending pods, nodes or roles.
func (s *State) Subscribe() <-chan struct{} {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	s.subscribers = append(s.subscribers, ch)
	s.mu.Unlock()
	return ch
}

func (s *State) changedLocked(freed bool) {
	s.version++
	if freed {
		if s.blockedEpoch > s.freedVersion {
			// Pods blocked in the epoch that ends come back into the
			// demand: the fair targets must be computed again. Without
			// blocked pods, freed capacity leaves the demand as it was.
			s.unblocks++
		}
		s.freedVersion++
	}
}

func (s *State) notify() {
	s.mu.RLock()
	subs := s.subscribers
	s.mu.RUnlock()
	for _, ch := range subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// FreedVersion increases whenever capacity may have been freed (a pod
// gone, a node added or changed, offers arrived).
func (s *State) FreedVersion() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.freedVersion
}

// Version increases on every change.
func (s *State) Version() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.version
}

// Pod returns a copy of what the state knows of a pod.
func (s *State) Pod(uid types.UID) (Pod, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.pods[uid]
	if !ok {
		return Pod{}, false
	}
	return *p, true
}

// RoleOf resolves the role of a namespace.
func (s *State) RoleOf(namespace string) (string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.roleOfLocked(namespace)
}

func (s *State) roleOfLocked(namespace string) (string, error) {
	if ns, ok := s.namespaces[namespace]; ok {
		return ns.role, ns.roleErr
	}
	return namespace, roles.ValidateName(namespace)
}

// Total returns the allocatable capacity of the schedulable nodes.
func (s *State) Total() resources.Vector {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.total.Clone()
}

// Counted returns the resources that count for dominant shares.
func (s *State) Counted() []v1.ResourceName { return s.conf().Counted() }

// Counts reports whether a resource counts in allocations (and limits).
func (s *State) Counts(name v1.ResourceName) bool { return s.conf().counts(name) }

// Resources returns the resources that count in allocations.
func (s *State) Resources() []v1.ResourceName { return s.conf().Resources }

// Role returns a snapshot of one role.
func (s *State) Role(name string) Role {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.roleLocked(name)
}

func (s *State) roleLocked(name string) Role {
	r := Role{Name: name, Weight: s.sorter.Weight(name), Allocation: s.sorter.Allocation(name)}
	r.DominantShare, r.Key = s.sorter.Share(name)
	r.Guarantee, r.Limit = s.quotaLocked(name)
	for ns := range s.roleNS[name] {
		r.Namespaces = append(r.Namespaces, ns)
	}
	sort.Strings(r.Namespaces)
	if pd := s.pendingBy[name]; pd != nil {
		r.Pending = pd.count
	}
	return r
}

// Roles returns snapshots of every known role, sorted by name.
func (s *State) Roles() []Role {
	s.mu.RLock()
	defer s.mu.RUnlock()
	names := s.sorter.Roles()
	sort.Strings(names)
	out := make([]Role, 0, len(names))
	for _, n := range names {
		out = append(out, s.roleLocked(n))
	}
	return out
}

// Nodes returns copies of the nodes, sorted by name.
func (s *State) Nodes() []Node {
	out := s.AppendNodes(nil)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// AppendNodes appends copies of the nodes to dst, in no particular order,
// and returns it: the snapshot the allocator's cycle and the Mesos source
// read without holding the state's lock. A copy shares its vectors, port
// map and node object with the state, which never modifies them in place
// (a change replaces them: copy on write), so they must not be modified by
// the caller either. A caller may reuse dst across calls.
func (s *State) AppendNodes(dst []Node) []Node {
	s.mu.RLock()
	defer s.mu.RUnlock()
	dst = slices.Grow(dst, len(s.order))
	for _, n := range s.order {
		dst = append(dst, *n)
	}
	return dst
}

// NodeResources returns a node's allocatable resources and the requests of
// the pods on it (copies).
func (s *State) NodeResources(name string) (alloc, used resources.Vector, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n, ok := s.nodes[name]
	if !ok {
		return nil, nil, false
	}
	return n.Allocatable.Clone(), n.Used.Clone(), true
}

// PodsOn returns copies of the pods bound or assumed on a node.
func (s *State) PodsOn(node string) []Pod {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Pod, 0, len(s.byNode[node]))
	for _, p := range s.byNode[node] {
		out = append(out, *p)
	}
	SortPods(out)
	return out
}

// PendingPods returns copies of the pods of a role waiting for this
// scheduler, by priority (high first), then age.
func (s *State) PendingPods(role string) []Pod {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Pod
	if pd := s.pendingBy[role]; pd != nil {
		for _, g := range pd.groups {
			for _, p := range g.pods {
				out = append(out, *p)
			}
		}
	}
	SortPods(out)
	return out
}

// RunnablePods returns copies of the pods of a role waiting for this
// scheduler that are not blocked by a failed attempt, by priority then age.
func (s *State) RunnablePods(role string) []Pod {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Pod
	if pd := s.pendingBy[role]; pd != nil {
		for _, g := range pd.groups {
			for _, p := range g.pods {
				if !s.blockedLocked(p) {
					out = append(out, *p)
				}
			}
		}
	}
	SortPods(out)
	return out
}

// AppendPlaced appends copies of the pods bound or assumed on a node to
// dst, in no particular order, and returns it. A copy shares its request,
// ports and pod object with the state, which never modifies them in place;
// the caller must not either. A caller may reuse dst across calls.
func (s *State) AppendPlaced(dst []Pod) []Pod {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, pods := range s.byNode {
		for _, p := range pods {
			dst = append(dst, *p)
		}
	}
	return dst
}

// AppendPending appends copies of the pods of the role that wait for this
// scheduler to dst, in no particular order, and returns it; copies share
// what AppendPlaced's share.
func (s *State) AppendPending(dst []Pod, role string) []Pod {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if pd := s.pendingBy[role]; pd != nil {
		for _, g := range pd.groups {
			for _, p := range g.pods {
				dst = append(dst, *p)
			}
		}
	}
	return dst
}

// SortPods orders pods by priority (high first), then creation, then name.
func SortPods(pods []Pod) {
	sort.Slice(pods, func(i, j int) bool {
		a, b := &pods[i], &pods[j]
		if a.Priority != b.Priority {
			return a.Priority > b.Priority
		}
		if !a.Created.Equal(b.Created) {
			return a.Created.Before(b.Created)
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
}

// Assume records that a pod was reserved on a node in a scheduling cycle:
// its requests count for its role and the node until it is bound or forgotten.
// Idempotent.
func (s *State) Assume(pod *v1.Pod, nodeName string) {
	s.mu.Lock()
	if _, dead := s.gone[pod.UID]; dead {
		s.mu.Unlock() // deleted during its scheduling cycle
		return
	}
	p, ok := s.pods[pod.UID]
	if !ok {
		p = s.newPodLocked(pod)
	}
	if p.NodeName == nodeName {
		s.mu.Unlock()
		return
	}
	if p.NodeName != "" {
		s.unplaceLocked(p)
	}
	s.setPendingLocked(p, false)
	s.clearNominationLocked(p)
	p.NodeName = nodeName
	p.Assumed = true
	p.OfferWait = false
	s.placeLocked(p)
	s.changedLocked(false)
	s.mu.Unlock()
	s.notify()
}

// Forget undoes Assume for a pod that was not bound. Idempotent.
func (s *State) Forget(pod *v1.Pod) {
	s.mu.Lock()
	p, ok := s.pods[pod.UID]
	if !ok || !p.Assumed {
		s.mu.Unlock()
		return
	}
	s.unplaceLocked(p)
	p.NodeName = ""
	p.Assumed = false
	s.setPendingLocked(p, p.Pending())
	s.changedLocked(true)
	s.mu.Unlock()
	s.notify()
}

// MarkBlocked records that a pending pod failed on every node's filters:
// it stops counting as a pod that could run until capacity is freed.
func (s *State) MarkBlocked(uid types.UID) {
	s.mu.Lock()
	if p, ok := s.pods[uid]; ok && p.Pending() && !p.OfferWait && !s.blockedLocked(p) {
		p.BlockedAt = s.freedVersion + 1
		s.blockedEpoch = p.BlockedAt
		if p.Role != "" {
			s.pendingOf(p.Role).markBlocked(p, s.freedVersion)
			if s.fitsSomeNodeLocked(p) {
				s.noteDemandLocked(p, -1)
			}
		}
	}
	s.changedLocked(false) // pods waiting behind it may go now
	s.mu.Unlock()
	s.notify()
}

// SetOfferWait records whether a pod waits for an offer to its role (set by
// the MesosOffers plugin when it turns the pod away, cleared when the pod
// is reserved on an offer).
func (s *State) SetOfferWait(uid types.UID, waiting bool) {
	s.mu.RLock()
	p, ok := s.pods[uid]
	same := ok && p.OfferWait == waiting
	s.mu.RUnlock()
	if !ok || same {
		return
	}
	s.mu.Lock()
	p.OfferWait = waiting
	s.mu.Unlock()
}

// OfferWait reports whether a pod waits for an offer that is on its way.
func (s *State) OfferWait(uid types.UID) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.pods[uid]
	return ok && p.OfferWait
}

// Touch records a change made outside the state that affects what could
// run (the offers a FitFunc looks at): freed says capacity was added.
func (s *State) Touch(freed bool) {
	s.mu.Lock()
	s.changedLocked(freed)
	s.mu.Unlock()
	s.notify()
}

// Blocked reports whether a pod is marked blocked and nothing was freed since.
func (s *State) blockedLocked(p *Pod) bool { return p.BlockedAt > s.freedVersion }

// RequestOf returns a pod's requests: the state's copy when it knows the
// pod (callers must not modify it), else computed (resources.PodRequests
// is the one place that does it).
func (s *State) RequestOf(pod *v1.Pod) resources.Vector {
	s.mu.RLock()
	p, ok := s.pods[pod.UID]
	s.mu.RUnlock()
	if ok {
		return p.Request
	}
	return resources.PodRequests(pod)
}

// RoleOfPod returns the role of a pod the state knows, else its namespace's.
func (s *State) RoleOfPod(pod *v1.Pod) (string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if p, ok := s.pods[pod.UID]; ok && p.RoleErr == nil && p.Role != "" {
		return p.Role, nil
	}
	return s.roleOfLocked(pod.Namespace)
}
