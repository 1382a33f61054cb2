package integration

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	emulator "github.com/kube-mesos/kube-mesos-scheduler/internal/mesosemulator"
	"github.com/kube-mesos/kube-mesos-scheduler/test/harness"
)

// Weighted DRF against a Mesos master (the emulator), which offers all the
// free resources of an agent to one role at a time (recorded from a Mesos
// 1.12 master: internal/mesosemulator/testdata). Each role must take of such an
// offer only its part of the fair allocation, so that the master offers the
// rest to the others.

// fairDRFArgs shortens the fair-share preemption delay for the tests.
const fairDRFArgs = `      - name: DRF
        args:
          fairSharePreemptionDelay: 1s
`

// waitBound waits until the namespaces' bound pods are want and stay so for
// two seconds (several of the master's allocation cycles), and returns the
// last counts.
func waitBound(t *testing.T, e *env, want map[string]int) map[string]int {
	t.Helper()
	var got map[string]int
	var since time.Time
	err := wait.PollUntilContextTimeout(e.ctx, 100*time.Millisecond, settle, true, func(ctx context.Context) (bool, error) {
		got = map[string]int{}
		for ns := range want {
			list, err := e.cp.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, nil
			}
			for _, p := range list.Items {
				if p.Spec.NodeName != "" && p.DeletionTimestamp == nil {
					got[ns]++
				}
			}
		}
		if !maps.Equal(got, want) {
			since = time.Time{}
			return false, nil
		}
		if since.IsZero() {
			since = time.Now()
		}
		return time.Since(since) >= 2*time.Second, nil
	})
	if err != nil {
		t.Fatalf("bound %v, want %v: %v", got, want, err)
	}
	return got
}

// TestMesosFairWholeAgentOffers: the backlog of two roles against a master,
// three clusters, expected counts derived by weighted progressive filling:
//
//   - DRF paper on one agent ⟨9 CPU, 18 GiB⟩, a ⟨1 CPU, 4 GiB⟩, b ⟨3 CPU,
//     1 GiB⟩, 20 each: a 3, b 2 (see TestDRFPaperExample). Taking the
//     offered agent greedily, a would run 4 and b 1.
//   - one agent ⟨48 CPU, 96 GiB⟩, a weight 3 with ⟨2 CPU, 1 GiB⟩, b weight 1
//     with ⟨1 CPU, 4 GiB⟩, 40 each: a's pod adds 1/24 to its dominant share
//     (CPU), 1/72 weighted; b's 1/24 (memory). Weighted shares stay level at
//     a = 3·b pods; CPUs run out at 2a + b = 48: at a 20, b 7 (47 CPUs) a
//     is lower (20/72 < 21/72) but needs 2 CPUs of the 1 left, b takes it:
//     a 20, b 8. Greedily, a would take 24 and b none.
//   - ten agents ⟨9 CPU, 18 GiB⟩, the paper's a and b with 200 pods each:
//     over ⟨90 CPU, 180 GiB⟩ a's pod adds 1/45, b's 1/30; level at 2a = 3b,
//     CPUs run out at a + 3b = 90: a 30, b 20, and the only packing of 30 +
//     20 pods into ten 9-CPU agents is 3 a + 2 b on each (9 CPUs each).
//     Greedily every agent gets 4 a or 3 b and strands the rest.
func TestMesosFairWholeAgentOffers(t *testing.T) {
	gi := 1024.0
	for _, tc := range []struct {
		name    string
		agents  int
		agent   [3]float64
		a, b    []string // requests
		n       int
		weightA string
		want    map[string]int
		perNode map[string]int // pods per agent and role, when every agent must hold the same
	}{
		{name: "paper", agents: 1, agent: [3]float64{9, 18 * gi}, a: []string{"cpu", "1", "memory", "4Gi"}, b: []string{"cpu", "3", "memory", "1Gi"},
			n: 20, want: map[string]int{"a": 3, "b": 2}},
		{name: "weights", agents: 1, agent: [3]float64{48, 96 * gi}, a: []string{"cpu", "2", "memory", "1Gi"}, b: []string{"cpu", "1", "memory", "4Gi"},
			n: 40, weightA: "3", want: map[string]int{"a": 20, "b": 8}},
		{name: "ten agents", agents: 10, agent: [3]float64{9, 18 * gi}, a: []string{"cpu", "1", "memory", "4Gi"}, b: []string{"cpu", "3", "memory", "1Gi"},
			n: 200, want: map[string]int{"a": 30, "b": 20}, perNode: map[string]int{"a": 3, "b": 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, "")
			agents := map[string][3]float64{}
			for i := 0; i < tc.agents; i++ {
				agents[fmt.Sprintf("agent-%02d", i)] = tc.agent
			}
			m := startMesos(t, e, agents, emulator.Config{})
			var ann map[string]string
			if tc.weightA != "" {
				ann = map[string]string{"kube-mesos.io/weight": tc.weightA}
			}
			if err := harness.CreateNamespace(e.ctx, e.cp.Client, "a", nil, ann); err != nil {
				t.Fatal(err)
			}
			namespaces(t, e, "b")
			createBatch(t, e, "a", "a", tc.n, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req(tc.a...) })
			createBatch(t, e, "b", "b", tc.n, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req(tc.b...) })
			e.sched = e.startScheduler(t, mesosProfile(m, "")+fairDRFArgs)
			waitBound(t, e, tc.want)
			if tc.perNode == nil {
				return
			}
			per := map[string]map[string]int{}
			for _, ns := range []string{"a", "b"} {
				list, err := e.cp.Client.CoreV1().Pods(ns).List(e.ctx, metav1.ListOptions{})
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range list.Items {
					if p.Spec.NodeName != "" {
						if per[p.Spec.NodeName] == nil {
							per[p.Spec.NodeName] = map[string]int{}
						}
						per[p.Spec.NodeName][ns]++
					}
				}
			}
			for node := range agents {
				if !maps.Equal(per[node], tc.perNode) {
					t.Errorf("%s holds %v, want %v (every agent full)", node, per[node], tc.perNode)
				}
			}
		})
	}
}

