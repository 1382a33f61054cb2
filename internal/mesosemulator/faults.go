package mesosemulator

import (
	"context"
	"fmt"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// DropStreams closes every subscription stream abruptly (the TCP connection
// drops mid-stream, as when a master dies). The frameworks become
// disconnected and their failover timeouts start.
func (m *Master) DropStreams() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dropStreams()
}

// dropStreams aborts all streams and disconnects their frameworks.
func (m *Master) dropStreams() {
	for _, fw := range m.sortedFrameworks() {
		if s := fw.stream; s != nil {
			s.close(true)
			m.disconnect(fw)
		}
	}
}

// StopHeartbeats stops (true) or resumes (false) HEARTBEAT events.
func (m *Master) StopHeartbeats(stop bool) { m.heartbeatsOff.Store(stop) }

// RescindAll rescinds every outstanding offer; the resources are offered
// again at the next allocation.
func (m *Master) RescindAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.sortedOffers() {
		m.rescindOffer(o)
	}
}

// AddAgent registers a new agent and returns its id.
func (m *Master) AddAgent(a Agent) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ag, err := m.addAgent(a)
	if err != nil {
		return "", err
	}
	return ag.id, nil
}

// RemoveAgent removes an agent (as when it unregisters): its offers are
// rescinded and its tasks go TASK_GONE (TASK_LOST for frameworks without
// PARTITION_AWARE), source SOURCE_MASTER, reason REASON_AGENT_REMOVED.
func (m *Master) RemoveAgent(hostname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.agentByHost(hostname)
	if a == nil {
		return fmt.Errorf("no agent %q", hostname)
	}
	m.removeAgent(a)
	return nil
}

// RemoveAgentAfterLaunch removes an agent (as RemoveAgent) right after the
// next task launched on it reports TASK_STARTING: the framework gets
// TASK_STARTING and TASK_GONE back to back, as when an agent dies just
// after starting a task.
func (m *Master) RemoveAgentAfterLaunch(hostname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.agentByHost(hostname) == nil {
		return fmt.Errorf("no agent %q", hostname)
	}
	if m.removeAfterLaunch == nil {
		m.removeAfterLaunch = map[string]bool{}
	}
	m.removeAfterLaunch[hostname] = true
	return nil
}

// removeAgent removes an agent (m.mu held): see RemoveAgent.
func (m *Master) removeAgent(a *agent) {
	hostname := a.info.Hostname
	delete(m.removeAfterLaunch, hostname)
	m.rescindOffersOn(a)
	m.rescindInverseOffersOn(a)
	for _, fw := range m.sortedFrameworks() {
		for _, t := range fw.sortedTasks() {
			if t.agent == a {
				m.loseTask(t, "Agent "+hostname+" removed: agent unregistered")
			}
		}
	}
	for i, ag := range m.agents {
		if ag == a {
			m.agents = append(m.agents[:i], m.agents[i+1:]...)
			break
		}
	}
	delete(m.maintenance, a.id)
	m.goneAgents[a.id] = true
	m.logf("agent %s (%s) removed", hostname, a.id)
}

// loseTask ends a task whose agent is gone.
func (m *Master) loseTask(t *task, msg string) {
	t.pending = nil
	t.stopRetry()
	if !isTerminal(t.state) {
		state := mesos.TASK_GONE
		if !t.fw.partitionAware() {
			state = mesos.TASK_LOST
		}
		st := masterStatus(t.id, state, mesos.REASON_AGENT_REMOVED, msg, &t.agent.id)
		m.applyStatus(t, st)
		m.sendUpdate(t.fw, st)
	}
	t.unreachable = false
	m.completeTask(t)
}

// PartitionAgent makes an agent unreachable: its offers are rescinded, it
// gets no new offers and its tasks go TASK_UNREACHABLE (TASK_LOST for
// frameworks without PARTITION_AWARE).
func (m *Master) PartitionAgent(hostname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.agentByHost(hostname)
	if a == nil || a.unreachable {
		return fmt.Errorf("no reachable agent %q", hostname)
	}
	a.unreachable = true
	a.unreachableTime = time.Now()
	m.rescindOffersOn(a)
	m.rescindInverseOffersOn(a)
	for _, fw := range m.sortedFrameworks() {
		for _, t := range fw.sortedTasks() {
			if t.agent == a && !isTerminal(t.state) {
				t.unreachable = true
				t.stopRetry()
				m.sendUpdate(fw, m.unreachableStatus(fw, t.id, a,
					"Agent "+hostname+" is unreachable: health check timed out", mesos.REASON_AGENT_REMOVED))
			}
		}
	}
	m.logf("agent %s (%s) partitioned", hostname, a.id)
	return nil
}

// HealAgent ends a partition: the agent reregisters with its tasks, which
// are back in their last state (TASK_RUNNING, visible via reconciliation);
// held status updates are forwarded again.
func (m *Master) HealAgent(hostname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.agentByHost(hostname)
	if a == nil || !a.unreachable {
		return fmt.Errorf("no unreachable agent %q", hostname)
	}
	a.unreachable = false
	for _, fw := range m.sortedFrameworks() {
		for _, t := range fw.sortedTasks() {
			if t.agent == a {
				t.unreachable = false
				m.forwardHead(t)
			}
		}
	}
	m.logf("agent %s (%s) reregistered", hostname, a.id)
	return nil
}

