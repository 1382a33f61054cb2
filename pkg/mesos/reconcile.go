package mesos

import (
	"context"
	"fmt"
	"sort"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler/calls"
	v1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	corev1apply "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/klog/v2"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/metrics"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/offer"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

const (
	// orphanCheckInterval is how often orphan pods past their relaunch
	// window are evicted and uncertain task IDs are asked about again.
	orphanCheckInterval = 5 * time.Second
	// orphanRelaunchWindow is how long a bound pod without a task waits for
	// an offer on its node with room for its task before it is evicted.
	orphanRelaunchWindow = 30 * time.Second
	// maxRelaunchAttempts bounds the relaunches of one orphan pod that fail
	// (its task does not start) before it is evicted.
	maxRelaunchAttempts = 3

	// ConditionTaskReachable is the pod condition saying whether the agent
	// running the pod's Mesos task is reachable (PARTITION_AWARE): False
	// after TASK_UNREACHABLE, True when the task is reported again.
	ConditionTaskReachable v1.PodConditionType = "kube-mesos.io/MesosTaskReachable"

	fieldManager = "kube-mesos-scheduler"
)

// mesosResources are the resources a placeholder task holds.
var mesosResources = []v1.ResourceName{v1.ResourceCPU, v1.ResourceMemory, v1.ResourceEphemeralStorage, GPUResource}

// orphan is a pod bound through Mesos whose task the master does not run.
type orphan struct {
	uid                         types.UID
	namespace, name, node, role string
	request                     resources.Vector
	ports                       []int32
	since                       time.Time
	attempts                    int
	relaunching                 bool
}

// beginReconcile marks every live pod of ours that has no tracked task as
// uncertain (the master may run a task for it, launched before a restart)
// and asks the master: implicitly for all its tasks, explicitly for ours.
// Until a pod's answer comes, no task is launched for it.
func (t *tasks) beginReconcile(ctx context.Context) {
	pods, err := t.pods.List(everything)
	if err == nil {
		t.mu.Lock()
		for _, p := range pods {
			id := string(p.UID)
			if p.Spec.SchedulerName != t.s.state.SchedulerName() || resources.IsTerminal(p) || p.DeletionTimestamp != nil {
				continue
			}
			if p.Spec.NodeName != "" && !t.s.serves(p.Spec.NodeName) {
				continue // bound through another source
			}
			if _, ok := t.live[id]; !ok && !t.killing.Has(id) {
				t.uncertain.Insert(id)
			}
		}
		t.mu.Unlock()
	}
	t.reconcileAll(ctx)
}

// reconcileAll asks the master for the state of every task it runs for us
// (implicit) and of every task we track or are uncertain about (explicit;
// with the agent ID when known, so an unknown task on a known agent is
// answered TASK_GONE rather than TASK_UNKNOWN).
func (t *tasks) reconcileAll(ctx context.Context) {
	if err := t.s.call(ctx, calls.Reconcile(calls.ReconcileTasks(nil))); err != nil {
		t.s.logger.V(2).Info("Implicit RECONCILE failed", "err", err)
	}
	t.reconcile(ctx, true)
}

// reconcile explicitly asks about the uncertain task IDs, and with live the
// tracked tasks too.
func (t *tasks) reconcile(ctx context.Context, live bool) {
	known := map[string]string{}
	t.mu.Lock()
	if live {
		for id, tk := range t.live {
			known[id] = tk.agentID
		}
	}
	uncertain := t.uncertain.UnsortedList()
	// Tasks being killed too: a terminal status lost on its way would
	// leave the mark for good (no task could be launched for the pod).
	for id := range t.killing {
		known[id] = t.dying[id].agentID // "" when not known
	}
	t.mu.Unlock()
	for _, id := range uncertain {
		known[id] = ""
		if p, ok := t.s.state.Pod(types.UID(id)); ok && p.NodeName != "" {
			known[id] = t.s.agentOfNode(p.NodeName)
		}
	}
	if len(known) == 0 {
		return
	}
	if err := t.s.call(ctx, calls.Reconcile(calls.ReconcileTasks(known))); err != nil {
		t.s.logger.V(2).Info("Explicit RECONCILE failed", "tasks", len(known), "err", err)
	}
}

// taskEnded tells the pod that its task ended first (the master no longer
// holds its resources for it) and deals with the pod.
func (t *tasks) taskEnded(ctx context.Context, tk task, st mesos.TaskStatus) {
	pod, err := t.pods.Pods(tk.namespace).Get(tk.name)
	if err != nil || pod.DeletionTimestamp != nil || resources.IsTerminal(pod) || string(pod.UID) != st.TaskID.Value {
		return
	}
	klog.FromContext(ctx).Info("Mesos task of a pod ended", "pod", klog.KObj(pod), "state", st.GetState(), "reason", st.GetReason())
	t.s.recorder.Eventf(pod, nil, v1.EventTypeWarning, ReasonTaskEnded, "MesosTask",
		"Mesos task %s ended: %s (%s): %s; Mesos no longer holds the pod's resources", st.TaskID.Value, st.GetState(), st.GetReason(), st.GetMessage())
	if pod.Spec.NodeName == "" {
		// Its task started, so the pod was allowed to bind: it is binding,
		// or bound and not yet seen so. It is dealt with once seen bound
		// (seenBound); if its binding fails, it gets a new task where it
		// is placed next.
		t.mu.Lock()
		t.endedUnbound[st.TaskID.Value] = st
		t.mu.Unlock()
		klog.FromContext(ctx).V(2).Info("Task of a pod not yet seen bound ended; the pod is dealt with once bound", "pod", klog.KObj(pod), "state", st.GetState())
		// Seen bound meanwhile, before the status was recorded: the
		// informer's call found nothing to do.
		if now, err := t.pods.Pods(tk.namespace).Get(tk.name); err == nil && now.UID == pod.UID && now.Spec.NodeName != "" {
			t.seenBound(pod.UID)
		}
		return
	}
	t.noTask(ctx, st.TaskID.Value, st)
}

// noTask deals with a bound pod that has no task: TASK_GONE (its agent is
// gone) follows TaskGonePolicy; otherwise (the task ended, or the master
// never heard of it) the pod is an orphan and follows OrphanPodPolicy.
// Pending pods need nothing: they get a task where they are placed.
func (t *tasks) noTask(ctx context.Context, id string, st mesos.TaskStatus) {
	pod, err := t.podOf(types.UID(id))
	if err != nil || pod.Spec.NodeName == "" {
		return
	}
	if !t.s.serves(pod.Spec.NodeName) {
		// The pod's node is another source's now (it left this master's
		// selector): this master's task, if any, no longer holds the
		// pod's resources, and the pod stays where it runs.
		t.s.logger.V(2).Info("Task of a pod on a node this source no longer serves ended; the pod stays", "pod", klog.KObj(pod), "node", pod.Spec.NodeName, "state", st.GetState())
		return
	}
	state := st.GetState()
	if (state == mesos.TASK_GONE || state == mesos.TASK_GONE_BY_OPERATOR) && st.GetReason() != mesos.REASON_RECONCILIATION {
		t.taskGone(pod, st)
		return
	}
	t.orphanPod(ctx, pod, st)
}

// taskGone evicts or deletes a pod whose agent is gone (TaskGonePolicy).
func (t *tasks) taskGone(pod *v1.Pod, st mesos.TaskStatus) {
	policy := t.s.cfg.TaskGonePolicy
	t.s.recorder.Eventf(pod, nil, v1.EventTypeWarning, ReasonTaskGone, "MesosTask",
		"Mesos task %s is %s (%s): its agent is gone; the pod is %s (taskGonePolicy %s)", st.TaskID.Value, st.GetState(), st.GetReason(),
		map[config.TaskGonePolicy]string{config.TaskGoneDelete: "deleted", config.TaskGoneEvict: "evicted"}[policy], policy)
	metrics.MesosPodsRemoved.WithLabelValues("task_gone").Inc()
	if policy == config.TaskGoneDelete {
		go t.s.deletePod(pod)
		return
	}
	go t.s.evictPod(pod)
}

// orphanPod relaunches the task of a bound pod when an offer on its node has
// room (OrphanPodPolicy Relaunch), else evicts the pod.
func (t *tasks) orphanPod(ctx context.Context, pod *v1.Pod, st mesos.TaskStatus) {
	id := string(pod.UID)
	p, ok := t.s.state.Pod(pod.UID)
	if !ok || p.Role == "" || t.s.cfg.OrphanPodPolicy == config.OrphanPodEvict {
		why := fmt.Sprintf("orphanPodPolicy %s", t.s.cfg.OrphanPodPolicy)
		if !ok || p.Role == "" {
			why = "it has no valid role"
		}
		klog.FromContext(ctx).Info("Pod bound through Mesos has no task; evicting it", "pod", klog.KObj(pod), "node", pod.Spec.NodeName, "state", st.GetState(), "why", why)
		t.s.recorder.Eventf(pod, nil, v1.EventTypeWarning, ReasonTaskMissing, "MesosTask",
			"Mesos runs no task for this pod (%s: %s); evicting it (%s)", st.GetState(), st.GetMessage(), why)
		metrics.MesosPodsRemoved.WithLabelValues("orphan").Inc()
		go t.s.evictPod(pod)
		return
	}
	t.mu.Lock()
	_, already := t.orphans[id]
	if !already {
		t.orphans[id] = &orphan{
			uid: pod.UID, namespace: pod.Namespace, name: pod.Name, node: pod.Spec.NodeName, role: p.Role,
			request: p.Request.Only(mesosResources), ports: p.Ports, since: time.Now(),
		}
	}
	t.mu.Unlock()
	if already {
		return
	}
	klog.FromContext(ctx).Info("Pod bound through Mesos has no task; relaunching it", "pod", klog.KObj(pod), "node", pod.Spec.NodeName, "role", p.Role, "state", st.GetState())
	t.s.recorder.Eventf(pod, nil, v1.EventTypeWarning, ReasonTaskMissing, "MesosTask",
		"Mesos runs no task for this pod (%s: %s); relaunching it on node %s when an offer there has room, else evicting the pod within %v",
		st.GetState(), st.GetMessage(), pod.Spec.NodeName, orphanRelaunchWindow)
	go func() {
		if err := t.s.Revive(t.s.ctx, p.Role); err != nil {
			t.s.logger.V(2).Info("REVIVE for an orphan pod failed", "role", p.Role, "err", err)
		}
	}()
}

// hasOrphans says whether orphan pods of the role wait for offers (the role
// must not be suppressed meanwhile).
func (t *tasks) hasOrphans(role string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, o := range t.orphans {
		if o.role == role {
			return true
		}
	}
	return false
}

// claim takes, from an offer on node for role, the orphan pods there whose
// task fits; they are marked relaunching.
func (t *tasks) claim(node, role string, free resources.Vector, ports resources.Ranges) []offer.Launch {
	t.mu.Lock()
	defer t.mu.Unlock()
	var cands []*orphan
	for _, o := range t.orphans {
		if o.node == node && o.role == role && !o.relaunching {
			cands = append(cands, o)
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].since.Before(cands[j].since) })
	var out []offer.Launch
	for _, o := range cands {
		if !o.request.Fits(free) {
			continue
		}
		if _, ok := ports.ContainsAll(o.ports); !ok {
			continue
		}
		pod, err := t.pods.Pods(o.namespace).Get(o.name)
		if err != nil || pod.UID != o.uid {
			delete(t.orphans, string(o.uid))
			continue
		}
		free = free.Minus(o.request)
		ports = ports.Without(o.ports)
		o.relaunching = true
		out = append(out, offer.Launch{Pod: pod, Resources: o.request, Ports: o.ports})
	}
	return out
}

