package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/test/harness"
)

// offersOnly is a profile with MesosOffers and Hetero but without DRF: the
// embedded allocator alone decides who gets what.
const offersOnly = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: false
profiles:
  - schedulerName: kube-mesos-scheduler
    plugins:
      multiPoint:
        enabled:
          - name: MesosOffers
          - name: Hetero
`

// metricsURL serves the scheduler's metrics for the test.
func metricsURL(t *testing.T) string {
	t.Helper()
	url, stop, err := harness.ServeMetrics()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return url
}

func offersTotal(t *testing.T, url, role, event string) float64 {
	t.Helper()
	v, err := harness.ScrapeValue(url, fmt.Sprintf(`kube_mesos_offers_total{event=%q,role=%q}`, event, role))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestOffersDRFPaperWithoutDRFPlugin: the DRF paper's example through the
// embedded allocator alone (no DRF plugin, default queue order): offers are
// sized by weighted-DRF progressive filling, so a gets 3 pods and b 2.
func TestOffersDRFPaperWithoutDRFPlugin(t *testing.T) {
	e := start(t, "")
	paperCluster(t, e, nil)
	e.sched = e.startScheduler(t, offersOnly)
	bound, err := harness.Settled(e.ctx, e.cp.Client, settle, "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	if bound["a"] != 3 || bound["b"] != 2 {
		t.Fatalf("bound a=%d b=%d, want a=3 b=2 through offers", bound["a"], bound["b"])
	}
}

// TestOffersPackManyPodsInOneOffer: 20 one-CPU pods over two 10-CPU nodes
// land through one offer per node in one cycle (the historic
// kubernetes-mesos launched one pod per offer).
func TestOffersPackManyPodsInOneOffer(t *testing.T) {
	e := start(t, "")
	url := metricsURL(t)
	namespaces(t, e, "packed")
	if err := harness.CreateNodes(e.ctx, e.cp.Client,
		harness.MakeNode("n1").Capacity("cpu", "10", "memory", "20Gi").Obj(),
		harness.MakeNode("n2").Capacity("cpu", "10", "memory", "20Gi").Obj()); err != nil {
		t.Fatal(err)
	}
	createBatch(t, e, "packed", "p", 20, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1", "memory", "1Gi") })
	e.sched = e.startScheduler(t, profile)
	bound, err := harness.Settled(e.ctx, e.cp.Client, settle, "packed")
	if err != nil || bound["packed"] != 20 {
		t.Fatalf("bound %v, %v; want all 20", bound, err)
	}
	if made, accepted := offersTotal(t, url, "packed", "made"), offersTotal(t, url, "packed", "accepted"); made != 2 || accepted != 2 {
		t.Errorf("offers made=%v accepted=%v, want 2 and 2 (10 pods per offer)", made, accepted)
	}
}

// TestOffersDeclineRefuse: role decl's pod cannot use the offered node (its
// images are arm64, the node amd64: the Hetero filter, which the allocator
// does not know). The offer is declined at once with refuseSeconds, role
// other gets the node in a later cycle, and while the refuse filter holds,
// decl is not offered that node again even after capacity is freed.
func TestOffersDeclineRefuse(t *testing.T) {
	e := start(t, withArgs(profile, `      - name: MesosOffers
        args:
          refuseSeconds: 3600
`))
	url := metricsURL(t)
	c := e.cp.Client
	namespaces(t, e, "decl", "other")
	if err := harness.CreateNodes(e.ctx, c, harness.MakeNode("n1").Capacity("cpu", "4", "memory", "8Gi").Obj()); err != nil {
		t.Fatal(err)
	}
	// A pod that cannot run on n1 for a reason the allocator cannot judge
	// (inter-pod anti-affinity: the scheduler's snapshot decides), so the
	// offer it gets is unusable.
	if err := harness.CreatePods(e.ctx, c, harness.MakePod("decl", "blocker").Label("app", "blocker").Node("n1").Obj()); err != nil {
		t.Fatal(err)
	}
	createBatch(t, e, "decl", "shy", 1, func(b *harness.PodBuilder) *harness.PodBuilder {
		return b.Req("cpu", "1").AntiAffinity("app", "blocker")
	})
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) {
		return offersTotal(t, url, "decl", "declined") == 1, nil
	}); err != nil {
		t.Fatalf("the unusable offer was not declined: %v", err)
	}
	createBatch(t, e, "other", "o", 2, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1") })
	bound, err := harness.Settled(e.ctx, c, settle, "other")
	if err != nil || bound["other"] != 2 {
		t.Fatalf("other bound %v, %v; want 2 on the declined node", bound, err)
	}
	// Free capacity (decl's pod becomes runnable again) and let several
	// cycles pass: decl must not be offered n1 inside its refuse window.
	if err := harness.DeletePod(e.ctx, c, "other", "o-00"); err != nil {
		t.Fatal(err)
	}
	cycles, err := harness.HistogramCount(url, "kube_mesos_allocation_cycle_duration_seconds")
	if err != nil {
		t.Fatal(err)
	}
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) {
		n, err := harness.HistogramCount(url, "kube_mesos_allocation_cycle_duration_seconds")
		return n >= cycles+3, err
	}); err != nil {
		t.Fatal(err)
	}
	if made := offersTotal(t, url, "decl", "made"); made != 1 {
		t.Errorf("decl was offered %v times, want 1: the refuse filter must hold", made)
	}
}

// TestOffersTimeoutRescinds: an offer nobody uses is rescinded after
// offerTimeout; the pod later lands on a fresh offer, never on the
// rescinded one. Without DRF the failing pod is not marked blocked, so its
// offers stay "usable" and only the timeout takes them back.
func TestOffersTimeoutRescinds(t *testing.T) {
	e := start(t, strings.TrimRight(offersOnly, "\n")+`
    pluginConfig:
      - name: MesosOffers
        args:
          offerTimeout: 1s
          allocationInterval: 1s
