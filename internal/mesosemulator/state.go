package mesosemulator

import (
	"encoding/json"
	"strconv"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// State is the document served at GET /master/state (same JSON shape as a
// real 1.12 master, including "slaves"/"slave_id" naming and flat resource
// maps).
type State struct {
	Version                string            `json:"version"`
	GitSHA                 string            `json:"git_sha"`
	GitBranch              string            `json:"git_branch"`
	BuildDate              string            `json:"build_date"`
	BuildTime              Float             `json:"build_time"`
	BuildUser              string            `json:"build_user"`
	StartTime              Float             `json:"start_time"`
	ElectedTime            Float             `json:"elected_time,omitempty"`
	ID                     string            `json:"id"`
	PID                    string            `json:"pid"`
	Hostname               string            `json:"hostname"`
	Capabilities           []string          `json:"capabilities"`
	ActivatedSlaves        int               `json:"activated_slaves"`
	DeactivatedSlaves      int               `json:"deactivated_slaves"`
	UnreachableSlaves      int               `json:"unreachable_slaves"`
	Leader                 string            `json:"leader,omitempty"`
	LeaderInfo             json.RawMessage   `json:"leader_info,omitempty"`
	LogDir                 string            `json:"log_dir"`
	Flags                  map[string]string `json:"flags"`
	Slaves                 []StateAgent      `json:"slaves"`
	RecoveredSlaves        []any             `json:"recovered_slaves"`
	Frameworks             []StateFramework  `json:"frameworks"`
	CompletedFrameworks    []StateFramework  `json:"completed_frameworks"`
	OrphanTasks            []StateTask       `json:"orphan_tasks"`
	UnregisteredFrameworks []string          `json:"unregistered_frameworks"`
}

// StateFramework is one entry of frameworks / completed_frameworks.
type StateFramework struct {
	ID               string         `json:"id"`
	Name             string         `json:"name"`
	UsedResources    ResourceMap    `json:"used_resources"`
	OfferedResources ResourceMap    `json:"offered_resources"`
	Capabilities     []string       `json:"capabilities"`
	Hostname         string         `json:"hostname"`
	WebuiURL         string         `json:"webui_url"`
	Active           bool           `json:"active"`
	Connected        bool           `json:"connected"`
	Recovered        bool           `json:"recovered"`
	User             string         `json:"user"`
	FailoverTimeout  Float          `json:"failover_timeout"`
	Checkpoint       bool           `json:"checkpoint"`
	RegisteredTime   Float          `json:"registered_time"`
	UnregisteredTime Float          `json:"unregistered_time"`
	Principal        string         `json:"principal,omitempty"`
	Resources        ResourceMap    `json:"resources"`
	ReregisteredTime Float          `json:"reregistered_time,omitempty"`
	Roles            []string       `json:"roles"`
	Tasks            []StateTask    `json:"tasks"`
	UnreachableTasks []StateTask    `json:"unreachable_tasks"`
	CompletedTasks   []StateTask    `json:"completed_tasks"`
	Offers           []StateOffer   `json:"offers"`
	Executors        []any          `json:"executors"`
	OfferConstraints map[string]any `json:"offer_constraints"`
}

// StateTask is one task of /master/state.
type StateTask struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	FrameworkID string            `json:"framework_id"`
	ExecutorID  string            `json:"executor_id"`
	SlaveID     string            `json:"slave_id"`
	State       string            `json:"state"`
	Resources   ResourceMap       `json:"resources"`
	Role        string            `json:"role"`
	Statuses    []StateTaskStatus `json:"statuses"`
}

// StateTaskStatus is one entry of a task's statuses.
type StateTaskStatus struct {
	State           string          `json:"state"`
	Timestamp       Float           `json:"timestamp"`
	ContainerStatus json.RawMessage `json:"container_status,omitempty"`
}

// StateOffer is one outstanding offer of /master/state.
type StateOffer struct {
	ID             string            `json:"id"`
	FrameworkID    string            `json:"framework_id"`
	AllocationInfo map[string]string `json:"allocation_info"`
	SlaveID        string            `json:"slave_id"`
	Resources      ResourceMap       `json:"resources"`
}

