package integration

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	emulator "github.com/kube-mesos/kube-mesos-scheduler/internal/mesosemulator"
	"github.com/kube-mesos/kube-mesos-scheduler/test/harness"
)

// Several offer sources at once (docs/federation.md): Mesos masters, each
// serving the nodes its nodeSelector picks, and the embedded allocator for
// the nodes none picks, with one DRF across all of them.

// clusterLabel is the node label the tests' masters select their agents'
// nodes by.
const clusterLabel = "mesos.example.com/cluster"

// federatedNodes creates nodes of ⟨4 CPU, 8 GiB⟩: those of each master
// carry clusterLabel=NAME, the plain ones no label.
func federatedNodes(t *testing.T, e *env, byCluster map[string][]string, plain ...string) {
	t.Helper()
	var nodes []*v1.Node
	for cluster, names := range byCluster {
		for _, n := range names {
			nodes = append(nodes, harness.MakeNode(n).Capacity("cpu", "4", "memory", "8Gi").Label(clusterLabel, cluster).Obj())
		}
	}
	for _, n := range plain {
		nodes = append(nodes, harness.MakeNode(n).Capacity("cpu", "4", "memory", "8Gi").Obj())
	}
	if err := harness.CreateNodes(e.ctx, e.cp.Client, nodes...); err != nil {
		t.Fatal(err)
	}
}

// startMaster starts an emulated master with ⟨4 CPU, 8 GiB⟩ agents on the
// hosts (no nodes are created).
func startMaster(t *testing.T, cfg emulator.Config, hosts ...string) *emulator.Master {
	t.Helper()
	for _, h := range hosts {
		cfg.Agents = append(cfg.Agents, emulator.Agent{Hostname: h, Resources: emulator.Resources{
			CPUs: 4, Mem: 8192, Disk: 100000, Ports: []emulator.PortRange{{Begin: 31000, End: 32000}},
		}})
	}
	return startEmulator(t, cfg)
}

// federationProfile is our profile with one Mesos source per named master
// URL (selecting clusterLabel=NAME, framework ID in default/kms-NAME) and
// the embedded allocator for the other nodes.
func federationProfile(masters map[string]string) string {
	names := make([]string, 0, len(masters))
	for n := range masters {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, `          - name: %s
            type: Mesos
            nodeSelector:
              %s: %s
            mesos:
              master: %s
              frameworkIDConfigMap: default/kms-%s
`, n, clusterLabel, n, masters[n], n)
	}
	return withArgs(profile, `      - name: MesosOffers
        args:
          refuseSeconds: 1
          sources:
`+b.String()+`          - name: plain
            type: Embedded
`+fairDRFArgs)
}

// ourFrameworkID is the ID of our framework on a master.
func ourFrameworkID(t *testing.T, m *emulator.Master) string {
	t.Helper()
	var id string
	if err := harness.Poll(context.Background(), settle, func(context.Context) (bool, error) {
		f, ok := frameworkNamed(m, "kube-mesos-scheduler")
		id = f.ID
		return ok, nil
	}); err != nil {
		t.Fatalf("our framework never registered on %s", m.URL())
	}
	return id
}