// relaunched records the outcome of relaunching orphan pods on an offer.
func (t *tasks) relaunched(launches []offer.Launch, failed map[types.UID]error, err error) {
	var evict []*v1.Pod
	t.mu.Lock()
	for _, l := range launches {
		id := string(l.Pod.UID)
		ferr, bad := failed[l.Pod.UID]
		if err != nil {
			ferr, bad = err, true
		}
		if !bad {
			delete(t.orphans, id)
			t.s.recorder.Eventf(l.Pod, nil, v1.EventTypeNormal, ReasonTaskRelaunched, "MesosTask",
				"Relaunched the pod's Mesos task on node %s", l.Pod.Spec.NodeName)
			metrics.MesosTasksRelaunched.Inc()
			continue
		}
		o, ok := t.orphans[id]
		if !ok {
			continue
		}
		o.relaunching = false
		o.attempts++
		t.s.logger.Info("Relaunching the task of an orphan pod failed", "pod", klog.KObj(l.Pod), "attempt", o.attempts, "err", ferr)
		if o.attempts >= maxRelaunchAttempts {
			delete(t.orphans, id)
			evict = append(evict, l.Pod)
		}
	}
	t.mu.Unlock()
	for _, p := range evict {
		t.s.recorder.Eventf(p, nil, v1.EventTypeWarning, ReasonTaskMissing, "MesosTask",
			"Relaunching the pod's Mesos task failed %d times; evicting the pod", maxRelaunchAttempts)
		metrics.MesosPodsRemoved.WithLabelValues("orphan").Inc()
		go t.s.evictPod(p)
	}
}