// FailNextAccept makes the next n ACCEPT calls fail the way a lost race with
// an offer rescind does: the call is answered 202, every offer of the call is
// rescinded (RESCIND event) and every task gets TASK_DROPPED (TASK_LOST
// without PARTITION_AWARE), REASON_INVALID_OFFERS, "Task launched with
// invalid offers: Offer <id> is no longer valid", without uuid.
func (m *Master) FailNextAccept(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failAccepts = n
}

// SetLeader switches leadership. A master that stops leading drops every
// stream abruptly (its frameworks stay known, disconnected, without failover
// timeout) and answers 307 pointing at leaderHostPort ("host:port"; empty
// means no leader: 503). A master that becomes leader starts allocating and
// arms the failover timeouts of disconnected frameworks.
func (m *Master) SetLeader(leader bool, leaderHostPort string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	was := m.leader
	m.leader, m.leaderHostPort = leader, leaderHostPort
	switch {
	case was && !leader:
		m.dropStreams()
	case !was && leader:
		m.electedTime = time.Now()
		for _, fw := range m.sortedFrameworks() {
			if !fw.connected() {
				m.disconnect(fw)
			}
		}
	}
	m.logf("leader=%v leader_host_port=%q", leader, leaderHostPort)
}

// FinishTask makes a task end on its own with a terminal executor update
// (TASK_FINISHED, TASK_FAILED, TASK_KILLED or TASK_LOST) carrying a uuid.
// The task id must identify exactly one non-completed task.
func (m *Master) FinishTask(taskID string, state mesos.TaskState) error {
	msgs := map[mesos.TaskState]string{
		mesos.TASK_FINISHED: "Command exited with status 0",
		mesos.TASK_FAILED:   "Command exited with status 1",
		mesos.TASK_KILLED:   "Command terminated with signal Killed",
		mesos.TASK_LOST:     "Task lost",
	}
	msg, ok := msgs[state]
	if !ok {
		return fmt.Errorf("FinishTask: unsupported state %s", state)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	tasks := m.findTask(taskID)
	switch {
	case len(tasks) == 0:
		return fmt.Errorf("FinishTask: unknown task %q", taskID)
	case len(tasks) > 1:
		return fmt.Errorf("FinishTask: task id %q is used by %d frameworks", taskID, len(tasks))
	}
	t := tasks[0]
	if isTerminal(t.state) || t.killed() {
		return fmt.Errorf("FinishTask: task %q already terminating", taskID)
	}
	m.executorUpdate(t, state, msg)
	return nil
}

// Frameworks returns the registered (not removed) frameworks.
func (m *Master) Frameworks() []StateFramework { return m.State().Frameworks }

// CompletedFrameworks returns the removed frameworks.
func (m *Master) CompletedFrameworks() []StateFramework { return m.State().CompletedFrameworks }

// Framework returns one registered framework.
func (m *Master) Framework(id string) (StateFramework, bool) {
	for _, fw := range m.Frameworks() {
		if fw.ID == id {
			return fw, true
		}
	}
	return StateFramework{}, false
}

// Tasks returns the non-completed tasks of a framework (unreachable tasks
// included, with state TASK_UNREACHABLE).
func (m *Master) Tasks(frameworkID string) []StateTask {
	fw, ok := m.Framework(frameworkID)
	if !ok {
		return nil
	}
	return append(fw.Tasks, fw.UnreachableTasks...)
}

// CompletedTasks returns the completed tasks of a framework (registered or
// removed).
func (m *Master) CompletedTasks(frameworkID string) []StateTask {
	st := m.State()
	for _, fw := range append(st.Frameworks, st.CompletedFrameworks...) {
		if fw.ID == frameworkID {
			return fw.CompletedTasks
		}
	}
	return nil
}

// Offers returns the outstanding offers of a framework ("" = all).
func (m *Master) Offers(frameworkID string) []StateOffer {
	var out []StateOffer
	for _, fw := range m.Frameworks() {
		if frameworkID == "" || fw.ID == frameworkID {
			out = append(out, fw.Offers...)
		}
	}
	return out
}

// Agents returns the reachable agents.
func (m *Master) Agents() []StateAgent { return m.State().Slaves }

// AgentID returns the id of the agent with the given hostname ("" if none).
func (m *Master) AgentID(hostname string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a := m.agentByHost(hostname); a != nil {
		return a.id
	}
	return ""
}

// HoldCalls makes the calls of a type (a scheduler.Call_Type name, e.g.
// "SUPPRESS") wait once received, before the master applies them, until
// release is called — as when the network or a busy master delays one
// call while a later one passes it. It tests the order in which a
// framework's calls take effect. HeldCalls says how many calls wait.
func (m *Master) HoldCalls(callType string) (release func()) {
	ch := make(chan struct{})
	m.heldMu.Lock()
	if m.held == nil {
		m.held = map[string]chan struct{}{}
	}
	m.held[callType] = ch
	m.heldMu.Unlock()
	return func() {
		m.heldMu.Lock()
		if m.held[callType] == ch {
			delete(m.held, callType)
			close(ch)
		}
		m.heldMu.Unlock()
	}
}

// HeldCalls is the number of calls HoldCalls keeps waiting.
func (m *Master) HeldCalls() int { return int(m.holding.Load()) }

// waitIfHeld keeps a call of a held type waiting until its release (or
// until the request is cancelled, or the master closes).
func (m *Master) waitIfHeld(ctx context.Context, callType string) {
	m.heldMu.Lock()
	ch := m.held[callType]
	m.heldMu.Unlock()
	if ch == nil {
		return
	}
	m.holding.Add(1)
	defer m.holding.Add(-1)
	select {
	case <-ch:
	case <-ctx.Done():
	case <-m.done:
	}
}