// checkTasksBySource checks, for every bound pod of the namespaces, that
// the master serving its node (nodeMaster; none for the embedded
// allocator's nodes) runs exactly one task for it, on the node's agent,
// and no other master runs one; and that each master runs no task of ours
// beyond those: no double booking, no orphan.
func checkTasksBySource(t *testing.T, e *env, nss []string, masters map[string]*emulator.Master, nodeMaster map[string]string) {
	t.Helper()
	tasks := map[string]map[string]emulator.StateTask{} // master -> task ID -> task
	for name, m := range masters {
		tasks[name] = map[string]emulator.StateTask{}
		for _, tk := range liveTasks(m) {
			if _, dup := tasks[name][tk.ID]; dup {
				t.Errorf("task %s twice on %s", tk.ID, name)
			}
			tasks[name][tk.ID] = tk
		}
	}
	used := map[string]int{}
	for _, ns := range nss {
		pods, err := e.cp.Client.CoreV1().Pods(ns).List(e.ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pods.Items {
			if p.Spec.NodeName == "" || p.DeletionTimestamp != nil {
				continue
			}
			want := nodeMaster[p.Spec.NodeName]
			for name, m := range masters {
				tk, has := tasks[name][string(p.UID)]
				switch {
				case name == want && !has:
					t.Errorf("pod %s/%s on %s (master %s): no task there", ns, p.Name, p.Spec.NodeName, name)
				case name == want && tk.SlaveID != m.AgentID(p.Spec.NodeName):
					t.Errorf("pod %s/%s on %s: its task is on agent %s, the node's is %s", ns, p.Name, p.Spec.NodeName, tk.SlaveID, m.AgentID(p.Spec.NodeName))
				case name != want && has:
					t.Errorf("pod %s/%s on %s (source %q): master %s runs a task for it too", ns, p.Name, p.Spec.NodeName, want, name)
				}
				if has {
					used[name]++
				}
			}
		}
	}
	for name := range masters {
		if n := len(tasks[name]); n != used[name] {
			t.Errorf("master %s runs %d tasks of ours, %d of them for bound pods", name, n, used[name])
		}
	}
}

// podsPerNode counts the bound pods of the namespaces per node.
func podsPerNode(t *testing.T, e *env, nss ...string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, ns := range nss {
		for _, node := range boundNodes(t, e, ns) {
			out[node]++
		}
	}
	return out
}

// TestFederationDRFAcrossSources: two masters (dc1: a1, a2; dc2: b1, b2)
// and two plain nodes (p1, p2) for the embedded allocator, every node ⟨4
// CPU, 8 GiB⟩: ⟨24 CPU, 48 GiB⟩ in all. Namespaces x, y, z of weights 1,
// 2, 3, each with 20 pods of ⟨1 CPU, 1 GiB⟩. CPU is every role's dominant
// resource (1/24 per pod against 1/48); weighted DRF levels n_x/1 = n_y/2
// = n_z/3 over the union, and the CPUs run out at n_x + n_y + n_z = 24:
// x 4, y 8, z 12. Every node then holds 4 pods (24 one-CPU pods on six
// 4-CPU nodes), each pod on a master's node has one task there and none
// elsewhere.
func TestFederationDRFAcrossSources(t *testing.T) {
	e := start(t, "")
	federatedNodes(t, e, map[string][]string{"dc1": {"a1", "a2"}, "dc2": {"b1", "b2"}}, "p1", "p2")
	dc1 := startMaster(t, emulator.Config{}, "a1", "a2")
	dc2 := startMaster(t, emulator.Config{}, "b1", "b2")
	for ns, w := range map[string]string{"x": "1", "y": "2", "z": "3"} {
		if err := harness.CreateNamespace(e.ctx, e.cp.Client, ns, nil, map[string]string{"kube-mesos.io/weight": w}); err != nil {
			t.Fatal(err)
		}
		createPods(t, e, ns, "p", 20, "1", "1Gi")
	}
	url := metricsURL(t)
	evicted := func() float64 {
		v, err := harness.ScrapeValue(url, `kube_mesos_preemption_evictions_total{reason="fair-share"}`)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := evicted()
	e.sched = e.startScheduler(t, federationProfile(map[string]string{"dc1": dc1.URL(), "dc2": dc2.URL()}))
	waitBound(t, e, map[string]int{"x": 4, "y": 8, "z": 12})
	// The pods arrived together: nobody holds more than its share at any
	// time, so nobody is evicted. (A master's whole-agent offer to one role
	// is not room lost to the others: counting it so made a role waiting
	// for its turn look unplaceable, drop out of the fair targets, and
	// evict its way back in later.)
	if n := evicted() - before; n != 0 {
		t.Errorf("%v pods evicted for fair share, want none", n)
	}
	perNode := podsPerNode(t, e, "x", "y", "z")
	for _, n := range []string{"a1", "a2", "b1", "b2", "p1", "p2"} {
		if perNode[n] != 4 {
			t.Errorf("node %s holds %d pods, want 4 (pods per node: %v)", n, perNode[n], perNode)
		}
	}
	checkTasksBySource(t, e, []string{"x", "y", "z"}, map[string]*emulator.Master{"dc1": dc1, "dc2": dc2},
		map[string]string{"a1": "dc1", "a2": "dc1", "b1": "dc2", "b2": "dc2"})
	for _, f := range []*emulator.Master{dc1, dc2} {
		if n := f.CallStats().Handled["ACCEPT"]; n == 0 {
			t.Errorf("no ACCEPT on %s", f.URL())
		}
	}
	for _, src := range []string{"dc1", "dc2", "plain"} {
		for _, event := range []string{"made", "accepted"} {
			v, err := harness.ScrapeValue(url, fmt.Sprintf(`kube_mesos_source_offers_total{event=%q,source=%q}`, event, src))
			if err != nil || v == 0 {
				t.Errorf("source %s: kube_mesos_source_offers_total{event=%q} = %v, %v; want some", src, event, v, err)
			}
		}
	}
}

// TestFederationMasterDown: dc1 (a1, a2), dc2 (b1, b2) behind two masters
// of which the first leads, and plain nodes p1, p2; 24 pods of ⟨1 CPU, 1
// GiB⟩ fill the six 4-CPU nodes. dc2's leader dies: its pods stay bound.
// Two pods on b1 and two on p1 are deleted and four created: p1's room
// takes two (the embedded allocator keeps placing), b1's room is dc2's and
// nobody offers it, so two wait with a reason naming the source. When
// dc2's standby takes over (with the agents and their tasks, as a Mesos
// failover does; the deleted pods' tasks are killed through it, slowly),
// the two bind on b1 through it: every pod on dc2's nodes
// then has exactly one task on the new leader, none was evicted, and the
// deleted pods' tasks are gone.
func TestFederationMasterDown(t *testing.T) {
	e := start(t, "")
	federatedNodes(t, e, map[string][]string{"dc1": {"a1", "a2"}, "dc2": {"b1", "b2"}}, "p1", "p2")
	dc1 := startMaster(t, emulator.Config{}, "a1", "a2")
	dc2 := startMaster(t, emulator.Config{}, "b1", "b2")
	standby := startMaster(t, emulator.Config{Leader: emulator.Bool(false), LeaderHostPort: dc2.HostPort()})
	namespaces(t, e, "f")
	createPods(t, e, "f", "p", 24, "1", "1Gi")
	e.sched = e.startScheduler(t, federationProfile(map[string]string{"dc1": dc1.URL(), "dc2": dc2.URL() + "," + standby.HostPort()}))
	waitAllBound(t, e, "f", 24)
	before := map[string]types.UID{}
	pods, err := e.cp.Client.CoreV1().Pods("f").List(e.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		before[p.Name] = p.UID
	}

	dc2.Close() // the leader dies; the standby still names it leader
	var gone []string
	for _, node := range []string{"b1", "p1"} {
		n := 0
		for _, p := range pods.Items {
			if p.Spec.NodeName == node && n < 2 {
				gone = append(gone, p.Name)
				n++
			}
		}
	}
	for _, name := range gone {
		if err := e.cp.Client.CoreV1().Pods("f").Delete(e.ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	createPods(t, e, "f", "q", 4, "1", "1Gi")
	// Two bind on p1; two wait for dc2, saying so.
	var waiting []string
	if err := harness.Poll(e.ctx, settle, func(ctx context.Context) (bool, error) {
		list, err := e.cp.Client.CoreV1().Pods("f").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		bound, named := 0, 0
		waiting = waiting[:0]
		for _, p := range list.Items {
			if !strings.HasPrefix(p.Name, "q-") {
				continue
			}
			if p.Spec.NodeName != "" {
				if p.Spec.NodeName != "p1" {
					return false, fmt.Errorf("pod %s bound to %s while dc2 is down, want p1", p.Name, p.Spec.NodeName)
				}
				bound++
				continue
			}
			msg := harness.Unschedulable(&p)
			waiting = append(waiting, msg)
			if strings.Contains(msg, "source dc2") {
				named++
			}
		}
		return bound == 2 && named == 2, nil
	}); err != nil {
		t.Fatalf("while dc2 is down: want 2 new pods on p1 and 2 waiting with a reason naming dc2 (waiting: %q): %v", waiting, err)
	}
	t.Logf("reasons while dc2 is down: %q", waiting)

	// The standby takes over with the deleted pods' tasks still running
	// (their KILLs failed while dc2 was down), and holds the scheduler's
	// new KILLs for 3 s: its first offer on b1 (memory, no CPU) must not
	// make those tasks look like another framework's. Counted so, role f's
	// fair target would drop to 22 of the 24 CPUs, the two waiting pods
	// would be beyond it, the role suppressed, and once the kills freed
	// b1 no offer would come to say so.
	releaseKills := standby.HoldCalls("KILL")
	defer releaseKills()
	if err := standby.TakeOver(dc2); err != nil {
		t.Fatal(err)
	}
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) { return standby.HeldCalls() > 0, nil }); err != nil {
		t.Fatalf("the deleted pods' tasks were never killed through the standby: %v", err)
	}
	time.Sleep(3 * time.Second)
	releaseKills()
	waitAllBound(t, e, "f", 24)
	perNode := podsPerNode(t, e, "f")
	if perNode["b1"] != 4 {
		t.Errorf("b1 holds %d pods after dc2 came back, want 4: %v", perNode["b1"], perNode)
	}
	after := map[string]types.UID{}
	pods, err = e.cp.Client.CoreV1().Pods("f").List(e.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		after[p.Name] = p.UID
	}
	for name, uid := range before {
		if deleted := slices.Contains(gone, name); !deleted && after[name] != uid {
			t.Errorf("pod %s was evicted or replaced (uid %s -> %q)", name, uid, after[name])
		}
	}
	// The deleted pods' tasks on b1 were killed once dc2 was back: its
	// live tasks are exactly the bound pods'.
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) {
		return len(liveTasks(standby)) == perNode["b1"]+perNode["b2"], nil
	}); err != nil {
		t.Errorf("dc2's new leader runs %d tasks, its nodes hold %d pods", len(liveTasks(standby)), perNode["b1"]+perNode["b2"])
	}
	checkTasksBySource(t, e, []string{"f"}, map[string]*emulator.Master{"dc1": dc1, "dc2": standby},
		map[string]string{"a1": "dc1", "a2": "dc1", "b1": "dc2", "b2": "dc2"})
	if id := ourFrameworkID(t, standby); id == "" {
		t.Error("no framework on dc2's new leader")
	}
	// The source names its new leader (the gauges are refreshed every 5 s).
	url := metricsURL(t)
	series := fmt.Sprintf(`kube_mesos_source_leader_info{leader=%q,source="dc2"}`, standby.HostPort())
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) {
		v, err := harness.ScrapeValue(url, series)
		return err == nil && v == 1, nil
	}); err != nil {
		lines, _ := harness.ScrapeLines(url, "kube_mesos_source_leader_info")
		t.Errorf("no %s = 1; have %q", series, lines)
	}
}

