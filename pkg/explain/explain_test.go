package explain

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/test/build"
)

// metricsText is a scrape of three sibling roles and one nested role.
// Weighted shares: a 0.1, b 0.25, c 0.5 (and eng/ml 0.05 under eng, which
// is not a sibling of b). DRF order of b among a, b, c, eng (eng has no
// weighted share series of its own here, so three siblings): a 0.1 < b 0.25
// < c 0.5, so b is 2 of 3.
const metricsText = `
# TYPE kube_mesos_role_weighted_share gauge
kube_mesos_role_weighted_share{role="a"} 0.1
kube_mesos_role_weighted_share{role="b"} 0.25
kube_mesos_role_weighted_share{role="c"} 0.5
kube_mesos_role_weighted_share{role="eng/ml"} 0.05
kube_mesos_role_dominant_share{role="b"} 0.5
kube_mesos_role_weight{role="b"} 2
kube_mesos_role_fair_share{role="b"} 0.375
kube_mesos_role_fair_pods{role="b"} 6
kube_mesos_role_pending_pods{role="b"} 3
kube_mesos_role_allocation{resource="cpu",role="b"} 4
kube_mesos_role_allocation{resource="memory",role="b"} 8589934592
kube_mesos_role_guarantee{resource="cpu",role="b"} 2
# TYPE kube_mesos_offers_total counter
kube_mesos_offers_total{event="made",role="b"} 7
kube_mesos_offers_total{event="declined",role="b"} 1
# TYPE kube_mesos_source_offers_total counter
kube_mesos_source_offers_total{event="made",source="dc1"} 40
kube_mesos_source_offers_total{event="accepted",source="dc1"} 12
kube_mesos_source_offers_total{event="made",source="plain"} 5
# TYPE kube_mesos_source_connected gauge
kube_mesos_source_connected{source="dc1"} 1
kube_mesos_source_connected{source="dc2"} 0
kube_mesos_source_connected{source="plain"} 1
# TYPE kube_mesos_source_leader_info gauge
kube_mesos_source_leader_info{leader="m1.dc1:5050",source="dc1"} 1
# TYPE kube_mesos_source_nodes gauge
kube_mesos_source_nodes{source="dc1"} 2
kube_mesos_source_nodes{source="dc2"} 3
kube_mesos_source_nodes{source="plain"} 1
`

func TestExplainPendingPod(t *testing.T) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	m, err := parser.TextToMetricFamilies(strings.NewReader(metricsText))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	pod := build.MakePod("team-b", "p-0").Obj()
	pod.CreationTimestamp = metav1.NewTime(now.Add(-90 * time.Second))
	pod.Status.Conditions = []v1.PodCondition{{
		Type: v1.PodScheduled, Status: v1.ConditionFalse, Reason: v1.PodReasonUnschedulable,
		LastTransitionTime: metav1.NewTime(now.Add(-30 * time.Second)),
		Message:            "0/3 nodes are available: 3 node(s) had no offer for the pod's role with enough resources.",
	}}
	ns := &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-b", Annotations: map[string]string{"kube-mesos.io/role": "b"}}}
	r := Explain(Input{Pod: pod, Namespace: ns, Metrics: m, Now: now})

	if r.Plugin != "MesosOffers" || r.Role != "b" {
		t.Errorf("plugin %q role %q, want MesosOffers and b (the namespace's role annotation)", r.Plugin, r.Role)
	}
	want := map[string]string{
		"Status":     "pending for 1m30s",
		"Condition":  "PodScheduled=False Unschedulable, 30s ago",
		"Weight":     "2",
		"Shares":     "dominant 0.5, weighted 0.25 (dominant / weight), fair target 0.375 (6 pods)",
		"Allocation": "cpu=4 memory=8Gi",
		"Guarantee":  "cpu=2",
		"Limit":      "none",
		"Offers":     "made 7, accepted 0, declined 1, rescinded 0 (since the scheduler started)",
		"DRF order":  "2 of 3 (lowest weighted share first): a 0.1 *b 0.25 c 0.5",
		"Offer sources": "dc1 (connected to m1.dc1:5050; nodes 2; offers made 40, accepted 12); " +
			"dc2 (NOT CONNECTED to its master; nodes 3; offers made 0, accepted 0); plain (connected; nodes 1; offers made 5, accepted 0)",
	}
	got := map[string]string{}
	for _, l := range r.Lines {
		got[l.Field] = l.Value
	}
	for field, v := range want {
		if got[field] != v {
			t.Errorf("%s: %q, want %q", field, got[field], v)
		}
	}
	var b strings.Builder
	if err := r.Write(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Held by:") {
		t.Errorf("report lacks the plugin line:\n%s", b.String())
	}
}

// TestExplainWithoutMetrics: the report says why shares are missing and
// still names the role; a pod no plugin of ours holds is said so.
func TestExplainWithoutMetrics(t *testing.T) {
	pod := build.MakePod("dev", "p").Obj()
	pod.Status.Conditions = []v1.PodCondition{{Type: v1.PodScheduled, Status: v1.ConditionFalse,
		Message: "0/2 nodes are available: 2 Insufficient cpu."}}
	r := Explain(Input{Pod: pod, Namespace: &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "dev"}}, Now: time.Now()})
	if r.Plugin != "" || r.Role != "dev" {
		t.Errorf("plugin %q role %q, want none and dev", r.Plugin, r.Role)
	}
	last := r.Lines[len(r.Lines)-1]
	if last.Field != "Shares" || !strings.Contains(last.Value, "--metrics-url") {
		t.Errorf("last line %+v, want Shares saying no metrics endpoint was given", last)
	}
}

// TestPlugins: every reason of ours maps to its plugin, and the plugins
// kube-scheduler names for nodes a PreFilter left out are added.
func TestPlugins(t *testing.T) {
	msg := "0/4 nodes are available: 1 node(s) had a CPU architecture the pod's images do not support, 3 node(s) didn't satisfy plugin(s) [MesosOffers]."
	if got := Plugins(msg); !slices.Equal(got, []string{"Hetero", "MesosOffers"}) {
		t.Errorf("Plugins(%q) = %v, want [Hetero MesosOffers]", msg, got)
	}
	for _, r := range reasons {
		msg := "0/5 nodes are available: 5 " + r.reason + "."
		if got := Plugins(msg); len(got) != 1 || got[0] != r.plugin {
			t.Errorf("Plugins(%q) = %v, want [%s]", msg, got, r.plugin)
		}
	}
}
