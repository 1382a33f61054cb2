package mesos

import (
	"context"
	"fmt"
	"sync"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// Pod event reasons about a pod's Mesos task.
const (
	ReasonTaskEnded       = "MesosTaskEnded"
	ReasonTaskMissing     = "MesosTaskMissing"
	ReasonTaskRelaunched  = "MesosTaskRelaunched"
	ReasonTaskGone        = "MesosTaskGone"
	ReasonTaskUnreachable = "MesosTaskUnreachable"
	ReasonTaskReachable   = "MesosTaskReachable"
)

// tasks tracks the placeholder task of every pod launched through Mesos
// (task ID = pod UID). Each task ID is in at most one of:
//
//   - live: a task we believe the master runs (launched, adopted);
//   - uncertain: a pod of ours whose task the master may or may not run
//     (after a restart, or an ACCEPT whose answer was lost), until a status
//     update settles it; no task is launched for it meanwhile;
//   - killing: a task we killed whose terminal update has not come yet; no
//     task is launched with its ID meanwhile (the master would refuse the
//     duplicate ID).
//
// waiting holds the launches awaiting their first status, and orphans the
// bound pods with no task, to relaunch (OrphanPodPolicy).
type tasks struct {
	s    *Source
	pods corelisters.PodLister

	mu          sync.Mutex
	waiting     map[string]*launch // task ID -> launch awaiting its first status
	live        map[string]task    // task ID -> a task we believe runs
	uncertain   sets.Set[string]
	killing     sets.Set[string]
	orphans     map[string]*orphan
	unreachable sets.Set[string] // live tasks last reported TASK_UNREACHABLE
	// endedUnbound are the last statuses of tasks that ended while their
	// pod, allowed to bind, was not yet seen bound (the pod informer lags
	// the binding by a few milliseconds): the pod is dealt with when it is
	// seen bound. Dropped, the status would leave the pod bound with no
	// task, and no reconciliation would ask about it again.
	endedUnbound map[string]mesos.TaskStatus
	// dying are the tasks we killed (or could not kill: no subscription)
	// whose terminal status has not come: the master still counts their
	// resources on their agent, though their pods may be gone from the
	// cluster. heldOn counts them as ours; counted as held by other
	// frameworks, they would shrink every role's fair target until an
	// offer on the agent showed them gone — and a role at its target gets
	// no offer.
	dying map[string]task
	// killSending are the tasks whose KILL call is on its way.
	killSending sets.Set[string]
}

type task struct {
	agentID         string
	namespace, name string
	state           mesos.TaskState
	// res is what the task holds on its agent (the pod's requests).
	res resources.Vector
}

type launch struct {
	result  chan error
	agentID string
	// running: wait for TASK_RUNNING, not just TASK_STARTING.
	running bool
}

func newTasks(s *Source) *tasks {
	return &tasks{
		s: s, waiting: map[string]*launch{}, live: map[string]task{}, uncertain: sets.New[string](),
		killing: sets.New[string](), orphans: map[string]*orphan{}, unreachable: sets.New[string](),
		endedUnbound: map[string]mesos.TaskStatus{}, dying: map[string]task{}, killSending: sets.New[string](),
	}
}

// watchPods kills the task of a pod that is deleted or finished.
func (t *tasks) watchPods(factory informers.SharedInformerFactory) error {
	inf := factory.Core().V1().Pods()
	t.pods = inf.Lister()
	_, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(oldObj, obj any) {
			p, ok := obj.(*v1.Pod)
			old, _ := oldObj.(*v1.Pod)
			switch {
			case !ok:
			case resources.IsTerminal(p):
				t.podGone(p.UID)
			case p.Spec.NodeName != "" && old != nil && old.Spec.NodeName == "":
				// Just bound (taskEnded checks again for a binding seen
				// before it recorded the status).
				t.seenBound(p.UID)
			}
		},
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if p, ok := obj.(*v1.Pod); ok {
				t.podGone(p.UID)
			}
		},
	})
	return err
}

// run keeps the live tasks honest: periodic reconciliation, and orphan pods
// that found no room are evicted.
func (t *tasks) run(ctx context.Context) {
	reconcile := time.NewTicker(t.s.cfg.ReconcileInterval)
	defer reconcile.Stop()
	orphans := time.NewTicker(orphanCheckInterval)
	defer orphans.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-reconcile.C:
			t.reconcileAll(ctx)
		case <-orphans.C:
			t.expireOrphans(ctx)
		}
	}
}

// seenBound deals with a pod seen bound whose task ended before (see
// endedUnbound), unless a new task runs for it.
func (t *tasks) seenBound(uid types.UID) {
	t.mu.Lock()
	st, ended := t.endedUnbound[string(uid)]
	delete(t.endedUnbound, string(uid))
	_, relaunched := t.live[string(uid)]
	t.mu.Unlock()
	if ended && !relaunched {
		t.noTask(t.s.runContext(), string(uid), st)
	}
}