// StateAgent is one entry of "slaves".
type StateAgent struct {
	ID                  string                 `json:"id"`
	Hostname            string                 `json:"hostname"`
	Port                int                    `json:"port"`
	PID                 string                 `json:"pid"`
	Attributes          map[string]any         `json:"attributes"`
	Resources           ResourceMap            `json:"resources"`
	UsedResources       ResourceMap            `json:"used_resources"`
	OfferedResources    ResourceMap            `json:"offered_resources"`
	ReservedResources   map[string]ResourceMap `json:"reserved_resources"`
	UnreservedResources ResourceMap            `json:"unreserved_resources"`
	Active              bool                   `json:"active"`
	Deactivated         bool                   `json:"deactivated"`
	RegisteredTime      Float                  `json:"registered_time"`
	Version             string                 `json:"version"`
	Capabilities        []string               `json:"capabilities"`
}

// agentCapabilities are the capabilities a 1.12 agent reports.
var agentCapabilities = []string{"MULTI_ROLE", "HIERARCHICAL_ROLE", "RESERVATION_REFINEMENT",
	"RESOURCE_PROVIDER", "RESIZE_VOLUME", "AGENT_OPERATION_FEEDBACK", "AGENT_DRAINING", "TASK_RESOURCE_LIMITS"}

// State returns the same data as GET /master/state.
func (m *Master) State() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := State{
		Version: Version, GitSHA: "", GitBranch: "", BuildDate: "", BuildUser: "emulator",
		StartTime: seconds(m.startTime), ID: m.id, PID: m.pid(), Hostname: m.cfg.Hostname,
		Capabilities: []string{"AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"},
		Flags:        m.flags(), Slaves: []StateAgent{}, RecoveredSlaves: []any{},
		Frameworks: []StateFramework{}, CompletedFrameworks: []StateFramework{},
		OrphanTasks: []StateTask{}, UnregisteredFrameworks: []string{},
	}
	if m.leader {
		st.ElectedTime = seconds(m.electedTime)
		st.Leader = m.pid()
		st.LeaderInfo = marshalJSON(m.masterInfo())
	}
	for _, a := range m.agents {
		if a.unreachable {
			st.UnreachableSlaves++
			continue
		}
		st.ActivatedSlaves++
		st.Slaves = append(st.Slaves, m.agentState(a))
	}
	for _, fw := range m.sortedFrameworks() {
		st.Frameworks = append(st.Frameworks, m.frameworkState(fw))
	}
	for _, fw := range m.completed {
		st.CompletedFrameworks = append(st.CompletedFrameworks, m.frameworkState(fw))
	}
	return st
}

// flags is the "flags" object.
func (m *Master) flags() map[string]string {
	return map[string]string{
		"allocation_interval":            m.cfg.AllocationInterval.String(),
		"offer_timeout":                  m.cfg.OfferTimeout.String(),
		"hostname":                       m.cfg.Hostname,
		"filter_gpu_resources":           boolString(m.filterGPUs()),
		"authenticate_http_frameworks":   boolString(len(m.cfg.Credentials) > 0),
		"http_framework_authenticators":  "basic",
		"framework_sorter":               "drf",
		"role_sorter":                    "drf",
		"min_allocatable_resources":      "cpus:0.01|mem:32",
		"max_agent_ping_timeouts":        "5",
		"agent_ping_timeout":             "15secs",
		"authenticate_http_readonly":     "false",
		"authenticate_http_readwrite":    "false",
		"authenticate_frameworks":        "false",
		"zk_session_timeout":             "10secs",
		"registry":                       "in_memory",
		"port":                           "",
		"allocator":                      "hierarchical",
		"heartbeat_interval_seconds_api": m.cfg.HeartbeatInterval.String(),
	}
}

