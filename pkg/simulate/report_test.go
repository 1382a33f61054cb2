package simulate

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// paper is the DRF paper's outcome as the API server would return it: one
// node <9 CPU, 18 GiB>, a with 3 bound pods <1 CPU, 4 GiB> and one pending,
// b with 2 bound pods <3 CPU, 1 GiB>.
func paper(t *testing.T) Cluster {
	t.Helper()
	sc, err := Decode([]byte(`
nodes: [{name: n1, capacity: {cpu: 9, memory: 18Gi}}]
namespaces: [{name: a, weight: 2}, {name: b}]
workloads:
  - {namespace: a, name: a, replicas: 4, requests: {cpu: 1, memory: 4Gi}}
  - {namespace: b, name: b, replicas: 2, requests: {cpu: 3, memory: 1Gi}}
`))
	if err != nil {
		t.Fatal(err)
	}
	c := Cluster{Counted: sc.Counted()}
	for _, n := range sc.NodeObjects() {
		c.Nodes = append(c.Nodes, *n)
	}
	for _, ns := range sc.NamespaceObjects() {
		c.Namespaces = append(c.Namespaces, *ns)
	}
	for _, p := range sc.PodObjects() {
		if p.Name != "a-3" {
			p.Spec.NodeName = "n1"
		} else {
			p.Status.Conditions = []v1.PodCondition{{Type: v1.PodScheduled, Status: v1.ConditionFalse, Reason: "Unschedulable",
				Message: "0/1 nodes are available: 1 Insufficient cpu."}}
		}
		c.Pods = append(c.Pods, *p)
	}
	return c
}