// startable says why a task with this ID cannot be launched now, or "".
func (t *tasks) startable(taskID string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.uncertain.Has(taskID):
		return "the state of its Mesos task is being reconciled"
	case t.killing.Has(taskID):
		return "its previous Mesos task is being killed"
	case t.live[taskID].agentID != "":
		return "it already has a Mesos task"
	}
	return ""
}

// heldOn sums what our tasks hold on an agent: the live ones and those
// dying (killed, no terminal status yet), whose pods may be gone from the
// cluster already.
func (t *tasks) heldOn(agentID string) resources.Vector {
	out := resources.Vector{}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tk := range t.live {
		if tk.agentID == agentID {
			out.Add(tk.res)
		}
	}
	for _, tk := range t.dying {
		if tk.agentID == agentID {
			out.Add(tk.res)
		}
	}
	return out
}

// expect registers a launch and returns the channel its outcome arrives on.
func (t *tasks) expect(taskID, agentID, namespace, name string, res resources.Vector) *launch {
	l := &launch{result: make(chan error, 1), agentID: agentID, running: t.s.cfg.WaitForTaskRunning}
	t.mu.Lock()
	t.waiting[taskID] = l
	t.live[taskID] = task{agentID: agentID, namespace: namespace, name: name, state: mesos.TASK_STAGING, res: res}
	delete(t.orphans, taskID)
	delete(t.endedUnbound, taskID)
	t.mu.Unlock()
	return l
}

// abandon forgets a launch that did not happen. When the master may have
// launched it anyway (the ACCEPT's answer was lost), the task ID becomes
// uncertain until reconciliation says.
func (t *tasks) abandon(taskID string, maybeLaunched bool) {
	t.mu.Lock()
	delete(t.waiting, taskID)
	delete(t.live, taskID)
	if maybeLaunched {
		t.uncertain.Insert(taskID)
	}
	t.mu.Unlock()
}

// update follows a status update.
func (t *tasks) update(ctx context.Context, st mesos.TaskStatus) {
	id := st.TaskID.Value
	state := st.GetState()
	terminal := isTerminal(state)
	agent := st.GetAgentID().GetValue()
	t.mu.Lock()
	wasUncertain, wasKilling := t.uncertain.Has(id), t.killing.Has(id)
	t.uncertain.Delete(id)
	if terminal {
		t.killing.Delete(id)
		delete(t.dying, id)
	}
	l := t.waiting[id]
	if l != nil && agent != "" && agent != l.agentID {
		l = nil // about another task with this ID, not the one launched
	}
	tk, known := t.live[id]
	switch {
	case terminal:
		delete(t.live, id)
		t.unreachable.Delete(id)
	case known:
		tk.state = state
		if agent != "" {
			tk.agentID = agent
		}
		t.live[id] = tk
	}
	if l != nil {
		switch {
		case terminal:
			delete(t.waiting, id)
			l.result <- fmt.Errorf("task %s: %s %s: %s", id, state, st.GetReason(), st.GetMessage())
		case state == mesos.TASK_RUNNING || (!l.running && state == mesos.TASK_STARTING):
			delete(t.waiting, id)
			l.result <- nil
		}
	}
	t.mu.Unlock()
	switch {
	case l != nil:
	case terminal && known && !wasKilling:
		t.taskEnded(ctx, tk, st)
	case terminal && wasUncertain:
		t.noTask(ctx, id, st)
	case !terminal && !known:
		t.adoptOrKill(ctx, st)
	case !terminal && known:
		t.reachability(ctx, id, tk, state)
	}
}

// adoptOrKill handles a task we do not track (found by reconciliation after
// a restart, or launched by an ACCEPT whose answer was lost): a task whose
// pod lives and is bound to the node of the task's agent is adopted; any
// other task is an orphan and is killed — its pod is gone, or the pod is
// pending (the scheduler stopped between ACCEPT and binding) and will get a
// new task where it is placed.
func (t *tasks) adoptOrKill(ctx context.Context, st mesos.TaskStatus) {
	id := st.TaskID.Value
	agent := st.GetAgentID().GetValue()
	pod, err := t.podOf(types.UID(id))
	// An agent that made us no offer yet (a full one) has no known node:
	// a bound pod's task there is adopted, as we bind pods only to the
	// node of the offer their task was launched from.
	if node, known := t.s.nodeOfAgent(agent); err == nil && pod.Spec.NodeName != "" && (!known || node == pod.Spec.NodeName) {
		t.mu.Lock()
		t.live[id] = task{agentID: agent, namespace: pod.Namespace, name: pod.Name, state: st.GetState(), res: resources.PodRequests(pod)}
		t.mu.Unlock()
		klog.FromContext(ctx).V(2).Info("Adopted the Mesos task of a pod", "pod", klog.KObj(pod), "taskID", id, "agentID", agent, "state", st.GetState())
		t.reachability(ctx, id, task{agentID: agent, namespace: pod.Namespace, name: pod.Name}, st.GetState())
		return
	}
	why := "its pod is gone"
	if err == nil {
		why = fmt.Sprintf("its pod is not bound to the node of agent %s", agent)
	}
	if !t.beginKill(id, agent) {
		return // a KILL is on its way
	}
	klog.FromContext(ctx).Info("Killing an orphan Mesos task", "taskID", id, "agentID", agent, "why", why)
	runCtx := t.s.runContext()
	go func() { _ = t.sendKill(runCtx, id, agent) }() // bounded by Run's context and the call timeout; sendKill logs a failure
}

