package mesosemulator

import (
	"fmt"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// accept handles ACCEPT. Like the master, it always answers 202; invalid
// offers and invalid tasks are reported through master-generated UPDATEs
// without uuid.
func (m *Master) accept(fw *framework, acc *scheduler.Call_Accept) {
	offers, err := m.validateOffers(fw, acc.OfferIDs)
	if err == "" && m.failAccepts > 0 {
		m.failAccepts--
		err = m.injectAcceptFailure(offers)
		offers = nil
	}
	if err != "" {
		for _, o := range offers {
			m.removeOffer(o) // resources recovered without a filter
		}
		m.dropTasks(fw, acc.Operations, "Task launched with invalid offers: "+err)
		return
	}
	a, role := offers[0].agent, offers[0].role
	var avail Resources
	for _, o := range offers {
		m.removeOffer(o)
		avail = avail.Add(o.res)
	}
	for _, op := range acc.Operations {
		avail = m.applyOperation(fw, a, role, avail, op)
	}
	m.addFilter(fw, a, role, avail, m.refuseDuration(acc.Filters))
}

// injectAcceptFailure implements FailNextAccept: the offers are rescinded
// as if the master had rescinded them just before the ACCEPT arrived.
func (m *Master) injectAcceptFailure(offers []*offer) string {
	for _, o := range offers {
		m.rescindOffer(o)
	}
	return fmt.Sprintf("Offer %s is no longer valid", offers[0].id)
}

// validateOffers checks that every offer id is outstanding, belongs to fw and
// that all offers are on one agent and for one role. It returns the valid
// offers and, on failure, the master's error text.
func (m *Master) validateOffers(fw *framework, ids []mesos.OfferID) ([]*offer, string) {
	var offers []*offer
	var err string
	for _, id := range ids {
		o := m.offers[id.Value]
		switch {
		case o == nil:
			if err == "" {
				err = fmt.Sprintf("Offer %s is no longer valid", id.Value)
			}
			continue
		case o.fw != fw:
			if err == "" {
				err = fmt.Sprintf("Offer %s has invalid framework %s while framework %s is expected", id.Value, o.fw.id, fw.id)
			}
			continue
		}
		offers = append(offers, o)
	}
	if err == "" && len(offers) == 0 {
		err = "No offers specified"
	}
	for _, o := range offers {
		if err == "" && o.agent != offers[0].agent {
			err = fmt.Sprintf("Aggregated offers must belong to one single agent. Offer %s uses agent %s and offer %s uses agent %s",
				offers[0].id, offers[0].agent.id, o.id, o.agent.id)
		}
		if err == "" && o.role != offers[0].role {
			err = fmt.Sprintf("Aggregated offers must be allocated to the same role. Offer %s uses role %s and offer %s uses role %s",
				offers[0].id, offers[0].role, o.id, o.role)
		}
	}
	return offers, err
}

// dropTasks answers every task of the operations with TASK_DROPPED
// (TASK_LOST without PARTITION_AWARE) / REASON_INVALID_OFFERS.
func (m *Master) dropTasks(fw *framework, ops []mesos.Offer_Operation, msg string) {
	state := mesos.TASK_DROPPED
	if !fw.partitionAware() {
		state = mesos.TASK_LOST
	}
	for _, ti := range operationTasks(ops) {
		agentID := ti.AgentID.Value
		m.sendUpdate(fw, masterStatus(ti.TaskID.Value, state, mesos.REASON_INVALID_OFFERS, msg, &agentID))
	}
}

// operationTasks lists the tasks of LAUNCH and LAUNCH_GROUP operations.
func operationTasks(ops []mesos.Offer_Operation) []mesos.TaskInfo {
	var out []mesos.TaskInfo
	for _, op := range ops {
		switch {
		case op.Type == mesos.Offer_Operation_LAUNCH && op.Launch != nil:
			out = append(out, op.Launch.TaskInfos...)
		case op.Type == mesos.Offer_Operation_LAUNCH_GROUP && op.LaunchGroup != nil:
			out = append(out, op.LaunchGroup.TaskGroup.Tasks...)
		}
	}
	return out
}

// applyOperation applies one offer operation and returns what is left.
// Operations other than LAUNCH and LAUNCH_GROUP are ignored.
func (m *Master) applyOperation(fw *framework, a *agent, role string, avail Resources, op mesos.Offer_Operation) Resources {
	switch {
	case op.Type == mesos.Offer_Operation_LAUNCH && op.Launch != nil:
		for _, ti := range op.Launch.TaskInfos {
			avail = m.launchTask(fw, a, role, avail, ti, "")
		}
	case op.Type == mesos.Offer_Operation_LAUNCH_GROUP && op.LaunchGroup != nil:
		exec := op.LaunchGroup.Executor.ExecutorID.Value
		for _, ti := range op.LaunchGroup.TaskGroup.Tasks {
			avail = m.launchTask(fw, a, role, avail, ti, exec)
		}
	default:
		m.logf("framework %s: operation %s ignored (not emulated)", fw.id, op.Type)
	}
	return avail
}

// launchTask validates and starts one task, returning the resources left.
func (m *Master) launchTask(fw *framework, a *agent, role string, avail Resources, ti mesos.TaskInfo, groupExecutor string) Resources {
	fillAllocationRole(ti.Resources, role)
	res, msg := m.validateTask(fw, a, role, avail, ti)
	if msg != "" {
		agentID := ti.AgentID.Value
		m.sendUpdate(fw, masterStatus(ti.TaskID.Value, mesos.TASK_ERROR, mesos.REASON_TASK_INVALID, msg, &agentID))
		return avail
	}
	t := m.newTask(fw, a, role, res, ti, groupExecutor)
	m.startTask(t)
	return avail.Sub(res)
}

// fillAllocationRole sets allocation_info on resources that lack it.
func fillAllocationRole(list []mesos.Resource, role string) {
	for i := range list {
		if list[i].AllocationInfo == nil || list[i].AllocationInfo.Role == nil {
			list[i].AllocationInfo = &mesos.Resource_AllocationInfo{Role: strPtr(role)}
		}
	}
}

// validateTask applies the master's task validation; it returns the task's
// resources or the TASK_ERROR message.
func (m *Master) validateTask(fw *framework, a *agent, role string, avail Resources, ti mesos.TaskInfo) (Resources, string) {
	if ti.TaskID.Value == "" {
		return Resources{}, "Task ID must not be empty"
	}
	if fw.tasks[ti.TaskID.Value] != nil {
		return Resources{}, "Task has duplicate ID: " + ti.TaskID.Value
	}
	if ti.AgentID.Value != a.id {
		return Resources{}, fmt.Sprintf("Task uses invalid agent: %s", ti.AgentID.Value)
	}
	if (ti.Command == nil) == (ti.Executor == nil) {
		return Resources{}, "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present"
	}
	if len(ti.Resources) == 0 {
		return Resources{}, "Task uses no resources"
	}
	for _, r := range ti.Resources {
		if r.AllocationInfo.GetRole() != role {
			return Resources{}, fmt.Sprintf("Task resources are allocated to role '%s' but the offers are for role '%s'", r.AllocationInfo.GetRole(), role)
		}
	}
	res, err := fromMesos(ti.Resources)
	if err != nil || !avail.Contains(res) {
		return Resources{}, fmt.Sprintf("Total resources %s required by task and its executor is more than available %s",
			formatResources(ti.Resources), formatResources(avail.toMesos(role)))
	}
	return res, ""
}

// newTask registers a launched task.
func (m *Master) newTask(fw *framework, a *agent, role string, res Resources, ti mesos.TaskInfo, groupExecutor string) *task {
	m.nextTask++
	m.pidCounter++
	t := &task{
		seq: m.nextTask, id: ti.TaskID.Value, name: ti.Name, fw: fw, agent: a, role: role, res: res,
		executorID: groupExecutor, containerID: newContainerID(), pid: m.pidCounter,
		state: mesos.TASK_STAGING,
	}
	if ti.Executor != nil {
		t.executorID = ti.Executor.ExecutorID.Value
	}
	fw.tasks[t.id] = t
	m.logf("task %s of framework %s launched on %s (%s)", t.id, fw.id, a.info.Hostname, formatResources(ti.Resources))
	return t
}
