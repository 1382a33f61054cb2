package integration

import (
	"context"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	eqv1alpha1 "sigs.k8s.io/scheduler-plugins/apis/scheduling/v1alpha1"
	eqclient "sigs.k8s.io/scheduler-plugins/pkg/generated/clientset/versioned"

	"github.com/kube-mesos/kube-mesos-scheduler/test/harness"
)

// TestDRFElasticQuota: with the ElasticQuota CRD installed, a namespace's
// ElasticQuota max is its role's limit; raising it lets the waiting pod in
// without a restart. (Every other test runs without the CRD: it is ignored.)
func TestDRFElasticQuota(t *testing.T) {
	e := start(t, "")
	if err := e.cp.InstallCRD(e.ctx, "../../manifests/crds/scheduling.x-k8s.io_elasticquotas.yaml"); err != nil {
		t.Fatal(err)
	}
	cfg := rest.CopyConfig(e.cp.Config)
	cfg.ContentType = "application/json"
	eqs, err := eqclient.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	namespaces(t, e, "q")
	eq, err := eqs.SchedulingV1alpha1().ElasticQuotas("q").Create(e.ctx, &eqv1alpha1.ElasticQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "quota", Namespace: "q"},
		Spec: eqv1alpha1.ElasticQuotaSpec{
			Min: v1.ResourceList{"cpu": resource.MustParse("0")},
			Max: v1.ResourceList{"cpu": resource.MustParse("1")},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.sched = e.startScheduler(t, profile)
	if err := harness.CreateNodes(e.ctx, e.cp.Client, harness.MakeNode("n1").Capacity("cpu", "4", "memory", "8Gi").Obj()); err != nil {
		t.Fatal(err)
	}
	createBatch(t, e, "q", "p", 2, func(b *harness.PodBuilder) *harness.PodBuilder { return b.Req("cpu", "1") })
	bound, err := harness.Settled(e.ctx, e.cp.Client, settle, "q")
	if err != nil {
		t.Fatal(err)
	}
	if bound["q"] != 1 {
		t.Fatalf("bound %d, want 1 under ElasticQuota max cpu 1", bound["q"])
	}
	want := `role "q" would exceed its limit of cpu: used 1, pod asks 1, limit 1`
	if msg := waitingMessage(t, e, "q"); !strings.Contains(msg, want) {
		t.Errorf("waiting pod says %q, want %q", msg, want)
	}
	eq.Spec.Max["cpu"] = resource.MustParse("2")
	if _, err := eqs.SchedulingV1alpha1().ElasticQuotas("q").Update(e.ctx, eq, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := harness.Poll(e.ctx, settle, func(ctx context.Context) (bool, error) {
		b, err := harness.Settled(ctx, e.cp.Client, settle, "q")
		return err == nil && b["q"] == 2, nil
	}); err != nil {
		t.Fatalf("raising the quota did not let the second pod in: %v", err)
	}
}