// TestFederationNodeMigratesToEmbedded: migrating a node off Mesos. dc1
// serves a1 and a2, the embedded allocator p1; 12 pods of ⟨1 CPU, 1 GiB⟩
// fill the three 4-CPU nodes. The operator takes a2 out of dc1 (removes
// its cluster label), then its agent is removed from the master: the
// tasks of a2's pods end (TASK_GONE), yet the pods stay — the node is the
// embedded allocator's now and Mesos no longer holds anything there. Two
// pods on a2 are deleted and two created: they bind on a2 (the only room),
// through the embedded allocator, with no task on the master.
func TestFederationNodeMigratesToEmbedded(t *testing.T) {
	e := start(t, "")
	federatedNodes(t, e, map[string][]string{"dc1": {"a1", "a2"}}, "p1")
	dc1 := startMaster(t, emulator.Config{}, "a1", "a2")
	namespaces(t, e, "m")
	createPods(t, e, "m", "p", 12, "1", "1Gi")
	e.sched = e.startScheduler(t, federationProfile(map[string]string{"dc1": dc1.URL()}))
	waitAllBound(t, e, "m", 12)
	onA2 := map[string]types.UID{}
	pods, err := e.cp.Client.CoreV1().Pods("m").List(e.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.Spec.NodeName == "a2" {
			onA2[p.Name] = p.UID
		}
	}
	if len(onA2) != 4 {
		t.Fatalf("a2 holds %d pods, want 4", len(onA2))
	}
	checkTasksBySource(t, e, []string{"m"}, map[string]*emulator.Master{"dc1": dc1}, map[string]string{"a1": "dc1", "a2": "dc1"})

	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := e.cp.Client.CoreV1().Nodes().Get(e.ctx, "a2", metav1.GetOptions{})
		if err != nil {
			return err
		}
		delete(n.Labels, clusterLabel)
		_, err = e.cp.Client.CoreV1().Nodes().Update(e.ctx, n, metav1.UpdateOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // the scheduler's informer sees the label gone
	if err := dc1.RemoveAgent("a2"); err != nil {
		t.Fatal(err)
	}
	// The master ends the tasks of a2 (TASK_GONE); the pods stay.
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) {
		for _, tk := range liveTasks(dc1) {
			for _, uid := range onA2 {
				if tk.ID == string(uid) {
					return false, nil
				}
			}
		}
		return true, nil
	}); err != nil {
		t.Fatalf("a2's tasks still live on the master: %v", err)
	}
	time.Sleep(3 * time.Second) // time for a wrong eviction to show
	var deleted []string
	for name, uid := range onA2 {
		p, err := e.cp.Client.CoreV1().Pods("m").Get(e.ctx, name, metav1.GetOptions{})
		if err != nil || p.UID != uid || p.DeletionTimestamp != nil || p.Spec.NodeName != "a2" {
			t.Errorf("pod %s on a2 was lost when its node left Mesos: %v", name, err)
		}
		if len(deleted) < 2 {
			deleted = append(deleted, name)
		}
	}
	for _, name := range deleted {
		if err := e.cp.Client.CoreV1().Pods("m").Delete(e.ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	createPods(t, e, "m", "q", 2, "1", "1Gi")
	waitAllBound(t, e, "m", 12)
	for _, name := range []string{"q-00", "q-01"} {
		p, err := e.cp.Client.CoreV1().Pods("m").Get(e.ctx, name, metav1.GetOptions{})
		if err != nil || p.Spec.NodeName != "a2" {
			t.Errorf("pod %s on %q, want a2 (the only room): %v", name, p.Spec.NodeName, err)
		}
	}
	checkTasksBySource(t, e, []string{"m"}, map[string]*emulator.Master{"dc1": dc1}, map[string]string{"a1": "dc1"})
}
