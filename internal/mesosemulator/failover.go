package mesosemulator

import (
	"fmt"
	"time"

	"github.com/google/uuid"
)

// TakeOver makes m the leading master in place of old, as a leader failover
// does in Mesos (internal/mesosemulator/testdata/mesos-1.12-recording.md §9):
//
//   - old stops leading: every subscription stream it serves ends abruptly
//     (no ERROR event, the TCP connection drops), it answers 307 pointing
//     at m, and — like a real master, whose process exits when it loses
//     leadership and comes back as a fresh standby — it keeps no state: it
//     gets a new master id and forgets its agents, frameworks, tasks and
//     offers.
//   - m leads with old's agents, which re-register with the same agent ids
//     and their tasks (states, resources, status updates the frameworks
//     have not acknowledged yet). Frameworks with tasks come back
//     "recovered" (inactive, disconnected) and keep them when they
//     re-SUBSCRIBE with their framework id within failover_timeout (their
//     failover timeouts start now); a framework without tasks is unknown to
//     m and its re-SUBSCRIBE registers it again under the same id. Offers,
//     decline filters and suppressed roles are not carried: offer ids
//     restart at <m's id>-O0. Maintenance windows and the ids of removed
//     frameworks and agents are (the registry keeps them). Executors held
//     with HoldTasks stay held on their agents: ReleaseTasks on m.
//
// When old is registered in ZooKeeper, its znode lingers for its
// Config.ZKSessionTimeout (10 s by default, as a real master's session
// does when its process dies), so ZooKeeper keeps naming old while m
// already leads; then the znode goes (the election names the next master:
// m should be that one) and old registers again as a standby with a new
// znode, as a restarted master does. TakeOver returns at once.
//
// Agents registered on m itself (a standby has none in Mesos) are replaced
// by old's. A framework that already re-subscribed to m (m led before the
// agents came back) gets its tasks attached. It fails if m already runs
// tasks. old may be closed (a leader that died).
func (m *Master) TakeOver(old *Master) error {
	if m == old {
		return fmt.Errorf("TakeOver: a master cannot take over from itself")
	}
	m.mu.Lock()
	id, closed, busy := m.id, m.closed, m.runsTasks()
	m.mu.Unlock()
	switch {
	case closed:
		return fmt.Errorf("TakeOver: master %s is closed", id)
	case busy:
		return fmt.Errorf("TakeOver: master %s already runs tasks", id)
	}
	snap := old.surrender(m.HostPort())
	m.mu.Lock()
	m.recover(snap)
	m.mu.Unlock()
	// The old leader's process died without closing its ZooKeeper session:
	// its znode lingers until the session times out; then the election
	// names m, and the old master, restarted, joins again as a standby.
	old.mu.Lock()
	z, linger := old.zk, old.cfg.ZKSessionTimeout
	old.mu.Unlock()
	if z == nil {
		return nil
	}
	rejoin := func() error {
		old.LeaveZooKeeper()
		if _, err := old.RegisterInZooKeeper(z.servers, z.path); err != nil {
			return fmt.Errorf("TakeOver: the old leader rejoining ZooKeeper: %w", err)
		}
		return nil
	}
	if linger < 0 {
		return rejoin()
	}
	old.wg.Add(1)
	go func() {
		defer old.wg.Done()
		t := time.NewTimer(linger)
		defer t.Stop()
		select {
		case <-old.done: // closed meanwhile: Close ends the session
		case <-t.C:
			if err := rejoin(); err != nil {
				old.logf("%v", err)
			}
		}
	}()
	return nil
}

// registry is what a new leader recovers: the agents with their tasks (as
// they re-register) and what the replicated registry keeps.
type registry struct {
	agents      []*agent
	goneAgents  map[string]bool
	frameworks  []*framework // with non-completed tasks
	completed   []*framework
	maintenance map[string]*maintenanceWindow
	nextTask    int
	hold        holdState // the agents' slow executors (HoldTasks)
}

// runsTasks reports whether any framework has a non-completed task.
func (m *Master) runsTasks() bool {
	for _, fw := range m.frameworks {
		if len(fw.tasks) > 0 {
			return true
		}
	}
	return false
}

// surrender ends old's leadership in favour of leaderHostPort and hands over
// its state, which old then forgets (it restarts as a standby).
func (m *Master) surrender(leaderHostPort string) registry {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.leader, m.leaderHostPort = false, leaderHostPort
	m.dropStreams()
	snap := registry{
		agents: m.agents, goneAgents: m.goneAgents, completed: m.completed,
		maintenance: m.maintenance, nextTask: m.nextTask, hold: m.hold,
	}
	for _, o := range m.offers {
		m.removeOffer(o)
	}
	for _, fw := range m.sortedFrameworks() {
		fw.stopTimers()
		if len(fw.tasks) > 0 {
			snap.frameworks = append(snap.frameworks, fw)
		}
	}
	prev := m.id
	m.id = uuid.NewString()
	m.agents, m.goneAgents, m.completed = nil, map[string]bool{}, nil
	m.frameworks, m.offers = map[string]*framework{}, map[string]*offer{}
	m.inverseOffers, m.maintenance = map[string]*inverseOffer{}, map[string]*maintenanceWindow{}
	m.roleAllocations = map[string]int{}
	m.nextFramework, m.nextOffer, m.nextAgent, m.nextTask = 0, 0, 0, 0
	m.hold = holdState{}
	m.logf("master %s lost leadership to %s; restarted as standby %s", prev, leaderHostPort, m.id)
	return snap
}

// recover installs a registry and makes m lead.
func (m *Master) recover(r registry) {
	now := time.Now()
	// Offers on agents of m's own go: the agents are replaced.
	for _, o := range m.sortedOffers() {
		m.rescindOffer(o)
	}
	for _, io := range m.sortedInverseOffers() {
		m.rescindInverseOffer(io, true)
	}
	m.agents = r.agents
	for id := range r.goneAgents {
		m.goneAgents[id] = true
	}
	m.completed = append(m.completed, r.completed...)
	m.maintenance = map[string]*maintenanceWindow{}
	for id, w := range r.maintenance {
		m.maintenance[id] = &maintenanceWindow{start: w.start, duration: w.duration, notified: map[string]bool{}}
	}
	m.nextTask = max(m.nextTask, r.nextTask)
	m.hold = r.hold // held executors run on the agents: ReleaseTasks on m
	m.leader, m.leaderHostPort, m.electedTime = true, "", now
	for _, fw := range r.frameworks {
		if cur := m.frameworks[fw.id]; cur != nil {
			// It re-subscribed before its agents came back.
			for id, t := range fw.tasks {
				t.fw = cur
				cur.tasks[id] = t
			}
			m.resendUnacknowledged(cur)
			continue
		}
		fw.stream, fw.active, fw.recovered = nil, false, true
		fw.filters, fw.completed = nil, nil
		fw.suppressed, fw.allocations = map[string]bool{}, map[string]int{}
		m.frameworks[fw.id] = fw
		m.disconnect(fw) // arms the failover timeout
	}
	m.logf("master %s leads: recovered %d agents and %d frameworks with tasks", m.id, len(r.agents), len(r.frameworks))
}