// expireOrphans evicts orphan pods that found no room within the window,
// and asks again about task IDs still uncertain and tasks unreachable.
func (t *tasks) expireOrphans(ctx context.Context) {
	var evict []*orphan
	t.mu.Lock()
	for id, o := range t.orphans {
		if !o.relaunching && time.Since(o.since) > orphanRelaunchWindow {
			delete(t.orphans, id)
			evict = append(evict, o)
		}
	}
	uncertain := t.uncertain.Len() + t.killing.Len()
	unreachable := map[string]string{}
	for id := range t.unreachable {
		if tk, ok := t.live[id]; ok {
			unreachable[id] = tk.agentID
		}
	}
	t.mu.Unlock()
	for _, o := range evict {
		pod, err := t.pods.Pods(o.namespace).Get(o.name)
		if err != nil || pod.UID != o.uid {
			continue
		}
		t.s.recorder.Eventf(pod, nil, v1.EventTypeWarning, ReasonTaskMissing, "MesosTask",
			"No offer on node %s had room for the pod's Mesos task within %v; evicting the pod", o.node, orphanRelaunchWindow)
		metrics.MesosPodsRemoved.WithLabelValues("orphan").Inc()
		go t.s.evictPod(pod)
	}
	if uncertain > 0 {
		t.reconcile(ctx, false)
	}
	// A partitioned agent that comes back re-registers with its tasks, but
	// the master tells no framework: ask about unreachable tasks often.
	if len(unreachable) > 0 {
		if err := t.s.call(ctx, calls.Reconcile(calls.ReconcileTasks(unreachable))); err != nil {
			t.s.logger.V(2).Info("RECONCILE of unreachable tasks failed", "tasks", len(unreachable), "err", err)
		}
	}
}

