package integration

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	emulator "github.com/kube-mesos/kube-mesos-scheduler/internal/mesosemulator"
	"github.com/kube-mesos/kube-mesos-scheduler/test/harness"
)

// resubscribeBound is the bound on re-subscribing to a new leading
// master with the same framework ID.
const resubscribeBound = 5 * time.Second

// mesosArgs is our profile with the Mesos source at master (any form:
// "http://h:p,h:p", "https://...", "zk://h:p/path"); extra lines go under
// mesos: (12 spaces of indentation).
func mesosArgs(master, frameworkName, extra string) string {
	return withArgs(profile, fmt.Sprintf(`      - name: MesosOffers
        args:
          source: Mesos
          refuseSeconds: 1
          mesos:
            master: %s
            frameworkName: %s
            frameworkIDConfigMap: default/%s
%s`, master, frameworkName, frameworkName, extra))
}

// hostPort is a master's "127.0.0.1:port".
// portOf returns the port a master listens on.
func portOf(t *testing.T, m *emulator.Master) string {
	t.Helper()
	u, err := url.Parse(m.URL())
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

func hostPort(m *emulator.Master) string {
	u, _ := url.Parse(m.URL())
	return u.Host
}

// frameworkNamed returns a framework of the master by name.
func frameworkNamed(m *emulator.Master, name string) (emulator.StateFramework, bool) {
	for _, f := range m.Frameworks() {
		if f.Name == name {
			return f, true
		}
	}
	return emulator.StateFramework{}, false
}

// liveTasks returns the tasks holding resources (neither terminal nor
// unreachable) of every framework of a master.
func liveTasks(m *emulator.Master) []emulator.StateTask {
	var out []emulator.StateTask
	for _, f := range m.Frameworks() {
		for _, tk := range f.Tasks {
			switch tk.State {
			case "TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING":
				out = append(out, tk)
			}
		}
	}
	return out
}

// checkOneTaskPerPod checks that every bound pod of the namespace has
// exactly one active task (ID = pod UID) among all tasks given, in the
// framework given, on the agent of its node, holding its cpu and memory
// requests; and that the framework has no other task. It returns the
// number of bound pods.
func checkOneTaskPerPod(t *testing.T, ctx context.Context, c kubernetes.Interface, ns string, m *emulator.Master, frameworkID string, tasks []emulator.StateTask) int {
	t.Helper()
	byID := map[string][]emulator.StateTask{}
	ours := 0
	for _, tk := range tasks {
		byID[tk.ID] = append(byID[tk.ID], tk)
		if tk.FrameworkID == frameworkID {
			ours++
		}
	}
	pods, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bound := 0
	for _, p := range pods.Items {
		if p.Spec.NodeName == "" {
			continue
		}
		bound++
		got := byID[string(p.UID)]
		if len(got) != 1 {
			t.Errorf("bound pod %s/%s on %s has %d tasks, want 1: %+v", ns, p.Name, p.Spec.NodeName, len(got), got)
			continue
		}
		tk, req := got[0], p.Spec.Containers[0].Resources.Requests
		switch {
		case tk.FrameworkID != frameworkID:
			t.Errorf("task of %s in framework %s, want %s", p.Name, tk.FrameworkID, frameworkID)
		case tk.SlaveID != m.AgentID(p.Spec.NodeName):
			t.Errorf("task of %s on agent %s, but the pod is bound to %s (agent %s)", p.Name, tk.SlaveID, p.Spec.NodeName, m.AgentID(p.Spec.NodeName))
		case tk.Resources.CPUs != req.Cpu().AsApproximateFloat64() || tk.Resources.Mem != float64(req.Memory().Value()>>20):
			t.Errorf("task of %s holds %+v, the pod requests %v", p.Name, tk.Resources, req)
		}
	}
	if ours != bound {
		t.Errorf("framework %s has %d active tasks for %d bound pods in %s", frameworkID, ours, bound, ns)
	}
	return bound
}

// checkUniqueTaskIDs fails on a task ID active on more than one master or
// twice on one.
func checkUniqueTaskIDs(t *testing.T, masters ...*emulator.Master) {
	t.Helper()
	seen := map[string]string{}
	for _, m := range masters {
		for _, tk := range liveTasks(m) {
			if where, dup := seen[tk.ID]; dup {
				t.Errorf("task %s is active twice: %s and %s", tk.ID, where, m.URL())
			}
			seen[tk.ID] = m.URL()
		}
	}
}

// boundNodes returns pod name -> node of the bound pods of a namespace.
func boundNodes(t *testing.T, e *env, ns string) map[string]string {
	t.Helper()
	pods, err := e.cp.Client.CoreV1().Pods(ns).List(e.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range pods.Items {
		if p.Spec.NodeName != "" {
			out[p.Name] = p.Spec.NodeName
		}
	}
	return out
}

// waitResubscribed waits until the framework is connected to m again after
// a leader switch at switched (same framework ID: the master knows it by
// that ID) and returns how long after the switch it re-subscribed, from
// the master's reregistered_time.
func waitResubscribed(t *testing.T, e *env, m *emulator.Master, frameworkID string, switched time.Time) time.Duration {
	t.Helper()
	var fw emulator.StateFramework
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) {
		var ok bool
		fw, ok = m.Framework(frameworkID)
		return ok && fw.Connected && !fw.Recovered, nil
	}); err != nil {
		t.Fatalf("framework %s never re-subscribed to the new leader %s: %v (frameworks %+v)", frameworkID, m.URL(), err, m.Frameworks())
	}
	at := time.Unix(0, int64(float64(fw.ReregisteredTime)*1e9))
	if fw.ReregisteredTime == 0 {
		at = time.Unix(0, int64(float64(fw.RegisteredTime)*1e9))
	}
	return at.Sub(switched)
}

