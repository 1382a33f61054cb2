package integration

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	emulator "github.com/kube-mesos/kube-mesos-scheduler/internal/mesosemulator"
	"github.com/kube-mesos/kube-mesos-scheduler/test/harness"
)

var (
	campaignLaunches = flag.Int("campaign.launches", 500, "pods the fault campaign launches (bound through Mesos)")
	campaignSeed     = flag.Uint64("campaign.seed", 1, "seed of the fault campaign")
)

// fault kinds of the campaign.
const (
	faultRescind   = "rescind-all"
	faultDrop      = "drop-streams"
	faultRemove    = "remove-agent"
	faultLeader    = "leader-switch"
	faultRestart   = "scheduler-restart"
	faultPartition = "partition-agent"
)

var faultKinds = []string{faultRescind, faultDrop, faultRemove, faultLeader, faultRestart, faultPartition}

// campaign is the state of one fault campaign.
type campaign struct {
	t      *testing.T
	e      *env
	rng    *rand.Rand
	config string
	hosts  []string
	agent  emulator.Resources

	mu      sync.Mutex
	leader  *emulator.Master
	standby *emulator.Master

	created   map[string]string // pod UID -> namespace/name
	deleted   map[string]bool   // deleted by the campaign (churn)
	launched  map[string]bool   // pods seen bound
	faults    map[string]int
	preempted map[string]bool // pods removed by DRF's fair-share preemption
	removed   map[string]bool // hosts whose agent was removed this round
	parted    map[string]bool // hosts whose agent was partitioned this round
	converged []time.Duration
	violation []string
}

