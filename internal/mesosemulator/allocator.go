package mesosemulator

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// The allocator follows Mesos' hierarchical allocator without quota: for
// every agent, all of its free resources go to the first eligible
// (role, framework) pair in weighted DRF order. Ties are broken by the number
// of allocations made so far and then by name, which makes two roles with
// equal shares alternate, as the recordings show.

// allocate runs one allocation cycle and sends one OFFERS event per framework.
func (m *Master) allocate() {
	if !m.leader || m.closed {
		return
	}
	now := time.Now()
	m.expireFilters(now)
	batches := map[*framework][]*offer{}
	for _, a := range m.agents {
		if a.unreachable {
			continue
		}
		avail := m.available(a)
		if !avail.allocatable() {
			continue
		}
		fw, role := m.pickRecipient(a, avail)
		if fw == nil {
			continue
		}
		o := m.newOffer(fw, a, role, avail)
		batches[fw] = append(batches[fw], o)
	}
	for _, fw := range m.sortedFrameworks() {
		if offers := batches[fw]; len(offers) > 0 {
			m.sendOffers(fw, offers)
		}
	}
}

// pickRecipient returns the framework and role that get agent a's resources.
func (m *Master) pickRecipient(a *agent, avail Resources) (*framework, string) {
	for _, role := range m.sortedRoles() {
		for _, fw := range m.sortedRoleFrameworks(role) {
			if m.eligible(fw, role, a, avail) {
				return fw, role
			}
		}
	}
	return nil, ""
}

// eligible reports whether fw may be offered avail of agent a for role.
func (m *Master) eligible(fw *framework, role string, a *agent, avail Resources) bool {
	if !fw.active || fw.suppressed[role] || !fw.hasRole(role) {
		return false
	}
	if a.hasGPUs() && m.filterGPUs() && !fw.hasCap(mesos.FrameworkInfo_Capability_GPU_RESOURCES) {
		return false
	}
	for _, f := range fw.filters {
		if f.agentID == a.id && f.role == role && f.res.Contains(avail) {
			return false
		}
	}
	return true
}

// filterGPUs reports the --filter_gpu_resources setting.
func (m *Master) filterGPUs() bool { return *m.cfg.FilterGPUResources }

// expireFilters drops expired decline filters.
func (m *Master) expireFilters(now time.Time) {
	for _, fw := range m.frameworks {
		kept := fw.filters[:0]
		for _, f := range fw.filters {
			if now.Before(f.expires) {
				kept = append(kept, f)
			}
		}
		fw.filters = kept
	}
}

// addFilter refuses res of agent a to (fw, role) for d (no filter if d <= 0).
func (m *Master) addFilter(fw *framework, a *agent, role string, res Resources, d time.Duration) {
	if d <= 0 || res.IsEmpty() {
		return
	}
	fw.filters = append(fw.filters, offerFilter{agentID: a.id, role: role, res: res, expires: time.Now().Add(d)})
}

// refuseDuration converts Filters into a duration (default DefaultRefuse).
func (m *Master) refuseDuration(f *mesos.Filters) time.Duration {
	if f == nil || f.RefuseSeconds == nil {
		return m.cfg.DefaultRefuse
	}
	return time.Duration(*f.RefuseSeconds * float64(time.Second))
}

// available returns the agent's resources that are neither used by
// non-terminal tasks nor offered.
func (m *Master) available(a *agent) Resources {
	free := a.total
	for _, fw := range m.frameworks {
		for _, t := range fw.tasks {
			if t.agent == a && t.holdsResources() {
				free = free.Sub(t.res)
			}
		}
	}
	for _, o := range m.offers {
		if o.agent == a {
			free = free.Sub(o.res)
		}
	}
	return free
}

// totalResources sums the resources of all reachable agents.
func (m *Master) totalResources() Resources {
	var total Resources
	for _, a := range m.agents {
		if !a.unreachable {
			total = total.Add(a.total)
		}
	}
	return total
}

// allocatedTo sums offered and used resources matching the predicate.
func (m *Master) allocatedTo(match func(fw *framework, role string) bool) Resources {
	var sum Resources
	for _, o := range m.offers {
		if match(o.fw, o.role) {
			sum = sum.Add(o.res)
		}
	}
	for _, fw := range m.frameworks {
		for _, t := range fw.tasks {
			if t.holdsResources() && !t.agent.unreachable && match(fw, t.role) {
				sum = sum.Add(t.res)
			}
		}
	}
	return sum
}

