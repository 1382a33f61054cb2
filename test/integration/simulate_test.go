package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/simulate"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/simulate/runner"
)

// The simulator's end-to-end tests live here, not in pkg/simulate/runner:
// this package links the kube-apiserver already, and another test binary
// that does would cost CI ~180 MB and a link of its own.

// TestSimulateDRFPaper runs examples/drf-paper.yaml through the simulate
// command (its own control plane, JSON output, SVG chart): a gets 3 pods
// and b 2, both at dominant share 2/3.
func TestSimulateDRFPaper(t *testing.T) {
	dir := t.TempDir()
	svg := filepath.Join(dir, "shares.svg")
	var stdout, stderr bytes.Buffer
	code := runner.Main([]string{"--scenario", "../../examples/drf-paper.yaml", "--output", "json",
		"--svg", svg, "--log-file", filepath.Join(dir, "simulate.log")}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit status %d, stderr:\n%s", code, stderr.String())
	}
	var r simulate.Report
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("stdout is not one JSON report: %v\n%s", err, stdout.String())
	}
	if a, b := r.Namespaces["a"], r.Namespaces["b"]; a == nil || b == nil || a.Bound != 3 || b.Bound != 2 {
		t.Fatalf("bound a=%+v b=%+v, want a 3 and b 2 (DRF paper)", a, b)
	}
	for _, ns := range []string{"a", "b"} {
		if s := r.Namespaces[ns].DominantShare; math.Abs(s-2.0/3) > 1e-9 {
			t.Errorf("dominant share of %s = %v, want 2/3", ns, s)
		}
	}
	if !r.Settled || len(r.Pods) != 40 {
		t.Errorf("settled %v, %d pods reported, want 40", r.Settled, len(r.Pods))
	}
	chart, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(chart, []byte("<svg")) || !bytes.Contains(chart, []byte("a (role a, weight 1): 0.667")) {
		t.Errorf("chart lacks the final share of a:\n%s", chart)
	}
}

