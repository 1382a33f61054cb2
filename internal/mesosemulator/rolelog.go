package mesosemulator

import (
	"slices"
	"sort"
	"time"
)

// RoleEventKind says what a RoleEvent records.
type RoleEventKind int

// What the master records per framework and role (RoleEvents).
const (
	// RoleOffered: an offer for Role (on Agent) was sent to the framework.
	RoleOffered RoleEventKind = iota
	// RoleSuppressed: a SUPPRESS call for Roles (all the framework's roles
	// when it named none).
	RoleSuppressed
	// RoleRevived: a REVIVE call for Roles (all when it named none).
	RoleRevived
	// RoleSubscribedSuppressed: a SUBSCRIBE, with the suppressed_roles it
	// named in Roles (they replace the framework's suppressed set).
	RoleSubscribedSuppressed
	// RoleUpdatedSuppressed: an UPDATE_FRAMEWORK, with the suppressed_roles
	// it named in Roles (they replace the framework's suppressed set).
	RoleUpdatedSuppressed
)

// RoleEvent is one entry of the master's per-role record.
type RoleEvent struct {
	At          time.Time
	Kind        RoleEventKind
	FrameworkID string
	// Roles: the offer's role, or the roles the call named.
	Roles []string
	// Agent is the offered agent's hostname (RoleOffered).
	Agent string
}

// maxRoleEvents bounds the record: the oldest entries are dropped beyond.
const maxRoleEvents = 100000

// recordLocked appends to the per-role record (m.mu held).
func (m *Master) recordLocked(e RoleEvent) {
	e.At = time.Now()
	if len(m.roleLog) >= maxRoleEvents {
		m.roleLog = slices.Delete(m.roleLog, 0, len(m.roleLog)-maxRoleEvents+1)
	}
	m.roleLog = append(m.roleLog, e)
}

// RoleEvents returns what the master recorded since t (offers sent per
// role; SUPPRESS, REVIVE and the suppressed_roles of SUBSCRIBE and
// UPDATE_FRAMEWORK), oldest first, at most the last 100,000.
func (m *Master) RoleEvents(since time.Time) []RoleEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := sort.Search(len(m.roleLog), func(i int) bool { return !m.roleLog[i].At.Before(since) })
	return slices.Clone(m.roleLog[i:])
}

// OffersSince counts the offers sent to a framework since t, per role.
func (m *Master) OffersSince(since time.Time, frameworkID string) map[string]int {
	out := map[string]int{}
	for _, e := range m.RoleEvents(since) {
		if e.Kind == RoleOffered && e.FrameworkID == frameworkID {
			out[e.Roles[0]]++
		}
	}
	return out
}

// Suppressed returns the roles the master suppresses for a framework now.
func (m *Master) Suppressed(frameworkID string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	fw := m.frameworks[frameworkID]
	if fw == nil {
		return nil
	}
	var out []string
	for r, on := range fw.suppressed {
		if on {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}
