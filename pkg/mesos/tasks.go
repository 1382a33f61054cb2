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
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// Pod event reasons about a pod's Mesos task.
const (
	ReasonTaskEnded   = "MesosTaskEnded"
	ReasonTaskRunning = "MesosTaskRunning"
)

// tasks tracks the placeholder task of every pod launched through Mesos
// (task ID = pod UID): launches waiting for their first status, the agent of
// each live task (to KILL it when its pod goes), and pod events when a task
// ends first.
type tasks struct {
	s    *Source
	pods corelisters.PodLister

	mu      sync.Mutex
	waiting map[string]*launch // task ID -> launch awaiting its first status
	live    map[string]task    // task ID -> a task we believe runs
}

type task struct {
	agentID         string
	namespace, name string
	state           mesos.TaskState
}

type launch struct {
	result chan error
	// running: wait for TASK_RUNNING, not just TASK_STARTING.
	running bool
}

func newTasks(s *Source) *tasks {
	return &tasks{s: s, waiting: map[string]*launch{}, live: map[string]task{}}
}

// watchPods kills the task of a pod that is deleted or finished.
func (t *tasks) watchPods(factory informers.SharedInformerFactory) error {
	inf := factory.Core().V1().Pods()
	t.pods = inf.Lister()
	_, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) {
			if p, ok := obj.(*v1.Pod); ok && resources.IsTerminal(p) {
				t.podGone(p.UID)
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

// run keeps the live tasks honest: periodic reconciliation.
func (t *tasks) run(ctx context.Context) {
	tick := time.NewTicker(t.s.cfg.ReconcileInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			t.reconcileAll(ctx)
		}
	}
}

// expect registers a launch and returns the channel its outcome arrives on.
func (t *tasks) expect(taskID, agentID, namespace, name string) *launch {
	l := &launch{result: make(chan error, 1), running: t.s.cfg.WaitForTaskRunning}
	t.mu.Lock()
	t.waiting[taskID] = l
	t.live[taskID] = task{agentID: agentID, namespace: namespace, name: name, state: mesos.TASK_STAGING}
	t.mu.Unlock()
	return l
}

// abandon forgets a launch that did not happen.
func (t *tasks) abandon(taskID string) {
	t.mu.Lock()
	delete(t.waiting, taskID)
	delete(t.live, taskID)
	t.mu.Unlock()
}

// update follows a status update.
func (t *tasks) update(ctx context.Context, st mesos.TaskStatus) {
	id := st.TaskID.Value
	t.mu.Lock()
	l := t.waiting[id]
	tk, known := t.live[id]
	terminal := isTerminal(st.GetState())
	switch {
	case terminal:
		delete(t.live, id)
	case known:
		tk.state = st.GetState()
		if st.AgentID != nil {
			tk.agentID = st.AgentID.Value
		}
		t.live[id] = tk
	}
	if l != nil {
		switch {
		case terminal:
			delete(t.waiting, id)
			l.result <- fmt.Errorf("task %s: %s %s: %s", id, st.GetState(), st.GetReason(), st.GetMessage())
		case st.GetState() == mesos.TASK_RUNNING || (!l.running && st.GetState() == mesos.TASK_STARTING):
			delete(t.waiting, id)
			l.result <- nil
		}
	}
	t.mu.Unlock()
	switch {
	case terminal && known && l == nil:
		t.taskEnded(ctx, tk, st)
	case !terminal && !known:
		t.adoptOrKill(ctx, st)
	}
}

// adoptOrKill handles a running task we do not track (found by
// reconciliation after a restart): a task whose pod lives is adopted; a task
// with no live pod is an orphan and is killed.
func (t *tasks) adoptOrKill(ctx context.Context, st mesos.TaskStatus) {
	id := st.TaskID.Value
	agent := st.GetAgentID().GetValue()
	if p, ok := t.s.state.Pod(types.UID(id)); ok && p.Object != nil && !resources.IsTerminal(p.Object) && p.Object.DeletionTimestamp == nil {
		t.mu.Lock()
		t.live[id] = task{agentID: agent, namespace: p.Namespace, name: p.Name, state: st.GetState()}
		t.mu.Unlock()
		return
	}
	klog.FromContext(ctx).Info("Killing an orphan Mesos task: its pod is gone", "taskID", id, "agentID", agent)
	go func() {
		if err := t.s.call(context.Background(), calls.Kill(id, agent)); err != nil {
			t.s.logger.Info("KILL of an orphan task failed; reconciliation will retry", "taskID", id, "err", err)
		}
	}()
}

// taskEnded tells the pod that its task ended first: the master no longer
// holds its resources for it.
func (t *tasks) taskEnded(ctx context.Context, tk task, st mesos.TaskStatus) {
	pod, err := t.pods.Pods(tk.namespace).Get(tk.name)
	if err != nil || pod.DeletionTimestamp != nil {
		return
	}
	klog.FromContext(ctx).Info("Mesos task of a pod ended", "pod", klog.KObj(pod), "state", st.GetState(), "reason", st.GetReason())
	t.s.recorder.Eventf(pod, nil, v1.EventTypeWarning, ReasonTaskEnded, "MesosTask",
		"Mesos task %s ended: %s (%s): %s; Mesos no longer holds the pod's resources", st.TaskID.Value, st.GetState(), st.GetReason(), st.GetMessage())
}

// podGone kills the task of a pod that is deleted or finished.
func (t *tasks) podGone(uid types.UID) {
	t.mu.Lock()
	tk, ok := t.live[string(uid)]
	t.mu.Unlock()
	if !ok {
		return
	}
	go func() {
		if err := t.s.call(context.Background(), calls.Kill(string(uid), tk.agentID)); err != nil {
			t.s.logger.Info("KILL failed; reconciliation will retry", "taskID", uid, "err", err)
		}
	}()
}

// kill kills the task of a pod, if it has one.
func (t *tasks) kill(ctx context.Context, uid types.UID) error {
	t.mu.Lock()
	tk, ok := t.live[string(uid)]
	t.mu.Unlock()
	if !ok {
		return nil
	}
	return t.s.call(ctx, calls.Kill(string(uid), tk.agentID))
}

// reconcileAll asks the master for the state of every task it runs for us
// (implicit) and of every task we believe runs (explicit).
func (t *tasks) reconcileAll(ctx context.Context) {
	t.mu.Lock()
	known := make(map[string]string, len(t.live))
	for id, tk := range t.live {
		known[id] = tk.agentID
	}
	t.mu.Unlock()
	if err := t.s.call(ctx, calls.Reconcile(calls.ReconcileTasks(nil))); err != nil {
		t.s.logger.V(2).Info("Implicit RECONCILE failed", "err", err)
	}
	if len(known) > 0 {
		if err := t.s.call(ctx, calls.Reconcile(calls.ReconcileTasks(known))); err != nil {
			t.s.logger.V(2).Info("Explicit RECONCILE failed", "err", err)
		}
	}
}

func isTerminal(s mesos.TaskState) bool {
	switch s {
	case mesos.TASK_FINISHED, mesos.TASK_FAILED, mesos.TASK_KILLED, mesos.TASK_LOST, mesos.TASK_ERROR,
		mesos.TASK_DROPPED, mesos.TASK_GONE, mesos.TASK_GONE_BY_OPERATOR, mesos.TASK_UNKNOWN:
		return true
	}
	return false
}