// boolString renders a flag boolean.
func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// agentState renders one agent.
func (m *Master) agentState(a *agent) StateAgent {
	var used, offered Resources
	for _, fw := range m.frameworks {
		for _, t := range fw.tasks {
			if t.agent == a && t.holdsResources() {
				used = used.Add(t.res)
			}
		}
	}
	for _, o := range m.offers {
		if o.agent == a {
			offered = offered.Add(o.res)
		}
	}
	attrs := map[string]any{}
	for _, at := range a.attributes() {
		if at.Scalar != nil {
			attrs[at.Name] = Float(at.Scalar.Value)
		} else {
			attrs[at.Name] = at.Text.Value
		}
	}
	return StateAgent{
		ID: a.id, Hostname: a.info.Hostname, Port: a.info.Port,
		PID:        "slave(1)@" + a.info.IP + ":" + strconv.Itoa(a.info.Port),
		Attributes: attrs, Resources: resourceMap(a.total),
		UsedResources: resourceMap(used), OfferedResources: resourceMap(offered),
		ReservedResources: map[string]ResourceMap{}, UnreservedResources: resourceMap(a.total),
		Active: true, RegisteredTime: seconds(a.registeredTime), Version: Version,
		Capabilities: agentCapabilities,
	}
}

// frameworkState renders one framework.
func (m *Master) frameworkState(fw *framework) StateFramework {
	var used, offered Resources
	s := StateFramework{
		ID: fw.id, Name: fw.info.Name, Capabilities: []string{},
		Hostname: fw.info.GetHostname(), WebuiURL: fw.info.GetWebUiURL(),
		Active: fw.active, Connected: fw.connected(), Recovered: fw.recovered, User: fw.info.User,
		FailoverTimeout: Float(fw.info.GetFailoverTimeout()), Checkpoint: fw.info.GetCheckpoint(),
		RegisteredTime: seconds(fw.registeredTime), UnregisteredTime: seconds(fw.unregisteredTime),
		Principal: fw.info.GetPrincipal(), ReregisteredTime: seconds(fw.reregisteredTime),
		Roles: append([]string{}, fw.roles...), Tasks: []StateTask{}, UnreachableTasks: []StateTask{},
		CompletedTasks: []StateTask{}, Offers: []StateOffer{}, Executors: []any{},
		OfferConstraints: map[string]any{},
	}
	for _, c := range fw.info.Capabilities {
		s.Capabilities = append(s.Capabilities, c.Type.String())
	}
	for _, t := range fw.sortedTasks() {
		if t.unreachable {
			s.UnreachableTasks = append(s.UnreachableTasks, taskState(t))
			continue
		}
		if t.holdsResources() {
			used = used.Add(t.res)
		}
		s.Tasks = append(s.Tasks, taskState(t))
	}
	for _, t := range fw.completed {
		s.CompletedTasks = append(s.CompletedTasks, taskState(t))
	}
	for _, o := range m.sortedOffers() {
		if o.fw == fw {
			offered = offered.Add(o.res)
			s.Offers = append(s.Offers, StateOffer{
				ID: o.id, FrameworkID: fw.id, AllocationInfo: map[string]string{"role": o.role},
				SlaveID: o.agent.id, Resources: resourceMap(o.res),
			})
		}
	}
	s.UsedResources, s.OfferedResources = resourceMap(used), resourceMap(offered)
	s.Resources = resourceMap(used.Add(offered))
	return s
}

// taskState renders one task.
func taskState(t *task) StateTask {
	st := StateTask{
		ID: t.id, Name: t.name, FrameworkID: t.fw.id, ExecutorID: t.executorID, SlaveID: t.agent.id,
		State: t.state.String(), Resources: resourceMap(t.res), Role: t.role, Statuses: []StateTaskStatus{},
	}
	if t.unreachable {
		st.State = mesos.TASK_UNREACHABLE.String()
	}
	for _, s := range t.statuses {
		ss := StateTaskStatus{State: s.GetState().String(), Timestamp: Float(s.GetTimestamp())}
		if s.ContainerStatus != nil {
			cs := *s.ContainerStatus
			cs.ExecutorPID = nil
			ss.ContainerStatus = marshalJSON(&cs)
		}
		st.Statuses = append(st.Statuses, ss)
	}
	return st
}

// seconds converts a time to Mesos float seconds (0 for the zero time).
func seconds(t time.Time) Float {
	if t.IsZero() {
		return 0
	}
	return Float(float64(t.UnixNano()) / 1e9)
}
