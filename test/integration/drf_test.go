package integration

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/test/harness"
)

const settle = 60 * time.Second

// createBatch creates n pods named <prefix>-<i> in a namespace.
func createBatch(t *testing.T, e *env, ns, prefix string, n int, build func(*harness.PodBuilder) *harness.PodBuilder) {
	t.Helper()
	var pods []*v1.Pod
	for i := 0; i < n; i++ {
		pods = append(pods, build(harness.MakePod(ns, fmt.Sprintf("%s-%02d", prefix, i))).Obj())
	}
	if err := harness.CreatePods(e.ctx, e.cp.Client, pods...); err != nil {
		t.Fatal(err)
	}
}

func namespaces(t *testing.T, e *env, names ...string) {
	t.Helper()
	for _, ns := range names {
		if err := harness.CreateNamespace(e.ctx, e.cp.Client, ns, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// dominantShare computes a namespace's dominant share over cpu and memory
// from its bound pods.
func dominantShare(t *testing.T, e *env, ns string, cpu, mem float64) float64 {
	t.Helper()
	list, err := e.cp.Client.CoreV1().Pods(ns).List(e.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var c, m float64
	for _, p := range list.Items {
		if p.Spec.NodeName == "" {
			continue
		}
		r := p.Spec.Containers[0].Resources.Requests
		c += r.Cpu().AsApproximateFloat64()
		m += r.Memory().AsApproximateFloat64()
	}
	return math.Max(c/cpu, m/mem)
}

// paperCluster is the DRF paper's example: one node <9 CPU, 18 GiB>, 20 pods
// of namespace a asking <1 CPU, 4 GiB> and 20 of namespace b asking
// <3 CPU, 1 GiB>, all created at once (all of a first: the worst order for
// a FIFO queue). "At once" means the scheduler sees them all together: it
// starts after they exist. (Pods that arrive one by one while the scheduler
// keeps up are placed in arrival order by any queue; fair-share preemption
// is what rebalances that, see TestDRFPreemptionConverges.)
func paperCluster(t *testing.T, e *env, aAnnotations map[string]string) {
	t.Helper()
	c := e.cp.Client
	if err := harness.CreateNamespace(e.ctx, c, "a", nil, aAnnotations); err != nil {
		t.Fatal(err)
	}
	namespaces(t, e, "b")
	if err := harness.CreateNodes(e.ctx, c, harness.MakeNode("n1").Capacity("cpu", "9", "memory", "18Gi").Obj()); err != nil {
		t.Fatal(err)
	}
	createBatch(t, e, "a", "a", 20, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1", "memory", "4Gi") })
	createBatch(t, e, "b", "b", 20, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "3", "memory", "1Gi") })
}

// TestDRFPaperExample: progressive filling by dominant share gives a 3
// tasks <3 CPU, 12 GiB> and b 2 tasks <6 CPU, 2 GiB>: both at dominant
// share 2/3, and no further task fits (9 CPU used).
func TestDRFPaperExample(t *testing.T) {
	e := start(t, "")
	paperCluster(t, e, nil)
	e.sched = e.startScheduler(t, profile)
	bound, err := harness.Settled(e.ctx, e.cp.Client, settle, "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	if bound["a"] != 3 || bound["b"] != 2 {
		t.Fatalf("bound a=%d b=%d, want a=3 b=2 (DRF paper)", bound["a"], bound["b"])
	}
	for _, ns := range []string{"a", "b"} {
		if s := dominantShare(t, e, ns, 9, 18<<30); math.Abs(s-2.0/3) > 1e-9 {
			t.Errorf("dominant share of %s = %v, want 2/3", ns, s)
		}
	}
}

// TestDRFWeighted: the same cluster with namespace a weighted 3.
//
// Weighted DRF equalises dominant share / weight. A task of a adds
// max(1/9, 4/18) = 2/9 to a's dominant share, 2/27 to its weighted share;
// a task of b adds max(3/9, 1/18) = 1/3 = 9/27. Progressive filling serves
// the lower weighted share: a gets tasks at 0, 2/27, 4/27, 6/27 (its fourth
// task brings it to 8/27) while b sits at 9/27 after its first. a is still
// lower, but a fifth task needs 4 GiB and only 18 - 16 - 1 = 1 GiB is left;
// b's second task needs 3 CPU and only 9 - 4 - 3 = 2 are left. Result:
// a 4, b 1 (a at weighted 8/27, b at 9/27), whichever of the two goes first
// at the initial tie.
func TestDRFWeighted(t *testing.T) {
	e := start(t, "")
	paperCluster(t, e, map[string]string{"kube-mesos.io/weight": "3"})
	e.sched = e.startScheduler(t, profile)
	bound, err := harness.Settled(e.ctx, e.cp.Client, settle, "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	if bound["a"] != 4 || bound["b"] != 1 {
		t.Fatalf("bound a=%d b=%d, want a=4 b=1 (weighted DRF, a weight 3)", bound["a"], bound["b"])
	}
}

// TestDRFHierarchicalRoles: namespaces ml and web map to eng/ml and eng/web
// (label values cannot hold "/": the label says eng.ml, the annotation
// says eng/web), ops to ops. On a 12-CPU node with 1-CPU pods, H-DRF splits 6/6 between
// eng and ops, and eng's 6 between ml and web (flat DRF would give 4/4/4).
func TestDRFHierarchicalRoles(t *testing.T) {
	e := start(t, "")
	c := e.cp.Client
	for _, ns := range []struct {
		name                string
		labels, annotations map[string]string
	}{
		{"ml", map[string]string{"kube-mesos.io/role": "eng.ml"}, nil},
		{"web", nil, map[string]string{"kube-mesos.io/role": "eng/web"}},
		{"ops", nil, nil},
	} {
		if err := harness.CreateNamespace(e.ctx, c, ns.name, ns.labels, ns.annotations); err != nil {
			t.Fatal(err)
		}
	}
	if err := harness.CreateNodes(e.ctx, c, harness.MakeNode("n1").Capacity("cpu", "12", "memory", "100Gi").Obj()); err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"ml", "web", "ops"} {
		createBatch(t, e, ns, ns, 10, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1", "memory", "1Gi") })
	}
	e.sched = e.startScheduler(t, profile)
	bound, err := harness.Settled(e.ctx, c, settle, "ml", "web", "ops")
	if err != nil {
		t.Fatal(err)
	}
	if bound["ml"] != 3 || bound["web"] != 3 || bound["ops"] != 6 {
		t.Fatalf("bound ml=%d web=%d ops=%d, want 3/3/6 (H-DRF)", bound["ml"], bound["web"], bound["ops"])
	}
}

// TestDRFLimit: a role limited to 2 CPU by args gets 2 one-CPU pods; the
// third waits with a reason naming role, resource, use and limit.
func TestDRFLimit(t *testing.T) {
	e := start(t, withArgs(profile, `      - name: DRF
        args:
          roles:
            - name: team-a
              limit:
                cpu: "2"
`))
	namespaces(t, e, "team-a")
	if err := harness.CreateNodes(e.ctx, e.cp.Client, harness.MakeNode("n1").Capacity("cpu", "8", "memory", "8Gi").Obj()); err != nil {
		t.Fatal(err)
	}
	createBatch(t, e, "team-a", "p", 3, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1") })
	bound, err := harness.Settled(e.ctx, e.cp.Client, settle, "team-a")
	if err != nil {
		t.Fatal(err)
	}
	if bound["team-a"] != 2 {
		t.Fatalf("bound %d, want 2 under a 2-CPU limit", bound["team-a"])
	}
	msg := waitingMessage(t, e, "team-a")
	want := `role "team-a" would exceed its limit of cpu: used 2, pod asks 1, limit 2`
	if !strings.Contains(msg, want) {
		t.Errorf("waiting pod says %q, want it to contain %q", msg, want)
	}
}

// waitingMessage returns the PodScheduled=False message of the one unbound pod.
func waitingMessage(t *testing.T, e *env, ns string) string {
	t.Helper()
	list, err := e.cp.Client.CoreV1().Pods(ns).List(e.ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range list.Items {
		if p.Spec.NodeName == "" {
			return harness.Unschedulable(&p)
		}
	}
	t.Fatalf("no waiting pod in %s", ns)
	return ""
}

// TestDRFGuarantee: role g is guaranteed 2 CPU of a 4-CPU node. Role other,
// with no guarantee, asks for 4 CPU first but gets only 2: the rest is
// still guaranteed to g. g's pods then land.
func TestDRFGuarantee(t *testing.T) {
	e := start(t, withArgs(profile, `      - name: DRF
        args:
          roles:
            - name: g
              guarantee:
                cpu: "2"
`))
	namespaces(t, e, "g", "other")
	if err := harness.CreateNodes(e.ctx, e.cp.Client, harness.MakeNode("n1").Capacity("cpu", "4", "memory", "8Gi").Obj()); err != nil {
		t.Fatal(err)
	}
	createBatch(t, e, "other", "o", 4, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1") })
	bound, err := harness.Settled(e.ctx, e.cp.Client, settle, "other")
	if err != nil {
		t.Fatal(err)
	}
	if bound["other"] != 2 {
		t.Fatalf("other got %d CPUs, want 2 (2 of 4 guaranteed to g)", bound["other"])
	}
	if msg := waitingMessage(t, e, "other"); !strings.Contains(msg, "still guaranteed to other roles") {
		t.Errorf("waiting pod says %q", msg)
	}
	createBatch(t, e, "g", "g", 2, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1") })
	bound, err = harness.Settled(e.ctx, e.cp.Client, settle, "g")
	if err != nil {
		t.Fatal(err)
	}
	if bound["g"] != 2 {
		t.Fatalf("g got %d of its guaranteed 2 CPUs", bound["g"])
	}
}

// TestDRFBadRole: a namespace whose role breaks Mesos' rules makes its pods
// wait with a reason and an event naming the namespace and the annotation;
// fixing it lets them run, without a restart.
func TestDRFBadRole(t *testing.T) {
	e := start(t, profile)
	c := e.cp.Client
	if err := harness.CreateNamespace(e.ctx, c, "bad", nil, map[string]string{"kube-mesos.io/role": "-eng"}); err != nil {
		t.Fatal(err)
	}
	if err := harness.CreateNodes(e.ctx, c, harness.MakeNode("n1").Capacity("cpu", "4", "memory", "8Gi").Obj()); err != nil {
		t.Fatal(err)
	}
	createBatch(t, e, "bad", "p", 1, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1") })
	msg, err := harness.WaitForUnschedulable(e.ctx, c, "bad", "p-00", settle)
	if err != nil {
		t.Fatal(err)
	}
	want := `namespace "bad" annotation kube-mesos.io/role="-eng"`
	if !strings.Contains(msg, want) {
		t.Errorf("reason %q does not name %q", msg, want)
	}
	// The fixed reason the docs promise, whichever plugin finds it first
	// (MesosOffers' PreFilter runs before DRF's).
	if !strings.Contains(msg, "pod's namespace maps to an invalid Mesos role: ") {
		t.Errorf("reason %q lacks the fixed reason", msg)
	}
	if err := harness.Poll(e.ctx, settle, func(ctx context.Context) (bool, error) {
		evs, err := c.CoreV1().Events("bad").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		for _, ev := range evs.Items {
			if ev.Reason == "FailedScheduling" && strings.Contains(ev.Message, want) {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Errorf("no FailedScheduling event naming the annotation: %v", err)
	}
	ns, err := c.CoreV1().Namespaces().Get(e.ctx, "bad", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ns.Annotations["kube-mesos.io/role"] = "eng"
	if _, err := c.CoreV1().Namespaces().Update(e.ctx, ns, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := harness.WaitForPodBound(e.ctx, c, "bad", "p-00", settle); err != nil {
		t.Fatalf("after fixing the annotation: %v", err)
	}
}

// TestDRFPreemptionConverges: role early fills a 4-CPU node (6 pods, 4
// bound); role late then asks for 6. Fair-share preemption evicts early's
// pods until both hold 2 CPUs (shares 1/2 each) and then stops: evicting a
// third would put early below late. Requeueing every pod (a node update)
// changes nothing: no preemption ping-pong.
func TestDRFPreemptionConverges(t *testing.T) {
	e := start(t, profile)
	c := e.cp.Client
	namespaces(t, e, "early", "late")
	if err := harness.CreateNodes(e.ctx, c, harness.MakeNode("n1").Capacity("cpu", "4", "memory", "8Gi").Obj()); err != nil {
		t.Fatal(err)
	}
	createBatch(t, e, "early", "e", 6, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1") })
	if bound, err := harness.Settled(e.ctx, c, settle, "early"); err != nil || bound["early"] != 4 {
		t.Fatalf("early bound %v, %v; want 4", bound, err)
	}
	createBatch(t, e, "late", "l", 6, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1") })
	check := func(stage string) {
		t.Helper()
		var bound map[string]int
		err := harness.Poll(e.ctx, settle, func(ctx context.Context) (bool, error) {
			var err error
			if bound, err = harness.Settled(ctx, c, settle, "early", "late"); err != nil {
				return false, err
			}
			return bound["early"] == 2 && bound["late"] == 2, nil
		})
		if err != nil {
			t.Fatalf("%s: bound %v, want early=2 late=2: %v", stage, bound, err)
		}
		left, err := c.CoreV1().Pods("early").List(e.ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(left.Items) != 4 {
			t.Fatalf("%s: %d of early's 6 pods left, want 4 (exactly 2 evicted)", stage, len(left.Items))
		}
	}
	check("after late arrived")
	// Requeue every waiting pod: nothing may move.
	n, err := c.CoreV1().Nodes().Get(e.ctx, "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Labels["requeue"] = "1"
	if _, err := c.CoreV1().Nodes().Update(e.ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	check("after requeueing everything")
}

// TestDRFMetrics: the role gauges are on the scheduler's /metrics.
func TestDRFMetrics(t *testing.T) {
	e := start(t, withArgs(profile, `      - name: DRF
        args:
          roles:
            - name: metrics-a
              weight: "2"
              limit:
                cpu: "3"
`))
	url, stop, err := harness.ServeMetrics()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	namespaces(t, e, "metrics-a")
	if err := harness.CreateNodes(e.ctx, e.cp.Client, harness.MakeNode("n1").Capacity("cpu", "4", "memory", "8Gi").Obj()); err != nil {
		t.Fatal(err)
	}
	createBatch(t, e, "metrics-a", "p", 1, func(b *harness.PodBuilder) *harness.PodBuilder {
		return b.Req("cpu", "1", "memory", "2Gi")
	})
	if _, err := harness.WaitForPodBound(e.ctx, e.cp.Client, "metrics-a", "p-00", settle); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`kube_mesos_role_dominant_share{role="metrics-a"} 0.25`,
		`kube_mesos_role_weighted_share{role="metrics-a"} 0.125`,
		`kube_mesos_role_weight{role="metrics-a"} 2`,
		`kube_mesos_role_allocation{resource="cpu",role="metrics-a"} 1`,
		`kube_mesos_role_allocation{resource="memory",role="metrics-a"} 2.147483648e+09`,
		`kube_mesos_role_limit{resource="cpu",role="metrics-a"} 3`,
		`kube_mesos_role_pending_pods{role="metrics-a"} 0`,
	}
	var lines []string
	err = harness.Poll(e.ctx, settle, func(context.Context) (bool, error) {
		lines, err = harness.ScrapeLines(url, "kube_mesos_role_")
		if err != nil {
			return false, err
		}
		have := strings.Join(lines, "\n")
		for _, w := range want {
			if !strings.Contains(have, w) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("metrics never showed %v; last scrape:\n%s", want, strings.Join(lines, "\n"))
	}
}
