package mesosemulator

import (
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// Master is a running emulated Mesos master. All methods are safe for
// concurrent use.
type Master struct {
	cfg       Config
	id        string
	ip        string // advertised IPv4 address
	port      int
	startTime time.Time

	ln   net.Listener
	srv  *http.Server
	done chan struct{}
	wg   sync.WaitGroup
	// roleLog is the per-role record (rolelog.go), under mu.
	roleLog []RoleEvent

	heartbeatsOff atomic.Bool

	statsMu sync.Mutex
	stats   CallStats

	// held are the call types HoldCalls holds, each with the channel its
	// release closes; holding counts the calls waiting (faults.go).
	heldMu  sync.Mutex
	held    map[string]chan struct{}
	holding atomic.Int32

	mu             sync.Mutex
	closed         bool
	leader         bool
	leaderHostPort string
	electedTime    time.Time

	agents        []*agent // registered, in id order
	goneAgents    map[string]bool
	frameworks    map[string]*framework
	completed     []*framework
	offers        map[string]*offer
	inverseOffers map[string]*inverseOffer
	maintenance   map[string]*maintenanceWindow // by agent id
	ioResponses   []InverseOfferResponse

	nextFramework, nextOffer, nextAgent, nextTask int
	roleAllocations                               map[string]int
	failAccepts                                   int
	removeAfterLaunch                             map[string]bool // hostnames (RemoveAgentAfterLaunch)
	pidCounter                                    uint32

	zk *zkRegistration

	hold holdState // slow executors (HoldTasks)
}

// agent is one simulated mesos-agent.
type agent struct {
	id              string
	info            Agent
	total           Resources
	registeredTime  time.Time
	unreachable     bool
	unreachableTime time.Time
}

// hasGPUs reports whether the agent is a GPU agent.
func (a *agent) hasGPUs() bool { return a.total.GPUs > 0 }

// offer is an outstanding resource offer.
type offer struct {
	id    string
	fw    *framework
	agent *agent
	role  string
	res   Resources
	timer *time.Timer
}

// Start validates cfg, registers its agents, starts listening and returns
// the running master.
func Start(cfg Config) (*Master, error) {
	cfg = cfg.withDefaults()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, err
	}
	m := newMaster(cfg, ln)
	for _, a := range cfg.Agents {
		if _, err := m.addAgent(a); err != nil {
			ln.Close()
			return nil, err
		}
	}
	m.srv = &http.Server{Handler: m.routes(), ErrorLog: log.New(io.Discard, "", 0)}
	if cfg.TLS != nil {
		tc := cfg.TLS.Clone()
		tc.NextProtos = []string{"http/1.1"} // libprocess speaks HTTP/1.1 only
		ln = tls.NewListener(ln, tc)
	}
	m.wg.Add(2)
	go func() { defer m.wg.Done(); _ = m.srv.Serve(ln) }()
	go func() { defer m.wg.Done(); m.allocationLoop() }()
	return m, nil
}

// newMaster builds the master state around a listener.
func newMaster(cfg Config, ln net.Listener) *Master {
	addr := ln.Addr().(*net.TCPAddr)
	ip := addr.IP.To4()
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1).To4()
	}
	id := cfg.MasterID
	if id == "" {
		id = uuid.NewString()
	}
	now := time.Now()
	return &Master{
		cfg: cfg, id: id, ip: ip.String(), port: addr.Port, startTime: now,
		ln: ln, done: make(chan struct{}),
		leader: *cfg.Leader, leaderHostPort: cfg.LeaderHostPort, electedTime: now,
		goneAgents:      map[string]bool{},
		frameworks:      map[string]*framework{},
		offers:          map[string]*offer{},
		inverseOffers:   map[string]*inverseOffer{},
		maintenance:     map[string]*maintenanceWindow{},
		roleAllocations: map[string]int{},
		pidCounter:      16000,
	}
}

// URL returns the master's base URL, e.g. "http://127.0.0.1:5050"
// ("https://..." with Config.TLS).
func (m *Master) URL() string {
	scheme := "http"
	if m.cfg.TLS != nil {
		scheme = "https"
	}
	return fmt.Sprintf("%s://%s:%d", scheme, m.ip, m.port)
}

// SchedulerURL returns the URL of the v1 scheduler endpoint.
func (m *Master) SchedulerURL() string { return m.URL() + "/api/v1/scheduler" }

// HostPort returns "<advertised hostname>:<port>", the form used in 307
// Location headers and ZooKeeper.
func (m *Master) HostPort() string { return fmt.Sprintf("%s:%d", m.cfg.Hostname, m.port) }

// ID returns the master id (the prefix of framework, agent and offer ids).
// A master that lost leadership to another (TakeOver) gets a new one.
func (m *Master) ID() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.id
}

// Close stops the master: every stream is dropped and the listener closed.
func (m *Master) Close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	close(m.done)
	for _, o := range m.offers {
		if o.timer != nil {
			o.timer.Stop()
		}
	}
	for _, fw := range m.frameworks {
		fw.stopTimers()
	}
	zk := m.zk
	m.zk = nil
	m.mu.Unlock()
	if zk != nil {
		zk.close()
	}
	_ = m.srv.Close()
	m.wg.Wait()
}

// allocationLoop runs the batch allocator every AllocationInterval.
func (m *Master) allocationLoop() {
	t := time.NewTicker(m.cfg.AllocationInterval)
	defer t.Stop()
	for {
		select {
		case <-m.done:
			return
		case <-t.C:
			m.mu.Lock()
			if !m.closed && m.leader {
				m.allocate()
				m.offerMaintenance()
			}
			m.mu.Unlock()
		}
	}
}