// createPods creates pods asking for cpu and memory.
func createPods(t *testing.T, e *env, ns, prefix string, n int, cpu, mem string) {
	t.Helper()
	createBatch(t, e, ns, prefix, n, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", cpu, "memory", mem) })
}

// waitAllBound waits until n pods of the namespace are bound.
func waitAllBound(t *testing.T, e *env, ns string, n int) {
	t.Helper()
	bound, err := harness.Settled(e.ctx, e.cp.Client, settle, ns)
	if err != nil || bound[ns] != n {
		t.Fatalf("%s: bound %v, %v; want %d", ns, bound, err, n)
	}
}

// TestMesosHAZooKeeper: the scheduler finds the leading master in a real
// ZooKeeper (zk://127.0.0.1:PORT/mesos, two emulated masters registered
// there). When the leader fails over — it stops leading and the other takes
// over its agents and tasks (TakeOver) — its znode lingers for the masters'
// ZooKeeper session timeout (10 s, the emulator's default, as a real Mesos
// 1.12 master showed), so ZooKeeper keeps naming the dead leader while the
// scheduler's attempts back off (0.5, 1, 2, 4, 8 s: at the 10 s mark it
// may be in the middle of an 8 s wait). The scheduler must re-subscribe to
// the new leader with the same framework ID within 1 s of ZooKeeper naming
// it; every bound pod stays bound with exactly one task on the new master, no
// task is duplicated, and pods created afterwards bind through the new
// leader.
func TestMesosHAZooKeeper(t *testing.T) {
	e := start(t, "")
	zkServer, _, err := harness.StartZooKeeper(t)
	if err != nil {
		t.Fatal(err)
	}
	m1 := startMesos(t, e, map[string][3]float64{"n1": {4, 8192, 0}, "n2": {4, 8192, 0}}, emulator.Config{})
	m2, err := emulator.Start(emulator.Config{Leader: emulator.Bool(false), AllocationInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m2.Close)
	for _, m := range []*emulator.Master{m1, m2} { // m1 first: the lowest sequence leads
		if _, err := m.RegisterInZooKeeper([]string{zkServer}, "/mesos"); err != nil {
			t.Fatal(err)
		}
	}
	namespaces(t, e, "ha")
	createPods(t, e, "ha", "p", 4, "1", "1Gi")
	e.sched = e.startScheduler(t, mesosArgs("zk://"+zkServer+"/mesos", "kms-ha", ""))
	waitAllBound(t, e, "ha", 4)
	fw, ok := frameworkNamed(m1, "kms-ha")
	if !ok {
		t.Fatalf("no framework on the leader: %+v", m1.Frameworks())
	}
	checkOneTaskPerPod(t, e.ctx, e.cp.Client, "ha", m1, fw.ID, liveTasks(m1))
	before := boundNodes(t, e, "ha")
	if m2.CallStats().Handled["SUBSCRIBE"] != 0 {
		t.Fatalf("the standby served a subscription: %+v", m2.CallStats())
	}

	// The leader fails over: it stops leading (its streams drop), m2 leads
	// with its agents and tasks, m1's znode goes (ZooKeeper now names m2)
	// and m1 rejoins as a standby.
	conn, _, err := zk.Connect([]string{zkServer}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	switched := time.Now()
	if err := m2.TakeOver(m1); err != nil {
		t.Fatal(err)
	}
	// When ZooKeeper names m2: its znode is the lowest.
	var named time.Time
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) {
		children, _, err := conn.Children("/mesos")
		if err != nil || len(children) == 0 {
			return false, nil
		}
		slices.Sort(children)
		data, _, err := conn.Get("/mesos/" + children[0])
		if err != nil || !strings.Contains(string(data), fmt.Sprintf(`"port":%s`, portOf(t, m2))) {
			return false, nil
		}
		named = time.Now()
		return true, nil
	}); err != nil {
		t.Fatalf("ZooKeeper never named the new leader: %v", err)
	}
	took := waitResubscribed(t, e, m2, fw.ID, switched)
	late := took - named.Sub(switched)
	t.Logf("ZooKeeper named the new leader %v after the switch; re-subscribed with framework ID %s %v after that",
		named.Sub(switched).Round(time.Millisecond), fw.ID, late.Round(time.Millisecond))
	if late > time.Second {
		t.Errorf("re-subscribed %v after ZooKeeper named the new leader, want within 1 s", late)
	}
	if named.Sub(switched) < 9*time.Second {
		t.Errorf("ZooKeeper named the new leader %v after the switch: the old leader's znode did not linger (10 s)", named.Sub(switched))
	}
	if other, ok := frameworkNamed(m2, "kms-ha"); !ok || other.ID != fw.ID || len(m2.Frameworks()) != 1 {
		t.Errorf("frameworks on the new leader %+v, want only %s", m2.Frameworks(), fw.ID)
	}

	createPods(t, e, "ha", "q", 2, "1", "1Gi")
	waitAllBound(t, e, "ha", 6)
	after := boundNodes(t, e, "ha")
	for pod, node := range before {
		if after[pod] != node {
			t.Errorf("pod %s was on %s before the switch, on %q after", pod, node, after[pod])
		}
	}
	checkOneTaskPerPod(t, e.ctx, e.cp.Client, "ha", m2, fw.ID, liveTasks(m2))
	checkUniqueTaskIDs(t, m1, m2)
	if n := m1.CallStats().Handled["ACCEPT"]; n == 0 {
		t.Error("no ACCEPT on the first leader")
	}
	if n := m2.CallStats().Handled["ACCEPT"]; n == 0 {
		t.Error("the pods created after the switch were not accepted on the new leader")
	}
	if tasks := liveTasks(m1); len(tasks) != 0 {
		t.Errorf("the old leader still runs tasks: %+v", tasks)
	}
	// One subscription per leader: a leader change is acted on once.
	if n1, n2 := m1.CallStats().Handled["SUBSCRIBE"], m2.CallStats().Handled["SUBSCRIBE"]; n1 != 1 || n2 != 1 {
		t.Errorf("SUBSCRIBE calls: %d to the first leader, %d to the second; want 1 and 1", n1, n2)
	}
}

// TestMesosHARedirect: with master "http://m1,m2" where m1 does not lead
// (it answers 307 to m2), the scheduler subscribes to m2 and sends every
// call there, none to m1 (mesos-go's httpsched would keep the endpoint
// that answered a 307; pkg/mesos resolves the leader first). Then m1 takes
// over: the scheduler follows with the same framework ID, its pods keep
// their tasks, and every later call goes to m1.
func TestMesosHARedirect(t *testing.T) {
	e := start(t, "")
	m2 := startMesos(t, e, map[string][3]float64{"n1": {4, 8192, 0}, "n2": {4, 8192, 0}}, emulator.Config{})
	m1, err := emulator.Start(emulator.Config{Leader: emulator.Bool(false), LeaderHostPort: m2.HostPort(), AllocationInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m1.Close)
	namespaces(t, e, "rd")
	createPods(t, e, "rd", "p", 3, "1", "1Gi")
	e.sched = e.startScheduler(t, mesosArgs("http://"+hostPort(m1)+","+hostPort(m2), "kms-rd", ""))
	waitAllBound(t, e, "rd", 3)
	fw, ok := frameworkNamed(m2, "kms-rd")
	if !ok {
		t.Fatalf("no framework on the leader: %+v", m2.Frameworks())
	}
	checkOneTaskPerPod(t, e.ctx, e.cp.Client, "rd", m2, fw.ID, liveTasks(m2))
	if s := m1.CallStats(); len(s.Handled) != 0 || s.Redirected != 0 {
		t.Errorf("calls sent to the non-leading master: %+v", s)
	}
	if s := m2.CallStats(); s.Handled["SUBSCRIBE"] == 0 || s.Handled["ACCEPT"] == 0 || s.Handled["ACKNOWLEDGE"] == 0 {
		t.Errorf("calls on the leader: %+v", s)
	}

	switched := time.Now()
	if err := m1.TakeOver(m2); err != nil {
		t.Fatal(err)
	}
	took := waitResubscribed(t, e, m1, fw.ID, switched)
	t.Logf("re-subscribed to the new leader with framework ID %s %v after the leader switch", fw.ID, took.Round(time.Millisecond))
	if took > resubscribeBound {
		t.Errorf("re-subscription took %v, want at most %v", took, resubscribeBound)
	}
	old := m2.CallStats()
	createPods(t, e, "rd", "q", 3, "1", "1Gi")
	waitAllBound(t, e, "rd", 6)
	checkOneTaskPerPod(t, e.ctx, e.cp.Client, "rd", m1, fw.ID, liveTasks(m1))
	checkUniqueTaskIDs(t, m1, m2)
	if now := m2.CallStats(); now.Redirected != old.Redirected || len(now.Handled) != len(old.Handled) {
		t.Errorf("calls sent to the old leader after re-subscribing: before %+v, after %+v", old, now)
	}
	if s := m1.CallStats(); s.Handled["SUBSCRIBE"] == 0 || s.Handled["ACCEPT"] == 0 || s.Redirected != 0 {
		t.Errorf("calls on the new leader: %+v", s)
	}
	t.Logf("calls: first listed master %+v; second %+v", m1.CallStats(), m2.CallStats())
}

// podsWithoutReason returns the pending pods of a namespace without a
// PodScheduled=False reason.
func podsWithoutReason(t *testing.T, ctx context.Context, c kubernetes.Interface, ns string) []string {
	t.Helper()
	pods, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range pods.Items {
		if p.Spec.NodeName == "" && harness.Unschedulable(&p) == "" {
			out = append(out, p.Name)
		}
	}
	return out
}

// countBound counts the bound pods of a namespace.
func countBound(ctx context.Context, c kubernetes.Interface, ns string) (int, error) {
	pods, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range pods.Items {
		if p.Spec.NodeName != "" {
			n++
		}
	}
	return n, nil
}

// checkNotOverbooked fails if an agent's active tasks of all frameworks
// hold more than the agent has.
func checkNotOverbooked(t *testing.T, m *emulator.Master) {
	t.Helper()
	used := map[string]emulator.Resources{}
	for _, tk := range liveTasks(m) {
		u := used[tk.SlaveID]
		u.CPUs += tk.Resources.CPUs
		u.Mem += tk.Resources.Mem
		used[tk.SlaveID] = u
	}
	for _, a := range m.Agents() {
		u := used[a.ID]
		if u.CPUs > a.Resources.CPUs+1e-9 || u.Mem > a.Resources.Mem+1e-9 {
			t.Errorf("agent %s is double-booked: tasks hold %v cpus, %v MB of %v cpus, %v MB", a.Hostname, u.CPUs, u.Mem, a.Resources.CPUs, a.Resources.Mem)
		}
	}
}

// TestMesosTwoSchedulersOneMaster: two Kubernetes clusters, each with its
// scheduler and its own framework, share one Mesos master; both clusters
// have nodes n1 and n2 for the master's agents n1 and n2. More pods than
// fit are created in both. No agent is ever double-booked, every bound pod
// has exactly one task of its cluster's framework on the agent of its node
// holding its requests, and the pods that do not fit wait with a reason.
func TestMesosTwoSchedulersOneMaster(t *testing.T) {
	a := start(t, "")
	m := startMesos(t, a, map[string][3]float64{"n1": {4, 8192, 0}, "n2": {4, 8192, 0}}, emulator.Config{})
	cpB, err := harness.StartControlPlane(t)
	if err != nil {
		t.Fatalf("second control plane: %v", err)
	}
	t.Cleanup(cpB.Stop)
	b := &env{ctx: a.ctx, cp: cpB}
	for _, n := range []string{"n1", "n2"} {
		if err := harness.CreateNodes(b.ctx, cpB.Client, harness.MakeNode(n).Capacity("cpu", "4", "memory", "8192Mi").Obj()); err != nil {
			t.Fatal(err)
		}
	}
	clusters := []struct {
		e         *env
		framework string
	}{{a, "kms-a"}, {b, "kms-b"}}
	for _, c := range clusters {
		namespaces(t, c.e, "team")
		createPods(t, c.e, "team", "p", 6, "1", "1Gi")
	}
	for _, c := range clusters {
		c.e.sched = c.e.startScheduler(t, mesosArgs(m.URL(), c.framework, ""))
	}
	// 12 pods of 1 cpu for 8 cpus: wait until the agents are full, checking
	// all along that no agent is double-booked.
	err = harness.Poll(a.ctx, settle, func(ctx context.Context) (bool, error) {
		checkNotOverbooked(t, m)
		total := 0
		for _, c := range clusters {
			n, err := countBound(ctx, c.e.cp.Client, "team")
			if err != nil {
				return false, nil
			}
			total += n
		}
		return total == 8, nil
	})
	if err != nil {
		t.Fatalf("the two clusters never filled the 8 cpus of the agents: %v", err)
	}
	for _, c := range clusters {
		if _, err := harness.Settled(c.e.ctx, c.e.cp.Client, settle, "team"); err != nil {
			t.Fatalf("%s: %v", c.framework, err)
		}
	}
	checkNotOverbooked(t, m)
	tasks := liveTasks(m)
	for _, c := range clusters {
		fw, ok := frameworkNamed(m, c.framework)
		if !ok {
			t.Fatalf("framework %s not registered: %+v", c.framework, m.Frameworks())
		}
		n := checkOneTaskPerPod(t, c.e.ctx, c.e.cp.Client, "team", m, fw.ID, tasks)
		t.Logf("%s: %d pods bound", c.framework, n)
		if waiting := podsWithoutReason(t, c.e.ctx, c.e.cp.Client, "team"); len(waiting) != 0 {
			t.Errorf("%s: pending pods without a reason: %v", c.framework, waiting)
		}
	}
	checkUniqueTaskIDs(t, m)
	if len(tasks) != 8 {
		t.Errorf("%d active tasks, want 8", len(tasks))
	}
}
