package mesosemulator

import (
	mesos "github.com/mesos/mesos-go/api/v1/lib"
)

// holdState models slow executors: while held, a launched task advances
// only up to a state (TASK_STAGING: no update at all, as when the agent is
// still fetching; TASK_STARTING: the executor started but the command did
// not report running yet) until ReleaseTasks.
type holdState struct {
	upTo  mesos.TaskState
	on    bool // holding (TaskState has no zero "none" value)
	tasks []*task
}

// HoldTasks makes tasks launched from now on stop at upTo, which must be
// TASK_STAGING or TASK_STARTING, until ReleaseTasks.
func (m *Master) HoldTasks(upTo mesos.TaskState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hold = holdState{upTo: upTo, on: true}
}

// ReleaseTasks lets held tasks (those still alive) go on to TASK_RUNNING and
// stops holding new ones.
func (m *Master) ReleaseTasks() {
	m.mu.Lock()
	defer m.mu.Unlock()
	held := m.hold.tasks
	m.hold = holdState{}
	for _, t := range held {
		if t.fw.tasks[t.id] != t || isTerminal(t.state) {
			continue
		}
		if t.state == mesos.TASK_STAGING {
			m.executorUpdate(t, mesos.TASK_STARTING, "")
		}
		m.executorUpdate(t, mesos.TASK_RUNNING, "")
	}
}

// startTask runs the simulated executor of a new task: TASK_STARTING then
// TASK_RUNNING, unless held.
func (m *Master) startTask(t *task) {
	if m.hold.on {
		m.hold.tasks = append(m.hold.tasks, t)
		if m.hold.upTo == mesos.TASK_STARTING {
			m.executorUpdate(t, mesos.TASK_STARTING, "")
		}
		return
	}
	m.executorUpdate(t, mesos.TASK_STARTING, "")
	if m.removeAfterLaunch[t.agent.info.Hostname] {
		m.removeAgent(t.agent)
		return
	}
	m.executorUpdate(t, mesos.TASK_RUNNING, "")
}
