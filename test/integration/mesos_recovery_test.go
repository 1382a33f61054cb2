package integration

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	v1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	emulator "github.com/kube-mesos/kube-mesos-scheduler/internal/mesosemulator"
	"github.com/kube-mesos/kube-mesos-scheduler/test/harness"
)

// activeTasks returns the non-terminal tasks of our framework (staging,
// starting, running, unreachable), by task ID; duplicates are an error.
func activeTasks(m *emulator.Master, framework string) (map[string]emulator.StateTask, error) {
	out := map[string]emulator.StateTask{}
	for _, f := range m.Frameworks() {
		if f.Name != framework {
			continue
		}
		for _, tk := range append(f.Tasks, f.UnreachableTasks...) {
			if _, dup := out[tk.ID]; dup {
				return nil, fmt.Errorf("task %s is active twice", tk.ID)
			}
			out[tk.ID] = tk
		}
	}
	return out, nil
}

// tasksMatchPods checks the no-orphan invariant between a cluster and the
// master: every active task of the framework belongs to a live pod bound to
// the node of the task's agent and holds the pod's cpu and memory requests;
// every bound pod of ours in the namespaces has exactly one such task.
func tasksMatchPods(ctx context.Context, e *env, m *emulator.Master, framework string, namespaces ...string) error {
	tasks, err := activeTasks(m, framework)
	if err != nil {
		return err
	}
	hostOf := map[string]string{}
	for _, a := range m.Agents() {
		hostOf[a.ID] = a.Hostname
	}
	var problems []string
	pods := map[string]v1.Pod{}
	for _, ns := range namespaces {
		list, err := e.cp.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, p := range list.Items {
			if p.DeletionTimestamp == nil && p.Spec.SchedulerName == "kube-mesos-scheduler" {
				pods[string(p.UID)] = p
			}
		}
	}
	for id, tk := range tasks {
		p, ok := pods[id]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("orphan task %s (%s) on %s: no live pod", id, tk.Name, hostOf[tk.SlaveID]))
		case p.Spec.NodeName == "":
			problems = append(problems, fmt.Sprintf("task %s on %s for pending pod %s", id, hostOf[tk.SlaveID], p.Name))
		case p.Spec.NodeName != hostOf[tk.SlaveID]:
			problems = append(problems, fmt.Sprintf("pod %s bound to %s but its task runs on %s", p.Name, p.Spec.NodeName, hostOf[tk.SlaveID]))
		default:
			cpu := p.Spec.Containers[0].Resources.Requests.Cpu().AsApproximateFloat64()
			mem := float64(p.Spec.Containers[0].Resources.Requests.Memory().Value()) / (1 << 20)
			if tk.Resources.CPUs != cpu || tk.Resources.Mem != mem {
				problems = append(problems, fmt.Sprintf("task of %s holds %v cpus %v MB, pod asks %v, %v", p.Name, tk.Resources.CPUs, tk.Resources.Mem, cpu, mem))
			}
		}
	}
	for id, p := range pods {
		if _, ok := tasks[id]; !ok && p.Spec.NodeName != "" {
			problems = append(problems, fmt.Sprintf("orphan pod %s/%s on %s: no task", p.Namespace, p.Name, p.Spec.NodeName))
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// eventuallyConsistent waits until tasksMatchPods holds and reports the
// last violation if it never does.
func eventuallyConsistent(t *testing.T, e *env, m *emulator.Master, namespaces ...string) {
	t.Helper()
	var last error
	if err := harness.Poll(e.ctx, settle, func(ctx context.Context) (bool, error) {
		last = tasksMatchPods(ctx, e, m, "kube-mesos-scheduler", namespaces...)
		return last == nil, nil
	}); err != nil {
		t.Fatalf("tasks and pods never matched: %v", last)
	}
}

// restart stops the scheduler abruptly and starts a new one from config.
func (e *env) restart(t *testing.T, config string) {
	t.Helper()
	if err := e.sched.Stop(); err != nil {
		t.Fatal(err)
	}
	e.sched = e.startScheduler(t, config)
}

func boundCount(t *testing.T, e *env, ns string) int {
	t.Helper()
	list, err := e.cp.Client.CoreV1().Pods(ns).List(e.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range list.Items {
		if p.Spec.NodeName != "" {
			n++
		}
	}
	return n
}

// TestMesosCrashBetweenAcceptAndBind: the scheduler stops after its ACCEPT
// launched a task (the agent is slow: the task stays TASK_STAGING) but
// before the pod was bound. The restarted scheduler finds, by
// reconciliation, a task whose pod is pending: it kills it, places the pod
// again, and ends with one task per bound pod and no orphan.
func TestMesosCrashBetweenAcceptAndBind(t *testing.T) {
	e := start(t, "")
	m := startMesos(t, e, map[string][3]float64{"n1": {4, 8192, 0}}, emulator.Config{})
	namespaces(t, e, "crash")
	config := mesosProfile(m, "")
	e.sched = e.startScheduler(t, config)
	m.HoldTasks(mesos.TASK_STAGING)
	createBatch(t, e, "crash", "p", 2, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1", "memory", "1Gi") })
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) {
		tasks, err := activeTasks(m, "kube-mesos-scheduler")
		return len(tasks) == 2, err
	}); err != nil {
		t.Fatalf("the ACCEPT launched no tasks: %v", err)
	}
	if n := boundCount(t, e, "crash"); n != 0 {
		t.Fatalf("%d pods bound while their tasks are staging", n)
	}
	before := ourFramework(t, m).ID
	e.restart(t, config)
	// The old tasks are killed while still staging: the pods are pending.
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) {
		killed := 0
		for _, tk := range m.CompletedTasks(before) {
			if tk.State == "TASK_KILLED" {
				killed++
			}
		}
		return killed == 2, nil
	}); err != nil {
		t.Fatalf("the tasks of pending pods were not killed after the restart: %v", err)
	}
	m.ReleaseTasks()
	if bound, err := harness.Settled(e.ctx, e.cp.Client, settle, "crash"); err != nil || bound["crash"] != 2 {
		t.Fatalf("bound %v, %v; want 2", bound, err)
	}
	eventuallyConsistent(t, e, m, "crash")
	if after := ourFramework(t, m).ID; after != before {
		t.Errorf("framework ID changed across the restart: %s -> %s", before, after)
	}
	if n := len(m.Frameworks()); n != 1 {
		t.Errorf("%d frameworks registered, want 1 (failover to the same one)", n)
	}
}