// reachability keeps the pod's ConditionTaskReachable in step with
// TASK_UNREACHABLE (PARTITION_AWARE).
func (t *tasks) reachability(ctx context.Context, id string, tk task, state mesos.TaskState) {
	unreachable := state == mesos.TASK_UNREACHABLE
	t.mu.Lock()
	was := t.unreachable.Has(id)
	if unreachable {
		t.unreachable.Insert(id)
	} else {
		t.unreachable.Delete(id)
	}
	t.mu.Unlock()
	if was == unreachable {
		return
	}
	pod, err := t.pods.Pods(tk.namespace).Get(tk.name)
	if err != nil || string(pod.UID) != id {
		return
	}
	status, reason, msg, etype := v1.ConditionTrue, ReasonTaskReachable, "The agent of the pod's Mesos task is reachable again", v1.EventTypeNormal
	if unreachable {
		status, reason, etype = v1.ConditionFalse, ReasonTaskUnreachable, v1.EventTypeWarning
		msg = fmt.Sprintf("Mesos reports the pod's task TASK_UNREACHABLE: agent %s is partitioned from the master", tk.agentID)
	}
	t.s.recorder.Eventf(pod, nil, etype, reason, "MesosTask", msg)
	klog.FromContext(ctx).Info("Mesos task reachability changed", "pod", klog.KObj(pod), "reachable", !unreachable)
	apply := corev1apply.Pod(pod.Name, pod.Namespace).WithStatus(corev1apply.PodStatus().WithConditions(
		corev1apply.PodCondition().WithType(ConditionTaskReachable).WithStatus(status).WithReason(reason).
			WithMessage(msg).WithLastTransitionTime(metav1.Now())))
	go func() {
		if _, err := t.s.client.CoreV1().Pods(pod.Namespace).ApplyStatus(t.s.ctx, apply, metav1.ApplyOptions{FieldManager: fieldManager, Force: true}); err != nil {
			t.s.logger.Info("Setting the pod's task reachability condition failed", "pod", klog.KObj(pod), "err", err)
		}
	}()
}

// unreachableOn says whether tasks on the agent were reported unreachable.
func (t *tasks) unreachableOn(agentID string) map[string]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]string{}
	for id := range t.unreachable {
		if tk, ok := t.live[id]; ok && tk.agentID == agentID {
			out[id] = agentID
		}
	}
	return out
}

// evictPod evicts a pod through the Eviction API (PodDisruptionBudgets
// hold), retrying while refused, until it is gone or the source stops.
func (s *Source) evictPod(pod *v1.Pod) {
	_ = wait.PollUntilContextCancel(s.ctx, drainRetry, true, func(ctx context.Context) (bool, error) {
		err := s.client.PolicyV1().Evictions(pod.Namespace).Evict(ctx, &policyv1.Eviction{
			ObjectMeta:    metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace},
			DeleteOptions: &metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pod.UID}},
		})
		switch {
		case err == nil || apierrors.IsNotFound(err) || apierrors.IsConflict(err):
			return true, nil
		case apierrors.IsTooManyRequests(err):
			return false, nil // a PodDisruptionBudget refuses for now
		}
		s.logger.Info("Evicting a pod failed; retrying", "pod", klog.KObj(pod), "err", err)
		return false, nil
	})
}

// deletePod deletes a pod (TaskGonePolicy Delete).
func (s *Source) deletePod(pod *v1.Pod) {
	_ = wait.PollUntilContextCancel(s.ctx, drainRetry, true, func(ctx context.Context) (bool, error) {
		err := s.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pod.UID}})
		if err == nil || apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return true, nil
		}
		s.logger.Info("Deleting a pod failed; retrying", "pod", klog.KObj(pod), "err", err)
		return false, nil
	})
}

var everything = labels.Everything()