// killTask kills a task. It stops being live at once and is "killing"
// until its terminal update comes; if the KILL cannot be sent (no
// subscription), the task ID becomes uncertain, so the next
// reconciliation finds the task and kills it again. A task whose KILL is
// on its way is left to it.
func (t *tasks) killTask(ctx context.Context, id, agent string) error {
	if !t.beginKill(id, agent) {
		return nil
	}
	return t.sendKill(ctx, id, agent)
}

// beginKill marks a task as being killed at once, in the caller's
// goroutine — marked in the goroutine sending the KILL, a second KILL
// (the implicit and the explicit reconciliation both name a task) could
// mark it again after the first one's terminal status came, a mark
// nothing would clear: the pod could never get a task again. It reports
// whether a KILL is to be sent: false while one is on its way; a status
// after that saying the task still runs (its agent was unreachable)
// sends another.
func (t *tasks) beginKill(id, agent string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.killSending.Has(id) {
		return false
	}
	if tk, ok := t.live[id]; ok && tk.agentID == agent {
		t.dying[id] = tk
	}
	delete(t.live, id)
	t.unreachable.Delete(id)
	t.killing.Insert(id)
	t.killSending.Insert(id)
	return true
}

// sendKill sends the KILL of a task beginKill marked.
func (t *tasks) sendKill(ctx context.Context, id, agent string) error {
	err := t.s.call(ctx, calls.Kill(id, agent))
	t.mu.Lock()
	t.killSending.Delete(id)
	t.mu.Unlock()
	if err != nil {
		t.s.logger.Info("KILL failed; reconciliation will retry", "taskID", id, "err", err)
		t.mu.Lock()
		t.killing.Delete(id)
		t.uncertain.Insert(id)
		t.mu.Unlock()
	}
	return err
}

// podOf returns the live pod with this UID.
func (t *tasks) podOf(uid types.UID) (*v1.Pod, error) {
	p, ok := t.s.state.Pod(uid)
	if !ok {
		return nil, fmt.Errorf("no pod with UID %s", uid)
	}
	pod, err := t.pods.Pods(p.Namespace).Get(p.Name)
	if err != nil {
		return nil, err
	}
	if pod.UID != uid || resources.IsTerminal(pod) || pod.DeletionTimestamp != nil {
		return nil, fmt.Errorf("pod %s/%s is gone", p.Namespace, p.Name)
	}
	return pod, nil
}

// podGone kills the task of a pod that is deleted or finished.
func (t *tasks) podGone(uid types.UID) {
	t.mu.Lock()
	tk, ok := t.live[string(uid)]
	delete(t.orphans, string(uid))
	delete(t.endedUnbound, string(uid))
	t.mu.Unlock()
	if ok && t.beginKill(string(uid), tk.agentID) {
		ctx := t.s.runContext()
		go func() { // bounded by Run's context and the call timeout
			if err := t.sendKill(ctx, string(uid), tk.agentID); err != nil && ctx.Err() == nil {
				klog.FromContext(ctx).V(2).Info("KILL of a gone pod's task failed; reconciliation retries it", "taskID", uid, "err", err)
			}
		}()
	}
}

// kill kills the task of a pod, if it has one.
func (t *tasks) kill(ctx context.Context, uid types.UID) error {
	t.mu.Lock()
	tk, ok := t.live[string(uid)]
	t.mu.Unlock()
	if !ok {
		return nil
	}
	return t.killTask(ctx, string(uid), tk.agentID)
}

func isTerminal(s mesos.TaskState) bool {
	switch s {
	case mesos.TASK_FINISHED, mesos.TASK_FAILED, mesos.TASK_KILLED, mesos.TASK_LOST, mesos.TASK_ERROR,
		mesos.TASK_DROPPED, mesos.TASK_GONE, mesos.TASK_GONE_BY_OPERATOR, mesos.TASK_UNKNOWN:
		return true
	}
	return false
}