// TestMesosFairLateRole: a alone on two agents ⟨9 CPU, 18 GiB⟩ takes 4 pods
// ⟨1 CPU, 4 GiB⟩ per agent (memory: a fifth needs 4 GiB of the 2 left).
// Then b arrives with pods ⟨3 CPU, 1 GiB⟩: weighted DRF over ⟨18 CPU,
// 36 GiB⟩ is the paper's answer twice, a 6, b 4. Fewest evictions: each
// agent has ⟨5 CPU, 2 GiB⟩ free, room for one b; the second b of an agent
// needs 3 CPUs, and one a pod gives 1 CPU and 4 GiB: one eviction per agent,
// 2 in all. The victims' tasks are killed on the master, which offers their
// resources again.
func TestMesosFairLateRole(t *testing.T) {
	e := start(t, "")
	m := startMesos(t, e, map[string][3]float64{"agent-1": {9, 18 * 1024}, "agent-2": {9, 18 * 1024}}, emulator.Config{})
	namespaces(t, e, "a", "b")
	tenants, err := harness.WatchTenants(e.ctx, e.cp.Client, "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tenants.Stop)
	e.sched = e.startScheduler(t, mesosProfile(m, "")+fairDRFArgs)
	createBatch(t, e, "a", "a", 20, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1", "memory", "4Gi") })
	waitBound(t, e, map[string]int{"a": 8})
	createBatch(t, e, "b", "b", 20, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "3", "memory", "1Gi") })
	waitBound(t, e, map[string]int{"a": 6, "b": 4})
	if _, n := tenants.Evictions(); n != 2 {
		t.Errorf("%d evictions, want exactly 2", n)
	}
	killed := 0
	for _, tk := range m.CompletedTasks(ourFramework(t, m).ID) {
		if tk.State == "TASK_KILLED" {
			killed++
		}
	}
	if killed != 2 {
		t.Errorf("%d tasks killed on the master, want the 2 victims'", killed)
	}
	if len(runningTasks(m)) != 10 {
		t.Errorf("%d tasks running, want one per bound pod (10)", len(runningTasks(m)))
	}
}

// sparkFramework is another framework on the master (role spark) with a
// task ⟨3 CPU, 6 GiB⟩ on the first agent it is offered, that then declines
// what it is offered (for a second, as a framework with nothing to launch
// does) until stopDeclining.
type sparkFramework struct {
	*harness.RawFramework
	cancel context.CancelFunc
	done   chan struct{}
}

func startSpark(t *testing.T, e *env, m *emulator.Master) *sparkFramework {
	t.Helper()
	spark, err := harness.SubscribeRawFramework(e.ctx, m.SchedulerURL(), "spark", []string{"spark"}, false)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case o := <-spark.Offers:
		if err := spark.Launch(e.ctx, o, "spark-1", 3, 6*1024); err != nil {
			spark.Close()
			t.Fatal(err)
		}
	case <-time.After(settle):
		spark.Close()
		t.Fatal("spark got no offer")
	}
	declining, cancel := context.WithCancel(e.ctx)
	sf := &sparkFramework{RawFramework: spark, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(sf.done)
		for {
			select {
			case <-declining.Done():
				return
			case o := <-spark.Offers:
				_ = spark.Decline(declining, o, 1)
			}
		}
	}()
	return sf
}

// stopDeclining stops declining offers (the caller reads them from now on).
func (sf *sparkFramework) stopDeclining() {
	sf.cancel()
	<-sf.done
}

// stop stops declining and unsubscribes.
func (sf *sparkFramework) stop() {
	sf.stopDeclining()
	sf.Close()
}