// TestMesosCrashBetweenBindAndRunning: the scheduler stops after binding
// pods whose tasks reported TASK_STARTING but not yet TASK_RUNNING. The
// restarted scheduler adopts the tasks (no orphan, no relaunch), and still
// kills a task when its pod is deleted.
func TestMesosCrashBetweenBindAndRunning(t *testing.T) {
	e := start(t, "")
	url := metricsURL(t)
	m := startMesos(t, e, map[string][3]float64{"n1": {4, 8192, 0}}, emulator.Config{})
	namespaces(t, e, "crash2")
	config := mesosProfile(m, "")
	e.sched = e.startScheduler(t, config)
	m.HoldTasks(mesos.TASK_STARTING)
	createBatch(t, e, "crash2", "p", 2, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1", "memory", "1Gi") })
	if bound, err := harness.Settled(e.ctx, e.cp.Client, settle, "crash2"); err != nil || bound["crash2"] != 2 {
		t.Fatalf("bound %v, %v; want 2 (bound at TASK_STARTING)", bound, err)
	}
	for id, tk := range mustActive(t, m) {
		if tk.State != "TASK_STARTING" {
			t.Fatalf("task %s is %s, want TASK_STARTING before the crash", id, tk.State)
		}
	}
	relaunchedBefore, _ := harness.ScrapeValue(url, "kube_mesos_mesos_tasks_relaunched_total")
	e.restart(t, config)
	m.ReleaseTasks()
	eventuallyConsistent(t, e, m, "crash2")
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) {
		for _, tk := range mustActive(t, m) {
			if tk.State != "TASK_RUNNING" {
				return false, nil
			}
		}
		return true, nil
	}); err != nil {
		t.Fatalf("tasks never reached TASK_RUNNING: %v", err)
	}
	if v, _ := harness.ScrapeValue(url, "kube_mesos_mesos_tasks_relaunched_total"); v != relaunchedBefore {
		t.Errorf("%v tasks relaunched: running tasks of bound pods must be adopted", v-relaunchedBefore)
	}
	// Adopted means tracked: deleting a pod kills its task.
	pods, err := e.cp.Client.CoreV1().Pods("crash2").List(e.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := harness.DeletePod(e.ctx, e.cp.Client, "crash2", pods.Items[0].Name); err != nil {
		t.Fatal(err)
	}
	eventuallyConsistent(t, e, m, "crash2")
	if n := len(mustActive(t, m)); n != 1 {
		t.Errorf("%d active tasks after deleting one of two pods", n)
	}
}