`)
	url := metricsURL(t)
	c := e.cp.Client
	namespaces(t, e, "timeout")
	if err := harness.CreateNodes(e.ctx, c, harness.MakeNode("n1").Capacity("cpu", "4", "memory", "8Gi").Obj()); err != nil {
		t.Fatal(err)
	}
	// Unusable for a reason the allocator cannot judge (see
	// TestOffersDeclineRefuse).
	if err := harness.CreatePods(e.ctx, c, harness.MakePod("timeout", "blocker").Label("app", "blocker").Node("n1").Obj()); err != nil {
		t.Fatal(err)
	}
	createBatch(t, e, "timeout", "p", 1, func(b *harness.PodBuilder) *harness.PodBuilder {
		return b.Req("cpu", "1").AntiAffinity("app", "blocker")
	})
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) {
		return offersTotal(t, url, "timeout", "rescinded") >= 1, nil
	}); err != nil {
		t.Fatalf("no offer rescinded after the timeout: %v", err)
	}
	if accepted := offersTotal(t, url, "timeout", "accepted"); accepted != 0 {
		t.Fatalf("an offer was accepted for a pod that cannot run: %v", accepted)
	}
	if err := harness.DeletePod(e.ctx, c, "timeout", "blocker"); err != nil {
		t.Fatal(err)
	}
	if _, err := harness.WaitForPodBound(e.ctx, c, "timeout", "p-00", settle); err != nil {
		t.Fatal(err)
	}
	// The embedded allocator's ACCEPT follows the binding (offer.Local).
	if err := harness.Poll(e.ctx, settle, func(context.Context) (bool, error) {
		return offersTotal(t, url, "timeout", "accepted") >= 1, nil
	}); err != nil {
		t.Fatalf("the offer the pod landed on was never accepted: %v", err)
	}
	if accepted := offersTotal(t, url, "timeout", "accepted"); accepted != 1 {
		t.Errorf("accepted %v offers, want exactly 1 (a live one)", accepted)
	}
}

// TestOffersHostPorts: a node offers only ports 31000-32000 (annotation
// kube-mesos.io/ports). A pod asking host port 8080 waits with a reason
// naming the port; one asking 31500 lands.
func TestOffersHostPorts(t *testing.T) {
	e := start(t, profile)
	c := e.cp.Client
	namespaces(t, e, "ports")
	if err := harness.CreateNodes(e.ctx, c, harness.MakeNode("n1").Capacity("cpu", "4", "memory", "8Gi").
		Annotation("kube-mesos.io/ports", "31000-32000").Obj()); err != nil {
		t.Fatal(err)
	}
	if err := harness.CreatePods(e.ctx, c,
		harness.MakePod("ports", "in-range").Req("cpu", "1").HostPort(31500).Obj(),
		harness.MakePod("ports", "out-of-range").Req("cpu", "1").HostPort(8080).Obj()); err != nil {
		t.Fatal(err)
	}
	if _, err := harness.WaitForPodBound(e.ctx, c, "ports", "in-range", settle); err != nil {
		t.Fatal(err)
	}
	var msg string
	if err := harness.Poll(e.ctx, settle, func(ctx context.Context) (bool, error) {
		p, err := c.CoreV1().Pods("ports").Get(ctx, "out-of-range", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		msg = harness.Unschedulable(p)
		return strings.Contains(msg, "8080"), nil
	}); err != nil {
		t.Fatalf("the pod asking port 8080 says %q, want a reason naming the port", msg)
	}
	if !strings.Contains(msg, "host port") {
		t.Errorf("reason %q does not say it is about host ports", msg)
	}
}

// TestOffersKeepStockPlugins: placement constraints still apply under our
// profile (the historic kubernetes-mesos could not honour them): taints and
// tolerations, and required node affinity.
func TestOffersKeepStockPlugins(t *testing.T) {
	e := start(t, profile)
	c := e.cp.Client
	namespaces(t, e, "stock")
	if err := harness.CreateNodes(e.ctx, c,
		harness.MakeNode("zone-a").Capacity("cpu", "8", "memory", "8Gi").Label("zone", "a").Obj(),
		harness.MakeNode("zone-b").Capacity("cpu", "8", "memory", "8Gi").Label("zone", "b").
			Taint("dedicated", "batch", v1.TaintEffectNoSchedule).Obj()); err != nil {
		t.Fatal(err)
	}
	if err := harness.CreatePods(e.ctx, c,
		harness.MakePod("stock", "tolerates-b").Req("cpu", "1").NodeSelector("zone", "b").Toleration("dedicated").Obj(),
		harness.MakePod("stock", "intolerant").Req("cpu", "1").Obj(),
		harness.MakePod("stock", "needs-b").Req("cpu", "1").NodeSelector("zone", "b").Obj()); err != nil {
		t.Fatal(err)
	}
	for pod, want := range map[string]string{"tolerates-b": "zone-b", "intolerant": "zone-a"} {
		node, err := harness.WaitForPodBound(e.ctx, c, "stock", pod, settle)
		if err != nil {
			t.Fatal(err)
		}
		if node != want {
			t.Errorf("%s on %s, want %s", pod, node, want)
		}
	}
	msg, err := harness.WaitForUnschedulable(e.ctx, c, "stock", "needs-b", settle, "node selector", "taint")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "node selector") && !strings.Contains(msg, "taint") {
		t.Errorf("needs-b (zone b, no toleration) waits with %q", msg)
	}
}