// afterFunc runs f under the master lock after d, unless the master closed.
func (m *Master) afterFunc(d time.Duration, f func()) *time.Timer {
	return time.AfterFunc(d, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if !m.closed {
			f()
		}
	})
}

// logf logs through Config.Logf.
func (m *Master) logf(format string, args ...any) {
	if m.cfg.Logf != nil {
		m.cfg.Logf(format, args...)
	}
}

// masterInfo is the MasterInfo of SUBSCRIBED and ZooKeeper.
func (m *Master) masterInfo() *mesos.MasterInfo {
	ip := net.ParseIP(m.ip).To4()
	port := uint32(m.port)
	return &mesos.MasterInfo{
		ID:       m.id,
		IP:       binary.LittleEndian.Uint32(ip),
		Port:     &port,
		PID:      strPtr(m.pid()),
		Hostname: strPtr(m.cfg.Hostname),
		Version:  strPtr(Version),
		Address:  &mesos.Address{Hostname: strPtr(m.cfg.Hostname), IP: strPtr(m.ip), Port: int32(m.port)},
		Capabilities: []mesos.MasterInfo_Capability{
			{Type: mesos.MasterInfo_Capability_AGENT_UPDATE},
			{Type: mesos.MasterInfo_Capability_AGENT_DRAINING},
			{Type: QuotaV2},
		},
	}
}

// pid is the libprocess pid of the master.
func (m *Master) pid() string { return fmt.Sprintf("master@%s:%d", m.ip, m.port) }

// newOfferID returns the next "<master-id>-O<n>" (shared by inverse offers).
func (m *Master) newOfferID() string {
	id := fmt.Sprintf("%s-O%d", m.id, m.nextOffer)
	m.nextOffer++
	return id
}

// newFrameworkID returns the next "<master-id>-<nnnn>".
func (m *Master) newFrameworkID() string {
	id := fmt.Sprintf("%s-%04d", m.id, m.nextFramework)
	m.nextFramework++
	return id
}

// addAgent registers a new agent and returns it.
func (m *Master) addAgent(cfg Agent) (*agent, error) {
	if cfg.Hostname == "" {
		return nil, fmt.Errorf("agent without hostname")
	}
	if m.agentByHost(cfg.Hostname) != nil {
		return nil, fmt.Errorf("agent %q already registered", cfg.Hostname)
	}
	if cfg.IP == "" {
		cfg.IP = DefaultAgentIP
	}
	if cfg.Port == 0 {
		cfg.Port = DefaultAgentPort
	}
	r := cfg.Resources
	r.Ports = normalizeRanges(r.Ports)
	a := &agent{
		id:   fmt.Sprintf("%s-S%d", m.id, m.nextAgent),
		info: cfg, total: r, registeredTime: time.Now(),
	}
	m.nextAgent++
	m.agents = append(m.agents, a)
	m.logf("agent %s registered as %s with %s", cfg.Hostname, a.id, formatResources(r.toMesos("")))
	return a, nil
}

// agentByHost finds a registered agent by hostname.
func (m *Master) agentByHost(host string) *agent {
	for _, a := range m.agents {
		if a.info.Hostname == host {
			return a
		}
	}
	return nil
}

// agentByID finds a registered agent by id.
func (m *Master) agentByID(id string) *agent {
	for _, a := range m.agents {
		if a.id == id {
			return a
		}
	}
	return nil
}

// offerURL is the agent URL carried by offers.
func (a *agent) offerURL() *mesos.URL {
	return &mesos.URL{
		Scheme:  "http",
		Address: mesos.Address{Hostname: strPtr(a.info.Hostname), IP: strPtr(a.info.IP), Port: int32(a.info.Port)},
		Path:    strPtr("/slave(1)"),
	}
}

// attributes converts the configured attributes (TEXT, or SCALAR for numbers)
// in name order.
func (a *agent) attributes() []mesos.Attribute {
	var out []mesos.Attribute
	for _, k := range sortedKeys(a.info.Attributes) {
		v := a.info.Attributes[k]
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			out = append(out, mesos.Attribute{Name: k, Type: mesos.SCALAR, Scalar: &mesos.Value_Scalar{Value: f}})
			continue
		}
		out = append(out, mesos.Attribute{Name: k, Type: mesos.TEXT, Text: &mesos.Value_Text{Value: v}})
	}
	return out
}

// send delivers an event to a framework's stream, if it is connected.
func (m *Master) send(fw *framework, ev *scheduler.Event) {
	if fw.stream == nil {
		return
	}
	fw.stream.send(ev)
	m.logf("event %s -> framework %s%s", ev.Type, fw.id, eventSummary(ev))
}

// eventSummary is a short human description of an event for the log.
func eventSummary(ev *scheduler.Event) string {
	switch {
	case ev.Offers != nil:
		s := ""
		for _, o := range ev.Offers.Offers {
			s += fmt.Sprintf(" %s(%s on %s: %s)", o.ID.Value, o.AllocationInfo.GetRole(), o.Hostname, formatResources(o.Resources))
		}
		return s
	case ev.Update != nil:
		st := ev.Update.Status
		return fmt.Sprintf(" task %s %s %s", st.TaskID.Value, st.GetState(), st.GetMessage())
	case ev.Rescind != nil:
		return " " + ev.Rescind.OfferID.Value
	case ev.Error != nil:
		return " " + ev.Error.Message
	}
	return ""
}

// now returns the current time as Mesos float seconds.
func nowSeconds() float64 { return float64(time.Now().UnixNano()) / 1e9 }

// newUUID returns 16 random bytes.
func newUUID() []byte {
	u := uuid.New()
	return u[:]
}