func mustActive(t *testing.T, m *emulator.Master) map[string]emulator.StateTask {
	t.Helper()
	tasks, err := activeTasks(m, "kube-mesos-scheduler")
	if err != nil {
		t.Fatal(err)
	}
	return tasks
}

// TestMesosOrphanPods: bound pods whose tasks ended while the scheduler was
// down (killed by an operator on the Mesos side) are orphans. With
// orphanPodPolicy Relaunch their tasks are launched again on their nodes;
// with Evict they are evicted, with an event saying why. A task that ends
// while the scheduler runs is treated alike.
func TestMesosOrphanPods(t *testing.T) {
	for _, policy := range []string{"Relaunch", "Evict"} {
		t.Run(policy, func(t *testing.T) {
			e := start(t, "")
			m := startMesos(t, e, map[string][3]float64{"n1": {4, 8192, 0}}, emulator.Config{})
			ns := "orphan-" + strings.ToLower(policy)
			namespaces(t, e, ns)
			config := mesosProfile(m, "            orphanPodPolicy: "+policy+"\n")
			e.sched = e.startScheduler(t, config)
			createBatch(t, e, ns, "p", 3, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1", "memory", "1Gi") })
			if bound, err := harness.Settled(e.ctx, e.cp.Client, settle, ns); err != nil || bound[ns] != 3 {
				t.Fatalf("bound %v, %v", bound, err)
			}
			pods, err := e.cp.Client.CoreV1().Pods(ns).List(e.ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// p-00's task ends while the scheduler runs; p-01's while it is down.
			uid := map[string]string{}
			for _, p := range pods.Items {
				uid[p.Name] = string(p.UID)
			}
			if err := m.FinishTask(uid["p-00"], mesos.TASK_KILLED); err != nil {
				t.Fatal(err)
			}
			waitEvent(t, e, ns, "p-00", "MesosTaskEnded")
			if policy == "Relaunch" {
				waitEvent(t, e, ns, "p-00", "MesosTaskRelaunched")
			}
			if err := e.sched.Stop(); err != nil {
				t.Fatal(err)
			}
			if err := m.FinishTask(uid["p-01"], mesos.TASK_KILLED); err != nil {
				t.Fatal(err)
			}
			e.sched = e.startScheduler(t, config)
			if policy == "Relaunch" {
				eventuallyConsistent(t, e, m, ns)
				waitEvent(t, e, ns, "p-01", "MesosTaskRelaunched")
				if n := boundCount(t, e, ns); n != 3 {
					t.Errorf("%d pods bound after relaunching, want all 3 kept", n)
				}
				return
			}
			// Evicted: gone, replaced (another UID), or terminating. The
			// last is what an eviction leaves when the scheduler stops
			// while the API server handles it: a deletion is written in two
			// steps (the deletion timestamp, then the removal), and a request
			// cancelled between them leaves the pod terminating — a kubelet
			// finishes it; this test has none. A restarted scheduler rightly
			// leaves such a pod alone.
			for _, name := range []string{"p-00", "p-01"} {
				if err := harness.Poll(e.ctx, settle, func(ctx context.Context) (bool, error) {
					p, err := e.cp.Client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
					return apierrors.IsNotFound(err) || (err == nil && (string(p.UID) != uid[name] || p.DeletionTimestamp != nil)), nil
				}); err != nil {
					t.Errorf("orphan pod %s was not evicted: %v", name, err)
				}
			}
			if _, err := e.cp.Client.CoreV1().Pods(ns).Get(e.ctx, "p-02", metav1.GetOptions{}); err != nil {
				t.Errorf("p-02 still has its task and must stay: %v", err)
			}
			eventuallyConsistent(t, e, m, ns)
		})
	}
}

// waitEvent waits for an event with the reason about a pod, and returns its note.
func waitEvent(t *testing.T, e *env, ns, pod, reason string) string {
	t.Helper()
	var note string
	if err := harness.Poll(e.ctx, settle, func(ctx context.Context) (bool, error) {
		evs, err := e.cp.Client.EventsV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, ev := range evs.Items {
			if ev.Regarding.Name == pod && ev.Reason == reason {
				note = ev.Note
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Fatalf("no %s event for %s/%s: %v", reason, ns, pod, err)
	}
	return note
}

// podCondition returns a pod's condition of the type.
func podCondition(ctx context.Context, e *env, ns, name string, ct v1.PodConditionType) (v1.PodCondition, bool) {
	p, err := e.cp.Client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return v1.PodCondition{}, false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == ct {
			return c, true
		}
	}
	return v1.PodCondition{}, false
}

// TestMesosPartitionAndAgentLoss: a partitioned agent's tasks go
// TASK_UNREACHABLE — the pod gets the MesosTaskReachable=False condition and
// an event, and True again when the agent comes back (reconciled on its
// next offer). A removed agent's tasks go TASK_GONE — with taskGonePolicy
// Delete the pod is deleted.
func TestMesosPartitionAndAgentLoss(t *testing.T) {
	e := start(t, "")
	m := startMesos(t, e, map[string][3]float64{"n1": {4, 8192, 0}, "n2": {4, 8192, 0}}, emulator.Config{})
	namespaces(t, e, "part")
	e.sched = e.startScheduler(t, mesosProfile(m, "            taskGonePolicy: Delete\n"))
	createBatch(t, e, "part", "a", 1, func(b *harness.PodBuilder) *harness.PodBuilder {
		return b.Req("cpu", "3", "memory", "1Gi")
	})
	createBatch(t, e, "part", "b", 1, func(b *harness.PodBuilder) *harness.PodBuilder {
		return b.Req("cpu", "3", "memory", "1Gi")
	})
	if bound, err := harness.Settled(e.ctx, e.cp.Client, settle, "part"); err != nil || bound["part"] != 2 {
		t.Fatalf("bound %v, %v", bound, err)
	}
	nodeOf := map[string]string{}
	for _, name := range []string{"a-00", "b-00"} {
		p, err := e.cp.Client.CoreV1().Pods("part").Get(e.ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		nodeOf[name] = p.Spec.NodeName
	}
	if nodeOf["a-00"] == nodeOf["b-00"] {
		t.Fatalf("both pods on %s; each needs 3 of 4 cpus", nodeOf["a-00"])
	}
	const cond = v1.PodConditionType("kube-mesos.io/MesosTaskReachable")
	if err := m.PartitionAgent(nodeOf["a-00"]); err != nil {
		t.Fatal(err)
	}
	if err := harness.Poll(e.ctx, settle, func(ctx context.Context) (bool, error) {
		c, ok := podCondition(ctx, e, "part", "a-00", cond)
		return ok && c.Status == v1.ConditionFalse, nil
	}); err != nil {
		t.Fatalf("no MesosTaskReachable=False condition after the partition: %v", err)
	}
	if note := waitEvent(t, e, "part", "a-00", "MesosTaskUnreachable"); !strings.Contains(note, "TASK_UNREACHABLE") {
		t.Errorf("event note %q", note)
	}
	if err := m.HealAgent(nodeOf["a-00"]); err != nil {
		t.Fatal(err)
	}
	if err := harness.Poll(e.ctx, settle, func(ctx context.Context) (bool, error) {
		c, ok := podCondition(ctx, e, "part", "a-00", cond)
		return ok && c.Status == v1.ConditionTrue, nil
	}); err != nil {
		t.Fatalf("the condition did not turn True after the agent came back: %v", err)
	}
	eventuallyConsistent(t, e, m, "part")

	if err := m.RemoveAgent(nodeOf["b-00"]); err != nil {
		t.Fatal(err)
	}
	if err := harness.Poll(e.ctx, settle, func(ctx context.Context) (bool, error) {
		_, err := e.cp.Client.CoreV1().Pods("part").Get(ctx, "b-00", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}); err != nil {
		t.Fatalf("the pod of a gone agent was not deleted (taskGonePolicy Delete): %v", err)
	}
	if _, err := e.cp.Client.CoreV1().Pods("part").Get(e.ctx, "a-00", metav1.GetOptions{}); err != nil {
		t.Errorf("a-00 must stay: %v", err)
	}
}

// TestMesosLeaderElectionFailover: two replicas with leader election; only
// the leader subscribes. When it dies, the other takes the lease, reads the
// framework ID from the ConfigMap and fails over to the same framework: the
// tasks of the pods bound before are kept, and new pods are placed.
func TestMesosLeaderElectionFailover(t *testing.T) {
	e := start(t, "")
	m := startMesos(t, e, map[string][3]float64{"n1": {8, 16384, 0}}, emulator.Config{})
	namespaces(t, e, "ha")
	config := strings.Replace(mesosProfile(m, ""), `leaderElection:
  leaderElect: false`, `leaderElection:
  leaderElect: true
  resourceNamespace: default
  resourceName: kube-mesos-scheduler-ha-test
  leaseDuration: 2s
  renewDeadline: 1500ms
  retryPeriod: 250ms
delayCacheUntilActive: true`, 1)
	if config == mesosProfile(m, "") {
		t.Fatal("the profile's leaderElection block was not replaced")
	}
	first := e.startScheduler(t, config)
	select {
	case <-first.Leading:
	case <-time.After(settle):
		t.Fatal("no replica leads")
	}
	second := e.startScheduler(t, config)
	createBatch(t, e, "ha", "before", 2, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1", "memory", "1Gi") })
	if bound, err := harness.Settled(e.ctx, e.cp.Client, settle, "ha"); err != nil || bound["ha"] != 2 {
		t.Fatalf("bound %v, %v", bound, err)
	}
	id := ourFramework(t, m).ID
	select {
	case <-second.Leading:
		t.Fatal("the standby replica leads while the first one holds the lease")
	default:
	}
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-second.Leading:
	case <-time.After(settle):
		t.Fatal("the standby replica never took over")
	}
	createBatch(t, e, "ha", "after", 2, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1", "memory", "1Gi") })
	if bound, err := harness.Settled(e.ctx, e.cp.Client, settle, "ha"); err != nil || bound["ha"] != 4 {
		t.Fatalf("bound %v, %v", bound, err)
	}
	eventuallyConsistent(t, e, m, "ha")
	if fws := m.Frameworks(); len(fws) != 1 || fws[0].ID != id {
		t.Errorf("frameworks after failover %v, want only %s", fws, id)
	}
}

// TestMesosHeartbeatWatchdog: when the master stops sending heartbeats the
// scheduler subscribes again (same framework ID) and keeps placing pods.
func TestMesosHeartbeatWatchdog(t *testing.T) {
	e := start(t, "")
	url := metricsURL(t)
	m := startMesos(t, e, map[string][3]float64{"n1": {8, 16384, 0}}, emulator.Config{HeartbeatInterval: 200 * time.Millisecond})
	namespaces(t, e, "hb")
	e.sched = e.startScheduler(t, mesosProfile(m, ""))
	createBatch(t, e, "hb", "p", 1, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1") })
	if _, err := harness.WaitForPodBound(e.ctx, e.cp.Client, "hb", "p-00", settle); err != nil {
		t.Fatal(err)
	}
	id := ourFramework(t, m).ID
	subs := func() float64 { v, _ := harness.ScrapeValue(url, "kube_mesos_mesos_subscriptions_total"); return v }
	missed := func() float64 {
		v, _ := harness.ScrapeValue(url, "kube_mesos_mesos_heartbeat_timeouts_total")
		return v
	}
	s0, m0 := subs(), missed()
	m.StopHeartbeats(true)
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) { return missed() > m0, nil }); err != nil {
		t.Fatalf("missed heartbeats were not noticed: %v", err)
	}
	m.StopHeartbeats(false)
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) { return subs() > s0, nil }); err != nil {
		t.Fatalf("no resubscription after missed heartbeats: %v", err)
	}
	createBatch(t, e, "hb", "q", 1, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1") })
	if _, err := harness.WaitForPodBound(e.ctx, e.cp.Client, "hb", "q-00", settle); err != nil {
		t.Fatal(err)
	}
	eventuallyConsistent(t, e, m, "hb")
	if got := ourFramework(t, m).ID; got != id {
		t.Errorf("framework ID changed on resubscription: %s -> %s", id, got)
	}
}

// TestMesosMaintenance: an INVERSE_OFFER for an agent makes its node take no
// new pods (Filter names the maintenance); with drainOnMaintenance our pods
// there are evicted through the Eviction API, which honours a
// PodDisruptionBudget (this test plays the disruption controller by setting
// the budget's status, and the kubelet by marking the pods Running); the inverse offer is accepted only once no pod of
// ours is left. Cancelling the maintenance (RESCIND_INVERSE_OFFER) opens the
// node again.
func TestMesosMaintenance(t *testing.T) {
	e := start(t, "")
	m := startMesos(t, e, map[string][3]float64{"n1": {4, 8192, 0}}, emulator.Config{})
	namespaces(t, e, "mnt")
	e.sched = e.startScheduler(t, mesosProfile(m, "            drainOnMaintenance: true\n"))
	createBatch(t, e, "mnt", "p", 2, func(b *harness.PodBuilder) *harness.PodBuilder {
		return b.Req("cpu", "1", "memory", "1Gi").Label("app", "db")
	})
	if bound, err := harness.Settled(e.ctx, e.cp.Client, settle, "mnt"); err != nil || bound["mnt"] != 2 {
		t.Fatalf("bound %v, %v", bound, err)
	}
	// Play the kubelet: pods that are not Running are evicted regardless of
	// their budget.
	list, err := e.cp.Client.CoreV1().Pods("mnt").List(e.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range list.Items {
		p := &list.Items[i]
		p.Status.Phase = v1.PodRunning
		p.Status.Conditions = append(p.Status.Conditions, v1.PodCondition{Type: v1.PodReady, Status: v1.ConditionTrue, LastTransitionTime: metav1.Now()})
		if _, err := e.cp.Client.CoreV1().Pods("mnt").UpdateStatus(e.ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	one := intstr.FromInt32(1)
	pdb, err := e.cp.Client.PolicyV1().PodDisruptionBudgets("mnt").Create(e.ctx, &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "mnt"},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pdb.Status = policyv1.PodDisruptionBudgetStatus{
		ObservedGeneration: pdb.Generation, DisruptionsAllowed: 1, CurrentHealthy: 2, DesiredHealthy: 1, ExpectedPods: 2,
	}
	if _, err := e.cp.Client.PolicyV1().PodDisruptionBudgets("mnt").UpdateStatus(e.ctx, pdb, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := m.ScheduleMaintenance("n1", time.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	// One pod may go; the budget keeps the other.
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) { return podCount(t, e, "mnt") == 1, nil }); err != nil {
		t.Fatalf("the drain did not evict exactly the one pod the budget allows: %v", err)
	}
	createBatch(t, e, "mnt", "new", 1, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "100m") })
	if msg, err := harness.WaitForUnschedulable(e.ctx, e.cp.Client, "mnt", "new-00", settle, "maintenance"); err != nil || !strings.Contains(msg, "maintenance") {
		t.Errorf("a new pod on a node under maintenance: %q, %v; want a reason naming the maintenance", msg, err)
	}
	for _, r := range m.InverseOfferResponses() {
		if r.Accepted {
			t.Fatalf("inverse offer accepted while a pod of ours still runs on n1: %+v", r)
		}
	}
	// The operator removes the last pod; the drain completes.
	list, err = e.cp.Client.CoreV1().Pods("mnt").List(e.ctx, metav1.ListOptions{LabelSelector: "app=db"})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("pods left %v, %v", list, err)
	}
	if err := harness.DeletePod(e.ctx, e.cp.Client, "mnt", list.Items[0].Name); err != nil {
		t.Fatal(err)
	}
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) {
		for _, r := range m.InverseOfferResponses() {
			if r.Accepted && r.Hostname == "n1" {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Fatalf("the inverse offer was never accepted after the drain: %v", err)
	}
	if err := m.CancelMaintenance("n1"); err != nil {
		t.Fatal(err)
	}
	if _, err := harness.WaitForPodBound(e.ctx, e.cp.Client, "mnt", "new-00", settle); err != nil {
		t.Errorf("the node did not take pods again after the maintenance was cancelled: %v", err)
	}
	eventuallyConsistent(t, e, m, "mnt")
}

func podCount(t *testing.T, e *env, ns string) int {
	t.Helper()
	list, err := e.cp.Client.CoreV1().Pods(ns).List(e.ctx, metav1.ListOptions{LabelSelector: "app=db"})
	if err != nil {
		t.Fatal(err)
	}
	return len(list.Items)
}

// TestMesosTaskGoneWhileBinding: a task that ends while its pod is being
// bound — after TASK_STARTING allowed the pod, before the scheduler's pod
// informer saw the binding — is not forgotten: once the pod is seen bound,
// taskGonePolicy applies to it.
//
// One agent n1 ⟨4 CPU, 8 GiB⟩, taskGonePolicy Delete. The emulator removes
// the agent right after the first task launched there reports
// TASK_STARTING, so TASK_GONE (REASON_AGENT_REMOVED) follows TASK_STARTING
// in the same stream, microseconds later, while the pod's bind call (a
// round trip to the API server, milliseconds) is at best on its way. The
// pod ⟨1 CPU, 1 GiB⟩ binds to n1 and must then be deleted with a
// MesosTaskGone event: its node's agent is gone with its task. Dropped —
// as it was when the informer's copy was still pending — the pod would
// stay bound with no task (the fault campaign's round stuck 180 s on such
// a pod in CI).
func TestMesosTaskGoneWhileBinding(t *testing.T) {
	e := start(t, "")
	m := startMesos(t, e, map[string][3]float64{"n1": {4, 8192, 0}}, emulator.Config{})
	namespaces(t, e, "gone")
	if err := m.RemoveAgentAfterLaunch("n1"); err != nil {
		t.Fatal(err)
	}
	e.sched = e.startScheduler(t, mesosProfile(m, "            taskGonePolicy: Delete\n"))
	createPods(t, e, "gone", "p", 1, "1", "1Gi")
	note := waitEvent(t, e, "gone", "p-00", "MesosTaskGone")
	if !strings.Contains(note, "REASON_AGENT_REMOVED") {
		t.Errorf("MesosTaskGone says %q, want the reason REASON_AGENT_REMOVED", note)
	}
	if err := harness.Poll(e.ctx, settle, func(ctx context.Context) (bool, error) {
		_, err := e.cp.Client.CoreV1().Pods("gone").Get(ctx, "p-00", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}); err != nil {
		t.Errorf("pod p-00 not deleted after its agent was removed (taskGonePolicy Delete): %v", err)
	}
}