// TestMesosFairOtherFrameworkNodeGone: another framework (role spark) holds
// ⟨3 CPU, 6 GiB⟩ of agent-1 ⟨9 CPU, 18 GiB⟩, which our scheduler learns
// from an offer of agent-1 to a first tenant. Then agent-1 and its node
// go away and agent-2 ⟨9 CPU, 18 GiB⟩ comes. What spark held on agent-1
// holds nothing our roles could have any more: tenants a ⟨1, 4 GiB⟩ and b
// ⟨3, 1 GiB⟩ share all of agent-2 — the DRF paper's example: filling by
// dominant share, a at 2/9, b at 1/3, a at 4/9, b at 2/3, a at 2/3 (9
// CPUs, 14 GiB used); a 3, b 2. (Still counting spark's ⟨3, 6⟩ as held,
// the targets would be those of TestMesosFairOtherFramework, a 2 and b 1,
// and b's second pod would wait for good beside idle room.)
func TestMesosFairOtherFrameworkNodeGone(t *testing.T) {
	e := start(t, "")
	m := startMesos(t, e, map[string][3]float64{"agent-1": {9, 18 * 1024}}, emulator.Config{})
	spark := startSpark(t, e, m)
	defer spark.stop()
	e.sched = e.startScheduler(t, mesosProfile(m, "")+fairDRFArgs)
	// A first tenant: our scheduler is offered agent-1 with spark's task
	// on it.
	namespaces(t, e, "first", "a", "b")
	createBatch(t, e, "first", "p", 1, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1", "memory", "1Gi") })
	waitBound(t, e, map[string]int{"first": 1})
	if err := e.cp.Client.CoreV1().Pods("first").DeleteCollection(e.ctx, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	// agent-2 comes, agent-1 goes.
	if err := harness.CreateNodes(e.ctx, e.cp.Client, harness.MakeNode("agent-2").Capacity("cpu", "9", "memory", "18Gi").Obj()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.AddAgent(emulator.Agent{Hostname: "agent-2", Resources: emulator.Resources{
		CPUs: 9, Mem: 18 * 1024, Disk: 100000, Ports: []emulator.PortRange{{Begin: 31000, End: 32000}},
	}}); err != nil {
		t.Fatal(err)
	}
	if err := m.RemoveAgent("agent-1"); err != nil {
		t.Fatal(err)
	}
	if err := e.cp.Client.CoreV1().Nodes().Delete(e.ctx, "agent-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	createBatch(t, e, "a", "a", 20, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1", "memory", "4Gi") })
	createBatch(t, e, "b", "b", 20, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "3", "memory", "1Gi") })
	waitBound(t, e, map[string]int{"a": 3, "b": 2})
}

// TestMesosFairOtherFramework: another framework on the master (role spark)
// runs a task ⟨3 CPU, 6 GiB⟩ on the one agent ⟨9 CPU, 18 GiB⟩ before our
// tenants arrive. What our roles can have is the rest, ⟨6 CPU, 12 GiB⟩, and
// they share it fairly: filling by dominant share (of the whole agent),
// a ⟨1, 4⟩ at 4/18, b ⟨3, 1⟩ at 3/9, a again at 8/18 (5 CPUs, 9 GiB used);
// b's second needs 3 CPUs of the 1 left, a's third 4 GiB of the 3 left: a 2,
// b 1. (Counting the spark task's resources as ours, a would take 3 pods and
// 12 GiB of the offer and leave b nothing.) The spark task is never touched,
// and once our tenants are gone, their roles are suppressed and spark is
// offered what they held.
func TestMesosFairOtherFramework(t *testing.T) {
	e := start(t, "")
	m := startMesos(t, e, map[string][3]float64{"agent-1": {9, 18 * 1024}}, emulator.Config{})
	sf := startSpark(t, e, m)
	spark := sf.RawFramework
	defer sf.Close()
	namespaces(t, e, "a", "b")
	createBatch(t, e, "a", "a", 20, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1", "memory", "4Gi") })
	createBatch(t, e, "b", "b", 20, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "3", "memory", "1Gi") })
	e.sched = e.startScheduler(t, mesosProfile(m, "")+fairDRFArgs)
	waitBound(t, e, map[string]int{"a": 2, "b": 1})
	sf.stopDeclining()
	sparkRunning := func() bool {
		for _, f := range m.Frameworks() {
			for _, tk := range f.Tasks {
				if tk.ID == "spark-1" {
					return tk.State == "TASK_RUNNING" || tk.State == "TASK_STARTING"
				}
			}
		}
		return false
	}
	if !sparkRunning() {
		t.Fatal("the other framework's task is not running")
	}
	// Our tenants leave; spark is offered what they held.
	for _, ns := range []string{"a", "b"} {
		if err := e.cp.Client.CoreV1().Pods(ns).DeleteCollection(e.ctx, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}, metav1.ListOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.After(settle)
	for {
		select {
		case o := <-spark.Offers:
			if o.Scalars["cpus"] >= 6 && o.Scalars["mem"] >= 12*1024 {
				if !sparkRunning() {
					t.Error("the other framework's task was stopped")
				}
				return
			}
			_ = spark.Decline(e.ctx, o, 0)
		case <-deadline:
			t.Fatal("spark was never offered the room our tenants left")
		}
	}
}