// TestMesosFaultCampaign runs a seeded, bounded fault campaign in Mesos
// mode: rounds of pod creation and churn across three roles, each with
// random faults — rescinds of every offer, dropped streams, agent removals
// (the agent comes back empty), leader switches between two masters found
// through a real ZooKeeper, scheduler restarts, agent partitions — until
// -campaign.launches pods have been bound through Mesos. Invariants are
// checked throughout (every 100 ms) and after every round:
//
//   - no pod is bound on resources not accepted: every bound pod has a task
//     on its node's agent holding its requests (after each round), and no
//     node holds bound pods asking more than it has (throughout);
//   - no two pods on the same offered resources: no agent's tasks hold more
//     than the agent has (throughout), and task IDs are unique;
//   - no orphan task: every task belongs to a live pod bound to its node;
//   - no lost pod: every pod the campaign did not delete is bound at the end
//     of every round, or was removed by a policy with an event saying why
//     (its agent was removed: MesosTaskGone; its task could not be
//     relaunched: MesosTaskMissing; DRF's fair-share preemption made room
//     for a role below its share: Preempted — the roles compete for six
//     agents, and faults and churn keep shifting the shares).
//
// Figures go to the log; docs/RELIABILITY.md records them.
func TestMesosFaultCampaign(t *testing.T) {
	e := start(t, "")
	url := metricsURL(t)
	zk, _, err := harness.StartZooKeeper(t)
	if err != nil {
		t.Fatal(err)
	}
	c := &campaign{
		t: t, e: e, rng: rand.New(rand.NewPCG(*campaignSeed, 0x6b6d73)),
		agent:   emulator.Resources{CPUs: 8, Mem: 16384, Disk: 100000, Ports: []emulator.PortRange{{Begin: 31000, End: 32000}}},
		created: map[string]string{}, deleted: map[string]bool{}, launched: map[string]bool{}, faults: map[string]int{}, preempted: map[string]bool{},
	}
	agents := map[string][3]float64{}
	for i := 0; i < 6; i++ {
		h := fmt.Sprintf("c%d", i)
		c.hosts = append(c.hosts, h)
		agents[h] = [3]float64{c.agent.CPUs, c.agent.Mem, 0}
	}
	// Leaders fail over with their ZooKeeper entry gone at once: the
	// campaign is about faults, not the 10 s election a real master's
	// session timeout adds (TestMesosHAZooKeeper covers that).
	c.leader = startMesos(t, e, agents, emulator.Config{ZKSessionTimeout: -1})
	c.standby, err = emulator.Start(emulator.Config{Leader: emulator.Bool(false), AllocationInterval: 100 * time.Millisecond, ZKSessionTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.standby.Close)
	for _, m := range []*emulator.Master{c.leader, c.standby} {
		if _, err := m.RegisterInZooKeeper([]string{zk}, "/mesos"); err != nil {
			t.Fatal(err)
		}
	}
	namespaces(t, e, "camp-a", "camp-b", "camp-c")
	c.config = mesosArgs("zk://"+zk+"/mesos", "kms-campaign", "            orphanPodPolicy: Relaunch\n            taskGonePolicy: Delete\n")
	e.sched = e.startScheduler(t, c.config)

	stop := make(chan struct{})
	watching := make(chan struct{})
	go c.watch(stop, watching)
	defer func() { close(stop); <-watching }()

	started := time.Now()
	for round := 0; len(c.launched) < *campaignLaunches; round++ {
		if round > 4*(*campaignLaunches) {
			t.Fatalf("only %d of %d launches after %d rounds", len(c.launched), *campaignLaunches, round)
		}
		c.round(round)
		if len(c.violation) > 0 {
			t.Fatalf("round %d: invariant violated: %s", round, strings.Join(c.violation, "; "))
		}
	}
	relaunched, _ := harness.ScrapeValue(url, "kube_mesos_mesos_tasks_relaunched_total")
	removed, _ := harness.ScrapeValue(url, `kube_mesos_mesos_pods_removed_total{cause="task_gone"}`)
	orphans, _ := harness.ScrapeValue(url, `kube_mesos_mesos_pods_removed_total{cause="orphan"}`)
	sort.Slice(c.converged, func(i, j int) bool { return c.converged[i] < c.converged[j] })
	var kinds []string
	total := 0
	for _, k := range faultKinds {
		kinds = append(kinds, fmt.Sprintf("%s=%d", k, c.faults[k]))
		total += c.faults[k]
	}
	t.Logf("campaign seed=%d: %d pods launched, %d created, %d deleted by churn, in %d rounds and %v; %d faults (%s); "+
		"tasks relaunched %v, pods removed by policy: task_gone %v, orphan %v, preempted (DRF) %d; convergence after a round: median %v, max %v; violations 0",
		*campaignSeed, len(c.launched), len(c.created), len(c.deleted), len(c.converged), time.Since(started).Round(time.Second), total,
		strings.Join(kinds, " "), relaunched, removed, orphans, len(c.preempted),
		c.converged[len(c.converged)/2].Round(10*time.Millisecond), c.converged[len(c.converged)-1].Round(10*time.Millisecond))
}

// round creates pods, injects faults, churns, and waits until the
// invariants hold again.
func (c *campaign) round(n int) {
	t, e := c.t, c.e
	nsList := []string{"camp-a", "camp-b", "camp-c"}
	var pods []*v1.Pod
	for i := 0; i < 10+c.rng.IntN(11); i++ {
		cpu := []string{"250m", "500m", "1"}[c.rng.IntN(3)]
		mem := []string{"128Mi", "512Mi", "1Gi"}[c.rng.IntN(3)]
		pods = append(pods, harness.MakePod(nsList[c.rng.IntN(3)], fmt.Sprintf("r%03d-%02d", n, i)).Req("cpu", cpu, "memory", mem).Obj())
	}
	for _, p := range pods {
		created, err := e.cp.Client.CoreV1().Pods(p.Namespace).Create(e.ctx, p, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c.mu.Lock()
		c.created[string(created.UID)] = created.Namespace + "/" + created.Name
		c.mu.Unlock()
	}
	var partitioned []string
	c.removed, c.parted = map[string]bool{}, map[string]bool{}
	for f := 0; f < 1+c.rng.IntN(2); f++ {
		if h := c.fault(faultKinds[c.rng.IntN(len(faultKinds))]); h != "" {
			partitioned = append(partitioned, h)
		}
	}
	// Churn: delete about a third of the bound pods.
	bound := c.boundPods()
	c.rng.Shuffle(len(bound), func(i, j int) { bound[i], bound[j] = bound[j], bound[i] })
	var churned []string
	for _, p := range bound[:len(bound)/3] {
		c.mu.Lock()
		c.deleted[string(p.UID)] = true
		c.mu.Unlock()
		if err := harness.DeletePod(e.ctx, e.cp.Client, p.Namespace, p.Name); err != nil {
			t.Fatal(err)
		}
		churned = append(churned, p.Namespace+"/"+p.Name)
	}
	t.Logf("round %d churn deleted %d pod(s): %v", n, len(churned), churned)
	for _, h := range partitioned {
		if c.removed[h] {
			continue // removed after its partition: it came back as a new agent
		}
		if err := c.current().HealAgent(h); err != nil {
			t.Fatal(err)
		}
	}
	began := time.Now()
	var last error
	if err := harness.Poll(e.ctx, 3*settle, func(context.Context) (bool, error) {
		// The test's context, not the poll's: a check cut short by the
		// poll's deadline would hide the reason the round is stuck.
		last = c.settled(e.ctx)
		return last == nil, nil
	}); err != nil {
		t.Fatalf("round %d (faults so far %v) did not converge: %v\n%s", n, c.faults, last, dumpGoroutines(t))
	}
	c.converged = append(c.converged, time.Since(began))
}

// fault injects one fault; it returns the host of a partitioned agent.
func (c *campaign) fault(kind string) string {
	t, e := c.t, c.e
	c.faults[kind]++
	t.Logf("fault: %s", kind)
	m := c.current()
	host := c.hosts[c.rng.IntN(len(c.hosts))]
	switch kind {
	case faultRescind:
		m.RescindAll()
	case faultDrop:
		m.DropStreams()
	case faultRemove:
		c.removed[host] = true
		if err := m.RemoveAgent(host); err != nil {
			t.Fatal(err)
		}
		if _, err := m.AddAgent(emulator.Agent{Hostname: host, Resources: c.agent}); err != nil {
			t.Fatal(err)
		}
	case faultLeader:
		c.mu.Lock()
		old, next := c.leader, c.standby
		c.mu.Unlock()
		if err := next.TakeOver(old); err != nil {
			t.Fatal(err)
		}
		c.mu.Lock()
		c.leader, c.standby = next, old
		c.mu.Unlock()
	case faultRestart:
		if err := e.sched.Stop(); err != nil {
			t.Fatal(err)
		}
		e.sched = e.startScheduler(t, c.config)
	case faultPartition:
		if c.parted[host] || c.removed[host] {
			return "" // one partition per agent and round
		}
		if err := m.PartitionAgent(host); err != nil {
			t.Fatal(err)
		}
		c.parted[host] = true
		return host
	}
	return ""
}

func (c *campaign) current() *emulator.Master {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leader
}

// boundPods lists the bound, live pods of the campaign.
func (c *campaign) boundPods() []v1.Pod {
	var out []v1.Pod
	for _, ns := range []string{"camp-a", "camp-b", "camp-c"} {
		list, err := c.e.cp.Client.CoreV1().Pods(ns).List(c.e.ctx, metav1.ListOptions{})
		if err != nil {
			c.t.Fatal(err)
		}
		for _, p := range list.Items {
			if p.Spec.NodeName != "" && p.DeletionTimestamp == nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// settled checks the end-of-round invariants: every live pod is bound and
// tasks match pods one to one; every pod gone without the campaign deleting
// it was removed by a policy with an event.
func (c *campaign) settled(ctx context.Context) error {
	live := map[string]bool{}
	for _, ns := range []string{"camp-a", "camp-b", "camp-c"} {
		list, err := c.e.cp.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, p := range list.Items {
			live[string(p.UID)] = true
			if p.Spec.NodeName == "" {
				return fmt.Errorf("pod %s/%s is not bound", p.Namespace, p.Name)
			}
		}
	}
	if err := tasksMatchPods(ctx, c.e, c.current(), "kms-campaign", "camp-a", "camp-b", "camp-c"); err != nil {
		return err
	}
	c.mu.Lock()
	var gone []string
	for uid, name := range c.created {
		if !live[uid] && !c.deleted[uid] {
			gone = append(gone, name)
		}
	}
	c.mu.Unlock()
	for _, name := range gone {
		ns, pod, _ := strings.Cut(name, "/")
		if evs, ok := c.removedByPolicy(ctx, ns, pod); !ok {
			c.addViolation(fmt.Sprintf("lost pod %s: gone with no MesosTaskGone, MesosTaskMissing or Preempted event (its events: %s)", name, evs))
		}
	}
	return nil
}

// removedByPolicy reports whether a pod's events say a policy removed it,
// and lists the pod's events.
func (c *campaign) removedByPolicy(ctx context.Context, ns, pod string) (string, bool) {
	evs, err := c.e.cp.Client.EventsV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err.Error(), false
	}
	var seen []string
	for _, ev := range evs.Items {
		if ev.Regarding.Name != pod {
			continue
		}
		switch ev.Reason {
		case "MesosTaskGone", "MesosTaskMissing":
			return "", true
		case "Preempted":
			c.mu.Lock()
			c.preempted[ns+"/"+pod] = true
			c.mu.Unlock()
			return "", true
		}
		seen = append(seen, ev.Reason+": "+ev.Note)
	}
	return strings.Join(seen, "; "), false
}

func (c *campaign) addViolation(v string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, old := range c.violation {
		if old == v {
			return
		}
	}
	c.violation = append(c.violation, v)
}

// watch checks the invariants that must hold at every instant.
func (c *campaign) watch(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if err := c.instant(); err != nil {
			c.addViolation(err.Error())
		}
	}
}

// instant checks that no agent's tasks and no node's bound pods hold more
// than the agent or node has, and records the pods seen bound.
func (c *campaign) instant() error {
	m := c.current()
	used := map[string]emulator.Resources{}
	ids := map[string]bool{}
	for _, tk := range liveTasks(m) {
		if ids[tk.ID] {
			return fmt.Errorf("task %s is active twice", tk.ID)
		}
		ids[tk.ID] = true
		u := used[tk.SlaveID]
		u.CPUs += tk.Resources.CPUs
		u.Mem += tk.Resources.Mem
		used[tk.SlaveID] = u
	}
	var errs []error
	for _, a := range m.Agents() {
		if u := used[a.ID]; u.CPUs > a.Resources.CPUs+1e-9 || u.Mem > a.Resources.Mem+1e-9 {
			errs = append(errs, fmt.Errorf("agent %s double-booked: tasks hold %v cpus, %v MB of %v, %v", a.Hostname, u.CPUs, u.Mem, a.Resources.CPUs, a.Resources.Mem))
		}
	}
	ctx := c.e.ctx
	perNode := map[string]*resource.Quantity{}
	for _, ns := range []string{"camp-a", "camp-b", "camp-c"} {
		list, err := c.e.cp.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return nil // the control plane is shutting down
		}
		for _, p := range list.Items {
			if p.Spec.NodeName == "" {
				continue
			}
			c.mu.Lock()
			c.launched[string(p.UID)] = true
			c.mu.Unlock()
			q := perNode[p.Spec.NodeName]
			if q == nil {
				q = resource.NewMilliQuantity(0, resource.DecimalSI)
				perNode[p.Spec.NodeName] = q
			}
			q.Add(*p.Spec.Containers[0].Resources.Requests.Cpu())
		}
	}
	for node, q := range perNode {
		if q.MilliValue() > int64(c.agent.CPUs*1000) {
			errs = append(errs, fmt.Errorf("node %s holds bound pods asking %s cpus of %v", node, q, c.agent.CPUs))
		}
	}
	return errors.Join(errs...)
}

// dumpGoroutines writes every goroutine's stack to a file that outlives
// the test and says where: a round that never converges is a stuck
// scheduler as often as a wrong one.
func dumpGoroutines(t *testing.T) string {
	f, err := os.CreateTemp("", "kms-campaign-goroutines-*.txt")
	if err != nil {
		return fmt.Sprintf("(no goroutine dump: %v)", err)
	}
	defer f.Close()
	if err := pprof.Lookup("goroutine").WriteTo(f, 2); err != nil {
		return fmt.Sprintf("(goroutine dump failed: %v)", err)
	}
	return "goroutines: " + f.Name()
}