func TestBuildReport(t *testing.T) {
	c := paper(t)
	// Noise the report must ignore: a pod of a namespace outside the
	// scenario, a finished pod, a cordoned node (out of the total).
	c.Pods = append(c.Pods, v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "x"}, Spec: v1.PodSpec{NodeName: "n1"}})
	done := *c.Pods[0].DeepCopy()
	done.Name, done.Status.Phase = "done", v1.PodSucceeded
	c.Pods = append(c.Pods, done)
	cordoned := *c.Nodes[0].DeepCopy()
	cordoned.Name, cordoned.Spec.Unschedulable = "cordoned", true
	c.Nodes = append(c.Nodes, cordoned)

	r := BuildReport(c)
	a, b := r.Namespaces["a"], r.Namespaces["b"]
	if a.Bound != 3 || a.Pending != 1 || b.Bound != 2 || b.Pending != 0 {
		t.Errorf("bound/pending a %d/%d b %d/%d, want 3/1 2/0", a.Bound, a.Pending, b.Bound, b.Pending)
	}
	for name, ns := range map[string]*NamespaceReport{"a": a, "b": b} {
		if math.Abs(ns.DominantShare-2.0/3) > 1e-9 {
			t.Errorf("%s dominant share %v, want 2/3", name, ns.DominantShare)
		}
	}
	if a.DominantResource != "memory" || b.DominantResource != "cpu" {
		t.Errorf("dominant resources a %q b %q, want memory and cpu", a.DominantResource, b.DominantResource)
	}
	if a.Weight != 2 || math.Abs(a.WeightedShare-1.0/3) > 1e-9 || b.Weight != 1 {
		t.Errorf("a weight %v weighted %v, b weight %v", a.Weight, a.WeightedShare, b.Weight)
	}
	if diff := cmp.Diff(map[string]string{"cpu": "3", "memory": "12Gi"}, a.Allocated); diff != "" {
		t.Errorf("a allocated (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]ReasonCount{{Reason: "0/1 nodes are available: 1 Insufficient cpu.", Pods: 1}}, a.PendingReasons); diff != "" {
		t.Errorf("a pending reasons (-want +got):\n%s", diff)
	}
	n1 := r.Nodes["n1"]
	if n1.Pods != 5 || n1.Arch != "amd64" {
		t.Errorf("n1 %+v, want 5 pods, amd64", n1)
	}
	if diff := cmp.Diff(map[string]string{"cpu": "9", "memory": "14Gi"}, n1.Allocated); diff != "" {
		t.Errorf("n1 allocated (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"cpu": "9", "memory": "18Gi"}, n1.Allocatable); diff != "" {
		t.Errorf("n1 allocatable (-want +got):\n%s", diff)
	}
	if len(r.Pods) != 6 {
		t.Fatalf("%d pods in the report, want the scenario's 6", len(r.Pods))
	}
	if p := r.Pods[3]; p.Name != "a-3" || p.Node != nil || p.Reason == "" || p.Workload != "a" {
		t.Errorf("pending pod %+v", p)
	}
	if p := r.Pods[0]; p.Node == nil || *p.Node != "n1" || p.Reason != "" {
		t.Errorf("bound pod %+v", p)
	}
}

// TestReportJSON pins the JSON shape other tools read.
func TestReportJSON(t *testing.T) {
	r := BuildReport(paper(t))
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Namespaces map[string]struct {
			Role          string            `json:"role"`
			Weight        float64           `json:"weight"`
			Bound         int               `json:"bound"`
			Pending       int               `json:"pending"`
			DominantShare float64           `json:"dominantShare"`
			Allocated     map[string]string `json:"allocated"`
		} `json:"namespaces"`
		Nodes map[string]struct {
			Pods      int               `json:"pods"`
			Allocated map[string]string `json:"allocated"`
		} `json:"nodes"`
		Pods []map[string]any `json:"pods"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if ns := got.Namespaces["b"]; ns.Role != "b" || ns.Weight != 1 || ns.Bound != 2 || ns.Allocated["cpu"] != "6" {
		t.Errorf("namespace b %+v", ns)
	}
	if got.Nodes["n1"].Pods != 5 {
		t.Errorf("node n1 %+v", got.Nodes["n1"])
	}
	pending := got.Pods[3]
	if pending["node"] != nil || pending["name"] != "a-3" || pending["namespace"] != "a" || pending["reason"] == "" {
		t.Errorf("pending pod %v: want node null and a reason", pending)
	}
}

func TestPendingReason(t *testing.T) {
	p := &v1.Pod{Spec: v1.PodSpec{SchedulerName: SchedulerName}}
	if got := PendingReason(p); got != ReasonNotAttempted {
		t.Errorf("no condition: %q", got)
	}
	p.Spec.SchedulerName = "other"
	if got := PendingReason(p); !strings.Contains(got, "other") {
		t.Errorf("another scheduler's pod: %q", got)
	}
	p.Status.Conditions = []v1.PodCondition{{Type: v1.PodScheduled, Status: v1.ConditionFalse, Message: "why"}}
	if got := PendingReason(p); got != "why" {
		t.Errorf("condition message: %q", got)
	}
}

func TestWriteText(t *testing.T) {
	r := BuildReport(paper(t))
	r.Scenario, r.Mode, r.Settled, r.Seconds = "paper.yaml", ModeEmbedded, true, 1.25
	r.AddSources(map[string]string{"n1": SourceEmbedded}, map[string]SourceStats{SourceEmbedded: {Agents: 1, Offers: 7, Connected: true}})
	var b bytes.Buffer
	if err := WriteText(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Scenario paper.yaml, offers from the embedded allocator",
		"settled 1.2s after the scheduler started: 5 pods bound, 1 pending",
		"NAMESPACE  ROLE  WEIGHT  BOUND  PENDING  PREEMPTED  DOMINANT SHARE",
		"a          a     2       3      1        0          0.667 (memory)  0.333     cpu=3 memory=12Gi",
		"a: 1 pod(s): 0/1 nodes are available: 1 Insufficient cpu.",
		"n1    embedded  amd64  -            5     9/9  14Gi/18Gi",
		// 5 pods bound on n1, the embedded allocator's only node.
		"embedded      1       7       5     true",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
