package mesosemulator

import (
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"
	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// framework is a subscribed (or disconnected, or completed) framework.
type framework struct {
	id               string
	info             mesos.FrameworkInfo
	roles            []string
	suppressed       map[string]bool
	filters          []offerFilter
	allocations      map[string]int // per role, the DRF tie breaker
	stream           *stream
	active           bool
	registeredTime   time.Time
	reregisteredTime time.Time
	unregisteredTime time.Time
	failoverTimer    *time.Timer
	// recovered: learnt from re-registering agents after a leader
	// failover, not (yet) re-subscribed to this master.
	recovered bool

	tasks     map[string]*task
	completed []*task
}

// offerFilter refuses resources of one agent to one (framework, role) until
// it expires, like the allocator's RefusedOfferFilter.
type offerFilter struct {
	agentID string
	role    string
	res     Resources
	expires time.Time
}

// hasCap reports whether the framework declared a capability.
func (fw *framework) hasCap(c mesos.FrameworkInfo_Capability_Type) bool {
	return hasCap(&fw.info, c)
}

// hasCap reports whether info declares a capability.
func hasCap(info *mesos.FrameworkInfo, c mesos.FrameworkInfo_Capability_Type) bool {
	for _, cp := range info.Capabilities {
		if cp.Type == c {
			return true
		}
	}
	return false
}

// partitionAware reports the PARTITION_AWARE capability.
func (fw *framework) partitionAware() bool {
	return fw.hasCap(mesos.FrameworkInfo_Capability_PARTITION_AWARE)
}

// hasRole reports whether the framework is subscribed to role.
func (fw *framework) hasRole(role string) bool {
	for _, r := range fw.roles {
		if r == role {
			return true
		}
	}
	return false
}

// connected reports whether the framework has a subscription stream.
func (fw *framework) connected() bool { return fw.stream != nil }

// stopTimers stops the failover and task retry timers.
func (fw *framework) stopTimers() {
	if fw.failoverTimer != nil {
		fw.failoverTimer.Stop()
		fw.failoverTimer = nil
	}
	for _, t := range fw.tasks {
		t.stopRetry()
	}
}

// sortedTasks returns the framework's tasks in launch order.
func (fw *framework) sortedTasks() []*task {
	out := make([]*task, 0, len(fw.tasks))
	for _, t := range fw.tasks {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// frameworkRoles returns the roles a FrameworkInfo subscribes to: roles for
// MULTI_ROLE frameworks, otherwise the legacy role (default "*").
func frameworkRoles(info *mesos.FrameworkInfo) []string {
	if hasCap(info, mesos.FrameworkInfo_Capability_MULTI_ROLE) {
		return append([]string(nil), info.Roles...)
	}
	if info.Role != nil && *info.Role != "" {
		return []string{*info.Role}
	}
	return []string{"*"}
}

// isRemoved reports whether a framework id belongs to a removed framework.
func (m *Master) isRemoved(id string) bool {
	for _, fw := range m.completed {
		if fw.id == id {
			return true
		}
	}
	return false
}

// subscribe handles SUBSCRIBE for stream s and returns the framework id, or
// the message of the ERROR event the subscription must be answered with.
func (m *Master) subscribe(call *scheduler.Call, s *stream) (string, string) {
	sub := call.Subscribe
	info := *sub.FrameworkInfo
	id := ""
	if info.ID != nil {
		id = info.ID.Value
	}
	if id != "" && m.isRemoved(id) {
		return id, "Framework has been removed"
	}
	fw := m.frameworks[id]
	if fw == nil {
		fw = m.addFramework(id, info)
	} else {
		m.failover(fw, info)
	}
	fw.setSuppressed(sub.SuppressedRoles)
	m.recordLocked(RoleEvent{Kind: RoleSubscribedSuppressed, FrameworkID: fw.id, Roles: slices.Clone(sub.SuppressedRoles)})
	fw.stream = s
	fw.active = true
	m.send(fw, &scheduler.Event{
		Type: scheduler.Event_SUBSCRIBED,
		Subscribed: &scheduler.Event_Subscribed{
			FrameworkID:              &mesos.FrameworkID{Value: fw.id},
			HeartbeatIntervalSeconds: floatPtr(m.cfg.HeartbeatInterval.Seconds()),
			MasterInfo:               m.masterInfo(),
		},
	})
	m.send(fw, &scheduler.Event{Type: scheduler.Event_HEARTBEAT})
	m.allocate()
	m.offerMaintenance()
	m.resendUnacknowledged(fw)
	return fw.id, ""
}

// addFramework registers a new framework (or adopts an unknown id, as a
// master does after a leader failover).
func (m *Master) addFramework(id string, info mesos.FrameworkInfo) *framework {
	if id == "" {
		id = m.newFrameworkID()
	}
	info.ID = &mesos.FrameworkID{Value: id}
	fw := &framework{
		id: id, info: info, roles: frameworkRoles(&info),
		suppressed: map[string]bool{}, allocations: map[string]int{},
		registeredTime: time.Now(), tasks: map[string]*task{},
	}
	m.frameworks[id] = fw
	m.logf("framework %s (%s) registered with roles %v", id, info.Name, fw.roles)
	return fw
}

// failover replaces the connection of a known framework: the old stream gets
// ERROR "Framework failed over" and is closed, outstanding offers are removed.
func (m *Master) failover(fw *framework, info mesos.FrameworkInfo) {
	if fw.failoverTimer != nil {
		fw.failoverTimer.Stop()
		fw.failoverTimer = nil
	}
	if old := fw.stream; old != nil {
		m.send(fw, errorEvent("Framework failed over"))
		old.close(false)
		fw.stream = nil
	}
	m.removeOffersOf(fw, false)
	info.ID = &mesos.FrameworkID{Value: fw.id}
	fw.info = info
	fw.roles = frameworkRoles(&info)
	fw.reregisteredTime = time.Now()
	fw.recovered = false
	m.logf("framework %s failed over", fw.id)
}

// setSuppressed replaces the set of suppressed roles.
func (fw *framework) setSuppressed(roles []string) {
	fw.suppressed = map[string]bool{}
	for _, r := range roles {
		fw.suppressed[r] = true
	}
}

// streamEnded handles the end of a stream's writer. If s is still the
// framework's stream, the client went away: the framework becomes inactive,
// its offers are removed and the failover timeout starts.
func (m *Master) streamEnded(s *stream) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, fw := range m.frameworks {
		if fw.stream == s {
			m.disconnect(fw)
		}
	}
}

// disconnect marks a framework disconnected and arms its failover timeout.
func (m *Master) disconnect(fw *framework) {
	fw.stream = nil
	fw.active = false
	m.removeOffersOf(fw, false)
	m.rescindInverseOffersOf(fw, false)
	timeout := time.Duration(fw.info.GetFailoverTimeout() * float64(time.Second))
	m.logf("framework %s disconnected; failover timeout %s", fw.id, timeout)
	if !m.leader || m.closed {
		return // only a running, leading master removes frameworks
	}
	if fw.failoverTimer != nil {
		fw.failoverTimer.Stop()
	}
	fw.failoverTimer = m.afterFunc(timeout, func() {
		if m.frameworks[fw.id] == fw && !fw.connected() {
			m.removeFramework(fw)
		}
	})
}

// removeFramework tears a framework down: its stream is closed without an
// event, its tasks are killed and it moves to completed_frameworks.
func (m *Master) removeFramework(fw *framework) {
	fw.stopTimers()
	if fw.stream != nil {
		fw.stream.close(false)
		fw.stream = nil
	}
	fw.active = false
	fw.unregisteredTime = time.Now()
	m.removeOffersOf(fw, false)
	m.rescindInverseOffersOf(fw, false)
	for _, t := range fw.sortedTasks() {
		if !isTerminal(t.state) {
			t.pending = nil
			m.applyStatus(t, m.executorStatus(t, mesos.TASK_KILLED, "Command terminated with signal Terminated"))
		}
		m.completeTask(t)
	}
	delete(m.frameworks, fw.id)
	m.completed = append(m.completed, fw)
	m.logf("framework %s removed", fw.id)
}

// updateFramework applies UPDATE_FRAMEWORK; it returns the 400 text on error.
func (m *Master) updateFramework(fw *framework, upd *scheduler.Call_UpdateFramework) string {
	info := upd.FrameworkInfo
	if info.GetPrincipal() != fw.info.GetPrincipal() {
		return "FrameworkInfo update is not valid: Changing framework's principal is not allowed."
	}
	newRoles := frameworkRoles(&info)
	hadGPU := fw.hasCap(mesos.FrameworkInfo_Capability_GPU_RESOURCES)
	fw.info = info
	fw.roles = newRoles
	fw.setSuppressed(upd.SuppressedRoles)
	m.recordLocked(RoleEvent{Kind: RoleUpdatedSuppressed, FrameworkID: fw.id, Roles: slices.Clone(upd.SuppressedRoles)})
	dropGPU := hadGPU && !fw.hasCap(mesos.FrameworkInfo_Capability_GPU_RESOURCES) && m.filterGPUs()
	for _, o := range m.sortedOffers() {
		if o.fw == fw && (!fw.hasRole(o.role) || (dropGPU && o.agent.hasGPUs())) {
			m.rescindOffer(o)
		}
	}
	m.resendUnacknowledged(fw)
	return ""
}

// errorEvent builds an ERROR event.
func errorEvent(msg string) *scheduler.Event {
	return &scheduler.Event{Type: scheduler.Event_ERROR, Error: &scheduler.Event_Error{Message: msg}}
}

// floatPtr returns a pointer to f.
func floatPtr(f float64) *float64 { return &f }

// newStreamID returns a fresh Mesos-Stream-Id.
func newStreamID() string { return uuid.NewString() }