// dominantShare is the DRF dominant share of alloc in total.
func dominantShare(alloc, total Resources) float64 {
	share := 0.0
	for _, p := range [][2]float64{
		{alloc.CPUs, total.CPUs}, {alloc.Mem, total.Mem}, {alloc.Disk, total.Disk}, {alloc.GPUs, total.GPUs},
	} {
		if p[1] > 0 {
			share = math.Max(share, p[0]/p[1])
		}
	}
	return share
}

// drfEntry is one client of a DRF sort.
type drfEntry struct {
	name        string
	share       float64
	allocations int
}

// sortDRF orders entries by share, then allocation count, then name.
func sortDRF(entries []drfEntry) []string {
	sort.Slice(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if a.share != b.share {
			return a.share < b.share
		}
		if a.allocations != b.allocations {
			return a.allocations < b.allocations
		}
		return a.name < b.name
	})
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.name
	}
	return names
}

// sortedRoles returns the roles of active frameworks in weighted DRF order.
func (m *Master) sortedRoles() []string {
	seen := map[string]bool{}
	var entries []drfEntry
	total := m.totalResources()
	for _, fw := range m.frameworks {
		if !fw.active {
			continue
		}
		for _, role := range fw.roles {
			if seen[role] {
				continue
			}
			seen[role] = true
			alloc := m.allocatedTo(func(_ *framework, r string) bool { return r == role })
			share := dominantShare(alloc, total) / m.weight(role)
			entries = append(entries, drfEntry{role, share, m.roleAllocations[role]})
		}
	}
	return sortDRF(entries)
}

// weight returns the DRF weight of a role.
func (m *Master) weight(role string) float64 {
	if w, ok := m.cfg.RoleWeights[role]; ok && w > 0 {
		return w
	}
	return 1
}

// sortedRoleFrameworks returns the active frameworks of a role in DRF order.
func (m *Master) sortedRoleFrameworks(role string) []*framework {
	total := m.totalResources()
	var entries []drfEntry
	for _, fw := range m.frameworks {
		if !fw.active || !fw.hasRole(role) {
			continue
		}
		f := fw
		alloc := m.allocatedTo(func(o *framework, r string) bool { return o == f && r == role })
		entries = append(entries, drfEntry{fw.id, dominantShare(alloc, total), fw.allocations[role]})
	}
	var out []*framework
	for _, id := range sortDRF(entries) {
		out = append(out, m.frameworks[id])
	}
	return out
}

