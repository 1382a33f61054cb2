package mesosemulator

import (
	"bytes"
	"time"

	"github.com/google/uuid"
	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// task is a task launched on a simulated agent.
type task struct {
	seq         int
	id          string
	name        string
	fw          *framework
	agent       *agent
	role        string
	res         Resources
	executorID  string // "" for command tasks (as in /master/state)
	containerID string
	pid         uint32

	// state is the latest state the master learnt from the agent.
	state    mesos.TaskState
	statuses []mesos.TaskStatus
	latest   *mesos.TaskStatus

	// pending is the agent's status update stream for the task: the head has
	// been forwarded to the master; the rest waits for its acknowledgement.
	pending    []*pendingUpdate
	retry      *time.Timer
	retryDelay time.Duration

	unreachable     bool
	unreachableTime time.Time
}

// pendingUpdate is one executor status update held by the agent.
type pendingUpdate struct {
	status    mesos.TaskStatus
	forwarded bool
}

// isTerminal reports whether a task state is terminal.
func isTerminal(s mesos.TaskState) bool {
	switch s {
	case mesos.TASK_FINISHED, mesos.TASK_FAILED, mesos.TASK_KILLED, mesos.TASK_ERROR,
		mesos.TASK_LOST, mesos.TASK_DROPPED, mesos.TASK_GONE, mesos.TASK_GONE_BY_OPERATOR:
		return true
	}
	return false
}

// holdsResources reports whether the task's resources are in use.
func (t *task) holdsResources() bool { return !isTerminal(t.state) }

// stopRetry cancels the status update retry timer.
func (t *task) stopRetry() {
	if t.retry != nil {
		t.retry.Stop()
		t.retry = nil
	}
}

// executorUpdateID is the executor id carried by status updates.
func (t *task) executorUpdateID() string {
	if t.executorID != "" {
		return t.executorID
	}
	return t.id
}

// containerStatus describes the task's (simulated) container.
func (t *task) containerStatus(withPID bool) *mesos.ContainerStatus {
	proto := mesos.IPv4
	cs := &mesos.ContainerStatus{
		ContainerID: &mesos.ContainerID{Value: t.containerID},
		NetworkInfos: []mesos.NetworkInfo{{IPAddresses: []mesos.NetworkInfo_IPAddress{
			{Protocol: &proto, IPAddress: strPtr(t.agent.info.IP)},
		}}},
	}
	if withPID {
		pid := t.pid
		cs.ExecutorPID = &pid
	}
	return cs
}

// executorStatus builds a status update as the command executor sends it.
func (m *Master) executorStatus(t *task, state mesos.TaskState, msg string) mesos.TaskStatus {
	st := mesos.TaskStatus{
		TaskID:          mesos.TaskID{Value: t.id},
		State:           state.Enum(),
		Source:          mesos.SOURCE_EXECUTOR.Enum(),
		AgentID:         &mesos.AgentID{Value: t.agent.id},
		ExecutorID:      &mesos.ExecutorID{Value: t.executorUpdateID()},
		Timestamp:       floatPtr(nowSeconds()),
		UUID:            newUUID(),
		ContainerStatus: t.containerStatus(true),
	}
	if msg != "" {
		st.Message = strPtr(msg)
	}
	return st
}

// masterStatus builds a master-generated status update (no uuid).
func masterStatus(taskID string, state mesos.TaskState, reason mesos.TaskStatus_Reason, msg string, agentID *string) mesos.TaskStatus {
	st := mesos.TaskStatus{
		TaskID:    mesos.TaskID{Value: taskID},
		State:     state.Enum(),
		Message:   strPtr(msg),
		Source:    mesos.SOURCE_MASTER.Enum(),
		Reason:    reason.Enum(),
		Timestamp: floatPtr(nowSeconds()),
	}
	if agentID != nil {
		st.AgentID = &mesos.AgentID{Value: *agentID}
	}
	return st
}

// sendUpdate sends an UPDATE event.
func (m *Master) sendUpdate(fw *framework, st mesos.TaskStatus) {
	m.send(fw, &scheduler.Event{Type: scheduler.Event_UPDATE, Update: &scheduler.Event_Update{Status: st}})
}

// executorUpdate queues an executor status update at the agent; it is
// forwarded when every earlier update of the task has been acknowledged.
func (m *Master) executorUpdate(t *task, state mesos.TaskState, msg string) {
	t.pending = append(t.pending, &pendingUpdate{status: m.executorStatus(t, state, msg)})
	if len(t.pending) == 1 {
		m.forwardHead(t)
	}
}

// forwardHead forwards the head of the task's update stream to the master
// (which applies it) and on to the framework.
func (m *Master) forwardHead(t *task) {
	if len(t.pending) == 0 || t.agent.unreachable {
		return
	}
	head := t.pending[0]
	if !head.forwarded {
		head.forwarded = true
		m.applyStatus(t, head.status)
	}
	m.sendUpdate(t.fw, head.status)
	m.armRetry(t)
}

// armRetry schedules the agent's re-send of an unacknowledged update.
func (m *Master) armRetry(t *task) {
	t.stopRetry()
	if m.cfg.StatusUpdateRetry < 0 {
		return
	}
	if t.retryDelay == 0 {
		t.retryDelay = m.cfg.StatusUpdateRetry
	}
	t.retry = m.afterFunc(t.retryDelay, func() {
		t.retry = nil
		if t.fw.tasks[t.id] == t && len(t.pending) > 0 {
			t.retryDelay = min(2*t.retryDelay, 10*time.Minute)
			m.forwardHead(t)
		}
	})
}

// applyStatus records a status the master received for a task.
func (m *Master) applyStatus(t *task, st mesos.TaskStatus) {
	t.state = st.GetState()
	t.statuses = append(t.statuses, st)
	t.latest = &t.statuses[len(t.statuses)-1]
}

// resendUnacknowledged re-sends the unacknowledged head update of every
// task (as agents do on re-subscription and UPDATE_FRAMEWORK).
func (m *Master) resendUnacknowledged(fw *framework) {
	for _, t := range fw.sortedTasks() {
		if len(t.pending) > 0 && t.pending[0].forwarded {
			m.forwardHead(t)
		}
	}
}

// acknowledge handles ACKNOWLEDGE: the acknowledged head is dropped and the
// next held update (if any) is forwarded.
func (m *Master) acknowledge(fw *framework, ack *scheduler.Call_Acknowledge) {
	t := fw.tasks[ack.TaskID.Value]
	if t == nil || len(t.pending) == 0 || !bytes.Equal(t.pending[0].status.UUID, ack.UUID) {
		return
	}
	t.stopRetry()
	t.retryDelay = 0
	t.pending = t.pending[1:]
	if len(t.pending) > 0 {
		m.forwardHead(t)
		return
	}
	if isTerminal(t.state) {
		m.completeTask(t)
	}
}

// completeTask moves a terminal task to the framework's completed tasks.
func (m *Master) completeTask(t *task) {
	t.stopRetry()
	delete(t.fw.tasks, t.id)
	t.fw.completed = append(t.fw.completed, t)
}

// kill handles KILL: known tasks get TASK_KILLED from the executor; unknown
// tasks are answered like an explicit reconciliation.
func (m *Master) kill(fw *framework, k *scheduler.Call_Kill) {
	t := fw.tasks[k.TaskID.Value]
	if t == nil || t.unreachable {
		var agentID *string
		if k.AgentID != nil {
			agentID = &k.AgentID.Value
		}
		m.sendUpdate(fw, m.reconcileOne(fw, k.TaskID.Value, agentID))
		return
	}
	if isTerminal(t.state) || t.killed() {
		return
	}
	m.executorUpdate(t, mesos.TASK_KILLED, "Command terminated with signal Terminated")
}

// killed reports whether a TASK_KILLED is already queued for the task.
func (t *task) killed() bool {
	for _, p := range t.pending {
		if isTerminal(p.status.GetState()) {
			return true
		}
	}
	return false
}

// reconcile handles RECONCILE (implicit when no tasks are given).
func (m *Master) reconcile(fw *framework, r *scheduler.Call_Reconcile) {
	if len(r.Tasks) == 0 {
		for _, t := range fw.sortedTasks() {
			if !isTerminal(t.state) {
				m.sendUpdate(fw, m.reconcileKnown(t))
			}
		}
		return
	}
	for _, rt := range r.Tasks {
		var agentID *string
		if rt.AgentID != nil {
			agentID = &rt.AgentID.Value
		}
		m.sendUpdate(fw, m.reconcileOne(fw, rt.TaskID.Value, agentID))
	}
}

// reconcileOne answers an explicit reconciliation of one task.
func (m *Master) reconcileOne(fw *framework, taskID string, agentID *string) mesos.TaskStatus {
	if t := fw.tasks[taskID]; t != nil {
		return m.reconcileKnown(t)
	}
	gone, unknown := mesos.TASK_GONE, mesos.TASK_UNKNOWN
	if !fw.partitionAware() {
		gone, unknown = mesos.TASK_LOST, mesos.TASK_LOST
	}
	if agentID != nil {
		if a := m.agentByID(*agentID); a != nil {
			if a.unreachable {
				return m.unreachableStatus(fw, taskID, a, "Reconciliation: Task is unreachable", mesos.REASON_RECONCILIATION)
			}
			return masterStatus(taskID, gone, mesos.REASON_RECONCILIATION, "Reconciliation: Task is unknown to the agent", agentID)
		}
	}
	return masterStatus(taskID, unknown, mesos.REASON_RECONCILIATION, "Reconciliation: Task is unknown", agentID)
}

// reconcileKnown reports the latest state of a task the master knows.
func (m *Master) reconcileKnown(t *task) mesos.TaskStatus {
	if t.unreachable {
		return m.unreachableStatus(t.fw, t.id, t.agent, "Reconciliation: Task is unreachable", mesos.REASON_RECONCILIATION)
	}
	st := masterStatus(t.id, t.state, mesos.REASON_RECONCILIATION, "Reconciliation: Latest task state", &t.agent.id)
	if t.latest != nil {
		st.ContainerStatus = t.latest.ContainerStatus
	}
	return st
}

// unreachableStatus builds TASK_UNREACHABLE (TASK_LOST without PARTITION_AWARE).
func (m *Master) unreachableStatus(fw *framework, taskID string, a *agent, msg string, reason mesos.TaskStatus_Reason) mesos.TaskStatus {
	state := mesos.TASK_UNREACHABLE
	if !fw.partitionAware() {
		state = mesos.TASK_LOST
	}
	st := masterStatus(taskID, state, reason, msg, &a.id)
	st.UnreachableTime = &mesos.TimeInfo{Nanoseconds: a.unreachableTime.UnixNano()}
	return st
}

// findTask finds a non-completed task by id across frameworks.
func (m *Master) findTask(taskID string) []*task {
	var out []*task
	for _, fw := range m.sortedFrameworks() {
		if t := fw.tasks[taskID]; t != nil {
			out = append(out, t)
		}
	}
	return out
}

// newContainerID returns a fresh container id.
func newContainerID() string { return uuid.NewString() }
