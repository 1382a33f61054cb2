package integration

import (
	"context"
	"net/http"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/explain"
	"github.com/kube-mesos/kube-mesos-scheduler/test/harness"
)

// TestExplainPendingPod: `kube-mesos-scheduler explain` on a pod that waits
// in a running cluster, reading what the binary reads (the pod, its
// namespace and events from the API server; the scheduler's /metrics).
// One 2-CPU node and three 1-CPU pods of role "explained": two bind, the
// third waits. The role then holds 2 of the cluster's 2 CPUs: dominant
// share 2/2 = 1; weight 1 (no annotation), so weighted share 1/1 = 1.
func TestExplainPendingPod(t *testing.T) {
	e := start(t, profile)
	url := metricsURL(t)
	c := e.cp.Client
	namespaces(t, e, "explained")
	if err := harness.CreateNodes(e.ctx, c, harness.MakeNode("n1").Capacity("cpu", "2", "memory", "8Gi").Obj()); err != nil {
		t.Fatal(err)
	}
	createBatch(t, e, "explained", "p", 3, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1") })
	bound, err := harness.Settled(e.ctx, c, settle, "explained")
	if err != nil || bound["explained"] != 2 {
		t.Fatalf("bound %v, %v; want 2 of 3", bound, err)
	}
	var waiting string
	if err := harness.Poll(e.ctx, settle, func(ctx context.Context) (bool, error) {
		pods, err := c.CoreV1().Pods("explained").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, p := range pods.Items {
			for _, cond := range p.Status.Conditions {
				if p.Spec.NodeName == "" && cond.Type == v1.PodScheduled && cond.Status == v1.ConditionFalse {
					waiting = p.Name
					return true, nil
				}
			}
		}
		return false, nil
	}); err != nil {
		t.Fatalf("no pod with PodScheduled=False: %v", err)
	}

	in, err := explain.Gather(e.ctx, c, "explained", waiting)
	if err != nil {
		t.Fatal(err)
	}
	if in.Metrics, err = explain.Scrape(e.ctx, http.DefaultClient, url); err != nil {
		t.Fatal(err)
	}
	r := explain.Explain(in)
	var out strings.Builder
	if err := r.Write(&out); err != nil {
		t.Fatal(err)
	}
	t.Logf("explain %s:\n%s", waiting, out.String())
	if r.Role != "explained" || r.Plugin == "" {
		t.Errorf("role %q plugin %q, want role explained and the plugin that holds the pod", r.Role, r.Plugin)
	}
	got := map[string]string{}
	for _, l := range r.Lines {
		got[l.Field] = l.Value
	}
	for field, want := range map[string]string{
		"Weight":       "1",
		"Shares":       "dominant 1, weighted 1 (dominant / weight)",
		"Allocation":   "cpu=2",
		"Pending pods": "1 of role explained",
		"Status":       "pending for",
		"DRF order":    "*explained 1",
	} {
		if !strings.Contains(got[field], want) {
			t.Errorf("%s: %q, want it to hold %q", field, got[field], want)
		}
	}
	if got["Reason"] == "" {
		t.Error("no Reason line")
	}
}