// sortedFrameworks returns the registered frameworks in id order.
func (m *Master) sortedFrameworks() []*framework {
	out := make([]*framework, 0, len(m.frameworks))
	for _, fw := range m.frameworks {
		out = append(out, fw)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// newOffer records an offer and arms its offer timeout.
func (m *Master) newOffer(fw *framework, a *agent, role string, res Resources) *offer {
	o := &offer{id: m.newOfferID(), fw: fw, agent: a, role: role, res: res}
	m.offers[o.id] = o
	m.roleAllocations[role]++
	fw.allocations[role]++
	if m.cfg.OfferTimeout > 0 {
		o.timer = m.afterFunc(m.cfg.OfferTimeout, func() {
			if m.offers[o.id] == o {
				m.rescindOffer(o)
			}
		})
	}
	return o
}

// sendOffers sends one OFFERS event with the given offers.
func (m *Master) sendOffers(fw *framework, offers []*offer) {
	ev := &scheduler.Event{Type: scheduler.Event_OFFERS, Offers: &scheduler.Event_Offers{}}
	for _, o := range offers {
		ev.Offers.Offers = append(ev.Offers.Offers, m.offerProto(o))
		m.recordLocked(RoleEvent{Kind: RoleOffered, FrameworkID: fw.id, Roles: []string{o.role}, Agent: o.agent.info.Hostname})
	}
	m.send(fw, ev)
}

// offerProto renders an offer exactly like the master does.
func (m *Master) offerProto(o *offer) mesos.Offer {
	return mesos.Offer{
		ID:             mesos.OfferID{Value: o.id},
		FrameworkID:    mesos.FrameworkID{Value: o.fw.id},
		AgentID:        mesos.AgentID{Value: o.agent.id},
		Hostname:       o.agent.info.Hostname,
		URL:            o.agent.offerURL(),
		Resources:      o.res.toMesos(o.role),
		Attributes:     o.agent.attributes(),
		Unavailability: m.unavailability(o.agent),
		AllocationInfo: &mesos.Resource_AllocationInfo{Role: strPtr(o.role)},
	}
}

// removeOffer forgets an offer (its resources become available again).
func (m *Master) removeOffer(o *offer) {
	if o.timer != nil {
		o.timer.Stop()
	}
	delete(m.offers, o.id)
}

// rescindOffer removes an offer and sends RESCIND to its framework.
func (m *Master) rescindOffer(o *offer) {
	m.removeOffer(o)
	m.send(o.fw, &scheduler.Event{
		Type:    scheduler.Event_RESCIND,
		Rescind: &scheduler.Event_Rescind{OfferID: mesos.OfferID{Value: o.id}},
	})
}

// removeOffersOf removes (rescind=true: rescinds) all offers of fw.
func (m *Master) removeOffersOf(fw *framework, rescind bool) {
	for _, o := range m.sortedOffers() {
		if o.fw != fw {
			continue
		}
		if rescind {
			m.rescindOffer(o)
		} else {
			m.removeOffer(o)
		}
	}
}

// rescindOffersOn rescinds every offer for agent a.
func (m *Master) rescindOffersOn(a *agent) {
	for _, o := range m.sortedOffers() {
		if o.agent == a {
			m.rescindOffer(o)
		}
	}
}

// sortedOffers returns the outstanding offers in creation order.
func (m *Master) sortedOffers() []*offer {
	out := make([]*offer, 0, len(m.offers))
	for _, o := range m.offers {
		out = append(out, o)
	}
	sortByOfferSeq(out, func(o *offer) string { return o.id })
	return out
}

// sortByOfferSeq sorts items by the sequence number of their offer id.
func sortByOfferSeq[T any](items []T, id func(T) string) {
	sort.Slice(items, func(i, j int) bool { return offerSeq(id(items[i])) < offerSeq(id(items[j])) })
}

// offerSeq extracts n from "<master-id>-O<n>".
func offerSeq(id string) int {
	n, _ := strconv.Atoi(id[strings.LastIndex(id, "-O")+2:])
	return n
}

// decline handles DECLINE: valid offers are removed and filtered; unknown
// offer ids are ignored silently.
func (m *Master) decline(fw *framework, d *scheduler.Call_Decline) {
	refuse := m.refuseDuration(d.Filters)
	for _, id := range d.OfferIDs {
		o := m.offers[id.Value]
		if o == nil || o.fw != fw {
			continue
		}
		m.removeOffer(o)
		m.addFilter(fw, o.agent, o.role, o.res, refuse)
	}
}

// revive clears the filters and suppression of the given roles (all roles
// when empty) and allocates at once.
func (m *Master) revive(fw *framework, roles []string) {
	m.recordLocked(RoleEvent{Kind: RoleRevived, FrameworkID: fw.id, Roles: slices.Clone(roles)})
	set := roleSet(fw, roles)
	kept := fw.filters[:0]
	for _, f := range fw.filters {
		if !set[f.role] {
			kept = append(kept, f)
		}
	}
	fw.filters = kept
	for r := range set {
		delete(fw.suppressed, r)
	}
	m.allocate()
}

// suppress stops offers for the given roles (all roles when empty); it does
// not rescind outstanding offers.
func (m *Master) suppress(fw *framework, roles []string) {
	m.recordLocked(RoleEvent{Kind: RoleSuppressed, FrameworkID: fw.id, Roles: slices.Clone(roles)})
	for r := range roleSet(fw, roles) {
		fw.suppressed[r] = true
	}
}

// roleSet returns roles as a set, or all of fw's roles when roles is empty.
func roleSet(fw *framework, roles []string) map[string]bool {
	if len(roles) == 0 {
		roles = fw.roles
	}
	set := map[string]bool{}
	for _, r := range roles {
		set[r] = true
	}
	return set
}