// TestSimulateBadScenario: a bad scenario stops the command before any
// control plane starts, with a message naming the field.
func TestSimulateBadScenario(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte(`
nodes: [{name: n1, capacity: {cpu: 4}}]
namespaces: [{name: a}]
workloads:
  - {namespace: a, name: w0, requests: {cpu: 1}}
  - {namespace: a, name: w1, requests: {cpu: 1}}
  - {namespace: a, name: w2, requests: {cpu: x}}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := runner.Main([]string{"--scenario", path}, &stdout, &stderr)
	want := `workloads[2].requests.cpu: Invalid value: "x": invalid quantity`
	if code != 2 || !strings.Contains(stderr.String(), want) {
		t.Errorf("exit status %d, stderr %q; want 2 and a message containing %q", code, stderr.String(), want)
	}
	if stdout.Len() != 0 {
		t.Errorf("a bad scenario wrote a report: %s", stdout.String())
	}
}

// TestSimulateDemo runs examples/demo.yaml (the `make demo` scenario) with
// the embedded allocator and checks that the placement makes sense.
func TestSimulateDemo(t *testing.T) {
	sc, r := runDemo(t, simulate.ModeEmbedded)
	checkDemoPlacement(t, sc, r)
	// Weighted DRF between batch (weight 2) and dev (weight 1), who compete
	// for the amd64 nodes with pods of the same size: batch gets about
	// twice dev's share. (Exactly 16 and 8 most of the time; the first
	// cycles can overshoot by a pod, which fair-share preemption does not
	// always take back, so the check allows 1.5 times.)
	batch, dev := r.Namespaces["batch"], r.Namespaces["dev"]
	bCPU, dCPU := resource.MustParse(orZero(batch.Allocated["cpu"])), resource.MustParse(orZero(dev.Allocated["cpu"]))
	if batch.Bound <= dev.Bound || bCPU.AsApproximateFloat64() < 1.5*dCPU.AsApproximateFloat64() {
		t.Errorf("batch (weight 2) bound %d pods, cpu %s; dev (weight 1) %d pods, cpu %s: want about twice dev's share",
			batch.Bound, bCPU.String(), dev.Bound, dCPU.String())
	}
	// ml asks for 16 GPUs and may hold 12 (checkDemoPlacement): the quota,
	// not the hardware, stops it. (The waiting pod's message is not checked:
	// it is the limit, or, for a pod last tried on an offer the allocator
	// made its role for another pod, on a node of another GPU model,
	// Hetero's model reason: a reason is the one of the pod's last attempt.)
	ml := r.Namespaces["ml"]
	if gpus := resource.MustParse(orZero(ml.Allocated["nvidia.com/gpu"])); gpus.Value() < 10 || ml.Pending == 0 {
		t.Errorf("ml holds %s GPUs with %d pods pending; want close to its quota of 12 and some waiting (16 asked, 16 in the cluster)",
			gpus.String(), ml.Pending)
	}
}

// TestSimulateDemoMesos runs the demo against the Mesos master emulator
// (`MODE=mesos make demo`): the same hardware rules and quota hold. (How
// the master splits agents between roles is its own business: no weights
// are checked.)
func TestSimulateDemoMesos(t *testing.T) {
	sc, r := runDemo(t, simulate.ModeMesos)
	checkDemoPlacement(t, sc, r)
}

func runDemo(t *testing.T, mode simulate.Mode) (*simulate.Scenario, *simulate.Report) {
	t.Helper()
	e := start(t, "")
	sc, err := simulate.LoadFile("../../examples/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := runner.Run(e.ctx, sc, runner.Options{Mode: mode, Name: "examples/demo.yaml", ControlPlane: e.cp})
	if err != nil {
		t.Fatalf("%s run: %v", mode, err)
	}
	var b strings.Builder
	if err := simulate.WriteText(&b, res.Report); err == nil {
		t.Logf("report:\n%s", b.String())
	}
	return sc, res.Report
}

// checkDemoPlacement: every bound pod sits on hardware it asked for: GPU
// pods on GPU nodes of a model they name, arm64-only pods on arm64 nodes,
// amd64-selecting pods on amd64, only tolerating pods on tainted nodes;
// ml stays within its 12-GPU quota and each tenant got something.
func checkDemoPlacement(t *testing.T, sc *simulate.Scenario, r *simulate.Report) {
	t.Helper()
	nodes := map[string]*v1.Node{}
	for _, n := range sc.NodeObjects() {
		nodes[n.Name] = n
	}
	workloads := map[string]simulate.WorkloadSpec{}
	for _, w := range sc.Workloads {
		workloads[w.Namespace+"/"+w.Name] = w
	}
	for _, p := range r.Pods {
		if p.Node == nil {
			continue
		}
		w, n := workloads[p.Namespace+"/"+p.Workload], nodes[*p.Node]
		if n == nil {
			t.Fatalf("pod %s/%s on unknown node %q", p.Namespace, p.Name, *p.Node)
		}
		if models := w.Annotations["kube-mesos.io/gpu-models"]; models != "" {
			product := n.Labels["nvidia.com/gpu.product"]
			if !slices.ContainsFunc(strings.Split(models, ","), func(m string) bool { return strings.Contains(product, m) }) {
				t.Errorf("%s/%s wants GPU models %s, landed on %s (%q)", p.Namespace, p.Name, models, n.Name, product)
			}
		}
		if archs := w.Annotations["kube-mesos.io/architectures"]; archs != "" && !slices.Contains(strings.Split(archs, ","), n.Labels[v1.LabelArchStable]) {
			t.Errorf("%s/%s runs on %s only, landed on %s (%s)", p.Namespace, p.Name, archs, n.Name, n.Labels[v1.LabelArchStable])
		}
		if arch := w.NodeSelector[v1.LabelArchStable]; arch != "" && n.Labels[v1.LabelArchStable] != arch {
			t.Errorf("%s/%s selects %s, landed on %s", p.Namespace, p.Name, arch, n.Name)
		}
		if len(n.Spec.Taints) > 0 && len(w.Tolerations) == 0 {
			t.Errorf("%s/%s tolerates nothing, landed on tainted %s", p.Namespace, p.Name, n.Name)
		}
	}
	for name, ns := range r.Namespaces {
		if ns.Bound == 0 {
			t.Errorf("namespace %s got nothing: %+v", name, ns)
		}
	}
	if gpus := resource.MustParse(orZero(r.Namespaces["ml"].Allocated["nvidia.com/gpu"])); gpus.Value() > 12 {
		t.Errorf("ml holds %s GPUs, above its quota of 12", gpus.String())
	}
	tokenized := 0
	for _, p := range r.Pods {
		if p.Workload == "tokenize" && p.Node != nil {
			tokenized++
		}
	}
	if tokenized == 0 {
		t.Error("no arm64-only tokenize pod runs, though the arm64 nodes have room")
	}
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

// TestSimulateLimits: a scenario larger than --max-nodes or --max-pods is
// refused before any control plane starts (11 specs of 1,000 nodes =
// 11,000 > 10,000; 11 workloads of 10,000 pods = 110,000 > 100,000), and
// runs past the limit only when it is raised; a --timeout shorter than the
// run stops it with a message saying so (1 ms cannot cover creating the
// objects), not after it.
func TestSimulateLimits(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var nodes, pods strings.Builder
	for i := 0; i < 11; i++ {
		fmt.Fprintf(&nodes, "  - {name: n%d, count: 1000, capacity: {cpu: 4}}\n", i)
		fmt.Fprintf(&pods, "  - {namespace: a, name: w%d, replicas: 10000, requests: {cpu: 1}}\n", i)
	}
	many := write("many-nodes.yaml", "nodes:\n"+nodes.String()+"namespaces: [{name: a}]\nworkloads: [{namespace: a, name: w}]\n")
	lots := write("many-pods.yaml", "nodes: [{name: node, capacity: {cpu: 4}}]\nnamespaces: [{name: a}]\nworkloads:\n"+pods.String())
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--scenario", many}, "11000 nodes, more than --max-nodes 10000"},
		{[]string{"--scenario", lots}, "110000 pods, more than --max-pods 100000"},
	} {
		var stdout, stderr bytes.Buffer
		if code := runner.Main(tc.args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit status %d, stderr %q; want 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
	small := write("small.yaml", "nodes: [{name: node, count: 50, capacity: {cpu: 4}}]\nnamespaces: [{name: a}]\nworkloads: [{namespace: a, name: w, replicas: 20, requests: {cpu: 1}}]\n")
	var stdout, stderr bytes.Buffer
	code := runner.Main([]string{"--scenario", small, "--max-nodes", "10", "--log-file", filepath.Join(dir, "log")}, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "50 nodes, more than --max-nodes 10") {
		t.Errorf("--max-nodes 10: exit status %d, stderr %q", code, stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	start := time.Now()
	code = runner.Main([]string{"--scenario", small, "--timeout", "1ms", "--log-file", filepath.Join(dir, "log")}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "did not finish within the timeout (1ms)") {
		t.Errorf("--timeout 1ms: exit status %d after %v, stderr %q; want 1 and the timeout named", code, time.Since(start), stderr.String())
	}
}

// TestSimulateFederation runs examples/mesos/federation.yaml: two masters
// (dc1: a-1, a-2; dc2: b-1, b-2) and two plain nodes, every node ⟨4 CPU, 8
// GiB⟩. Weighted DRF over the union (the scenario's comment): a 4, b 8, c
// 12. Each node holds 4 one-CPU pods, so each source has 8 pods on its two
// nodes; the JSON report names every node's source and counts per source.
func TestSimulateFederation(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := runner.Main([]string{"--scenario", "../../examples/mesos/federation.yaml", "--output", "json",
		"--log-file", filepath.Join(dir, "simulate.log")}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit status %d, stderr:\n%s", code, stderr.String())
	}
	var r simulate.Report
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("stdout is not one JSON report: %v\n%s", err, stdout.String())
	}
	for ns, want := range map[string]int{"a": 4, "b": 8, "c": 12} {
		if got := r.Namespaces[ns]; got == nil || got.Bound != want {
			t.Errorf("namespace %s: %+v, want %d bound", ns, got, want)
		}
	}
	wantSource := map[string]string{"a-1": "dc1", "a-2": "dc1", "b-1": "dc2", "b-2": "dc2", "plain-1": "embedded", "plain-2": "embedded"}
	for node, src := range wantSource {
		if n := r.Nodes[node]; n == nil || n.Source != src || n.Pods != 4 {
			t.Errorf("node %s: %+v, want source %s and 4 pods", node, n, src)
		}
	}
	for _, src := range []string{"dc1", "dc2", "embedded"} {
		s := r.Sources[src]
		if s == nil || s.Agents != 2 || s.Pods != 8 || s.Offers == 0 || !s.Connected {
			t.Errorf("source %s: %+v, want 2 agents, 8 pods, some offers, connected", src, s)
		}
	}
	if len(r.Sources) != 3 {
		t.Errorf("sources %v, want dc1, dc2 and embedded", r.Sources)
	}
}
