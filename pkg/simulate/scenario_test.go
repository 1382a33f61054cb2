package simulate

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"
)

const minimal = `
nodes:
  - name: n0
    capacity: {cpu: 4, memory: 8Gi}
namespaces:
  - name: a
workloads:
  - namespace: a
    name: w
    requests: {cpu: 1}
`

func TestDecodeValid(t *testing.T) {
	sc, err := Decode([]byte(`
nodes:
  - name: cpu
    count: 2
    capacity: {cpu: 8, memory: 32Gi}
  - name: gpu
    capacity: {cpu: "500m", memory: 64Gi, nvidia.com/gpu: 8}
    labels: {nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3}
    taints: [{key: nvidia.com/gpu, value: present, effect: NoSchedule}]
namespaces:
  - {name: ml, weight: 2.5, role: eng/ml, quota: {min: {cpu: 1}, max: {nvidia.com/gpu: 4}}}
  - {name: web, weight: "3"}
workloads:
  - namespace: ml
    name: train
    replicas: 3
    priority: 100
    requests: {cpu: 1.5, memory: 1Gi, nvidia.com/gpu: 1}
    annotations: {kube-mesos.io/gpu-models: "H100,A100"}
    tolerations: [{key: nvidia.com/gpu, operator: Exists}]
drf:
  excludedResourceNames: []
  preemption: Never
mesos: {}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := sc.Nodes[1].Capacity["cpu"]; got != "500m" {
		t.Errorf("cpu capacity %q", got)
	}
	if got := sc.Namespaces[0].Weight; got != "2.5" {
		t.Errorf("a YAML number decodes to its text: weight %q", got)
	}
	if got := sc.Workloads[0].Requests["cpu"]; got != "1.5" {
		t.Errorf("requests.cpu %q", got)
	}
	if sc.Mesos == nil {
		t.Error("an empty mesos section must select Mesos mode")
	}
}

// TestDecodeErrors: every bad scenario fails with a message naming the field.
func TestDecodeErrors(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"bad quantity": {
			strings.Replace(minimal, "requests: {cpu: 1}", "requests: {cpu: x}", 1),
			`workloads[0].requests.cpu: Invalid value: "x": invalid quantity`,
		},
		"bad quantity third workload": {
			minimal + `  - {namespace: a, name: w2, requests: {cpu: 1}}
  - {namespace: a, name: w3, requests: {cpu: "x"}}
`,
			`workloads[2].requests.cpu: Invalid value: "x": invalid quantity`,
		},
		"a second document": {
			minimal + "---\nnodes: []\n",
			`scenario: YAML document 2 follows the scenario: a file holds one scenario`,
		},
		"trailing text": {
			minimal + "...\ngarbage\n",
			`scenario is not valid YAML after the scenario`,
		},
		"JSON with trailing text": {
			`{"nodes": [{"name": "n0", "capacity": {"cpu": 4}}], "namespaces": [{"name": "a"}], "workloads": [{"namespace": "a", "name": "w"}]} garbage`,
			`scenario is not valid YAML`,
		},
		"count 0": {
			strings.Replace(minimal, "name: n0", "name: n0\n    count: 0", 1),
			`nodes[0].count: Invalid value: 0: must be at least 1 (omit it for one node)`,
		},
		"replicas 0": {
			strings.Replace(minimal, "name: w", "name: w\n    replicas: 0", 1),
			`workloads[0].replicas: Invalid value: 0: must be at least 1 (omit it for one pod)`,
		},
		"unknown field": {
			strings.Replace(minimal, "name: w", "name: w\n    replica: 3", 1),
			`unknown field "workloads[0].replica"`,
		},
		"duplicate field": {
			strings.Replace(minimal, "name: w", "name: w\n    name: v", 1),
			`"name" already set in map`,
		},
		"wrong type": {
			strings.Replace(minimal, "name: w", "name: w\n    replicas: many", 1),
			`replicas`,
		},
		"negative capacity": {
			strings.Replace(minimal, "cpu: 4", "cpu: -4", 1),
			`nodes[0].capacity.cpu: Invalid value: "-4": must not be negative`,
		},
		"fractional GPU": {
			strings.Replace(minimal, "{cpu: 1}", "{nvidia.com/gpu: 0.5}", 1),
			`workloads[0].requests.nvidia.com/gpu: Invalid value: "0.5": must be a whole number`,
		},
		"bad resource name": {
			strings.Replace(minimal, "{cpu: 1}", "{\"bad name\": 1}", 1),
			`workloads[0].requests.bad name: Invalid value: "bad name": invalid resource name`,
		},
		"undeclared namespace": {
			strings.Replace(minimal, "  - namespace: a", "  - namespace: b", 1),
			`workloads[0].namespace: Not found: "b"`,
		},
		"bad weight": {
			strings.Replace(minimal, "- name: a", "- name: a\n    weight: -1", 1),
			`namespaces[0].weight: Invalid value: "-1": weight "-1" must be a decimal from 0.001 to 1e+06`,
		},
		"bad role": {
			strings.Replace(minimal, "- name: a", "- name: a\n    role: /eng", 1),
			`namespaces[0].role: Invalid value: "/eng": role "/eng" cannot start with a slash`,
		},
		"quota of a resource DRF ignores": {
			strings.Replace(minimal, "- name: a", "- name: a\n    quota: {max: {ephemeral-storage: 1Gi}}", 1),
			`namespaces[0].quota.max.ephemeral-storage: Invalid value: "1Gi": is not one of the resources that count for DRF`,
		},
		"min above max": {
			strings.Replace(minimal, "- name: a", "- name: a\n    quota: {min: {cpu: 2}, max: {cpu: 1}}", 1),
			`namespaces[0].quota.min.cpu: Invalid value: "2": exceeds max 1`,
		},
		"duplicate node names": {
			strings.Replace(minimal, "  - name: n0\n", "  - name: m-1\n    capacity: {cpu: 1}\n  - name: m\n    count: 2\n", 1),
			`nodes[1].name: Duplicate value: "m-1"`,
		},
		"no nodes": {
			"namespaces: [{name: a}]\n",
			`nodes: Required value`,
		},
		"bad taint effect": {
			strings.Replace(minimal, "capacity: {cpu: 4, memory: 8Gi}", "capacity: {cpu: 4}\n    taints: [{key: k, effect: Sometimes}]", 1),
			`nodes[0].taints[0].effect: Unsupported value: "Sometimes"`,
		},
		"bad preemption": {
			minimal + "drf: {preemption: Always}\n",
			`drf.preemption: Unsupported value: "Always"`,
		},
		"bad agent ports": {
			minimal + "mesos: {agents: [{hostname: n0, cpus: 1, mem: 1, ports: \"[9-1]\"}]}\n",
			`mesos.agents[0].ports: Invalid value: "[9-1]"`,
		},
		"not YAML": {
			"nodes: [",
			`scenario is not valid YAML`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Decode([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error, want one containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// TestExamplesDecode: the scenarios shipped in examples/ are valid.
func TestExamplesDecode(t *testing.T) {
	for _, f := range []string{"../../examples/demo.yaml", "../../examples/drf-paper.yaml"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(data); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestObjects(t *testing.T) {
	sc, err := Decode([]byte(`
nodes:
  - name: cpu
    count: 2
    capacity: {cpu: 8, memory: 32Gi}
    labels: {kubernetes.io/arch: arm64}
  - name: gpu
    capacity: {cpu: 4, memory: 16Gi, nvidia.com/gpu: 2, pods: 10}
namespaces:
  - {name: ml, role: eng/ml, weight: 2}
  - {name: web}
workloads:
  - namespace: ml
    name: train
    replicas: 11
    requests: {cpu: 1, nvidia.com/gpu: 1}
    priority: 7
  - {namespace: web, name: front, requests: {memory: 1Gi}, schedulerName: default-scheduler}
`))
	if err != nil {
		t.Fatal(err)
	}
	nodes := sc.NodeObjects()
	var names []string
	for _, n := range nodes {
		names = append(names, n.Name)
	}
	if diff := cmp.Diff([]string{"cpu-1", "cpu-2", "gpu"}, names); diff != "" {
		t.Errorf("node names (-want +got):\n%s", diff)
	}
	if got := nodes[0].Labels["kubernetes.io/arch"]; got != "arm64" {
		t.Errorf("arch label %q, want the scenario's arm64", got)
	}
	if got := nodes[2].Labels["kubernetes.io/arch"]; got != "amd64" {
		t.Errorf("arch label %q, want the default amd64", got)
	}
	if got := nodes[0].Status.Allocatable[v1.ResourcePods]; got.String() != "110" {
		t.Errorf("default pods %s, want 110", got.String())
	}
	if got := nodes[2].Status.Allocatable[v1.ResourcePods]; got.String() != "10" {
		t.Errorf("pods %s, want the scenario's 10", got.String())
	}
	nss := sc.NamespaceObjects()
	if got := nss[0].Annotations; got["kube-mesos.io/role"] != "eng/ml" || got["kube-mesos.io/weight"] != "2" {
		t.Errorf("namespace annotations %v", got)
	}
	if len(nss[1].Annotations) != 0 {
		t.Errorf("a namespace without role or weight gets annotations %v", nss[1].Annotations)
	}
	pods := sc.PodObjects()
	if len(pods) != 12 {
		t.Fatalf("%d pods, want 11 + 1", len(pods))
	}
	if pods[0].Name != "train-00" || pods[10].Name != "train-10" || pods[11].Name != "front-0" {
		t.Errorf("pod names %s, %s, %s", pods[0].Name, pods[10].Name, pods[11].Name)
	}
	c := pods[0].Spec.Containers[0].Resources
	if q := c.Limits["nvidia.com/gpu"]; q.Cmp(resource.MustParse("1")) != 0 {
		t.Errorf("an extended resource needs limit = request, got limits %v", c.Limits)
	}
	if _, ok := c.Limits[v1.ResourceCPU]; ok {
		t.Errorf("cpu must not get a limit: %v", c.Limits)
	}
	if pods[0].Spec.SchedulerName != SchedulerName || *pods[0].Spec.Priority != 7 {
		t.Errorf("scheduler %q priority %v", pods[0].Spec.SchedulerName, pods[0].Spec.Priority)
	}
	if pods[11].Spec.SchedulerName != "default-scheduler" {
		t.Errorf("schedulerName %q, want the scenario's", pods[11].Spec.SchedulerName)
	}
}

func TestAgentsMirrorNodes(t *testing.T) {
	sc, err := Decode([]byte(`
nodes:
  - name: gpu
    capacity: {cpu: 2500m, memory: 16Gi, nvidia.com/gpu: 2}
namespaces: [{name: a, weight: 3}, {name: b, role: a}]
mesos: {}
`))
	if err != nil {
		t.Fatal(err)
	}
	agents := sc.Agents()
	if len(agents) != 1 {
		t.Fatalf("agents %+v", agents)
	}
	a := agents[0]
	if a.Hostname != "gpu" || a.CPUs != 2.5 || a.Mem != 16384 || a.GPUs != 2 || a.Disk != defaultAgentDiskMiB ||
		a.Ports.String() != "[31000-32000]" {
		t.Errorf("agent %+v (ports %s)", a, a.Ports)
	}
	if diff := cmp.Diff(map[string]float64{"a": 3}, sc.RoleWeights()); diff != "" {
		t.Errorf("role weights (-want +got):\n%s", diff)
	}
}

func TestSchedulerConfig(t *testing.T) {
	sc, err := Decode([]byte(`
nodes: [{name: n0, capacity: {cpu: 1}}]
namespaces:
  - {name: a, quota: {min: {cpu: 1}, max: {cpu: 2, nvidia.com/gpu: 0}}}
  - {name: b, role: a, quota: {max: {cpu: 3}}}
  - {name: c}
drf: {resources: [cpu, memory, nvidia.com/gpu], excludedResourceNames: [nvidia.com/gpu]}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		master, source string
	}{{"", "Embedded"}, {"http://127.0.0.1:5050", "Mesos"}} {
		var urls map[string]string
		if tc.master != "" {
			urls = map[string]string{SourceMesos: tc.master}
		}
		out, err := sc.SchedulerConfig(urls)
		if err != nil {
			t.Fatal(err)
		}
		var cfg struct {
			Kind     string `json:"kind"`
			Profiles []struct {
				SchedulerName string `json:"schedulerName"`
				PluginConfig  []struct {
					Name string         `json:"name"`
					Args map[string]any `json:"args"`
				} `json:"pluginConfig"`
			} `json:"profiles"`
		}
		if err := yaml.Unmarshal([]byte(out), &cfg); err != nil {
			t.Fatal(err)
		}
		if cfg.Kind != "KubeSchedulerConfiguration" || len(cfg.Profiles) != 1 || cfg.Profiles[0].SchedulerName != SchedulerName {
			t.Fatalf("config %s", out)
		}
		args := map[string]map[string]any{}
		for _, pc := range cfg.Profiles[0].PluginConfig {
			args[pc.Name] = pc.Args
		}
		if got := args["MesosOffers"]["source"]; got != tc.source {
			t.Errorf("source %v, want %s", got, tc.source)
		}
		if tc.master != "" {
			if got := args["MesosOffers"]["mesos"].(map[string]any)["master"]; got != tc.master {
				t.Errorf("master %v", got)
			}
		}
		wantRoles := []any{map[string]any{
			"name":      "a",
			"guarantee": map[string]any{"cpu": "1"},
			"limit":     map[string]any{"cpu": "5", "nvidia.com/gpu": "0"},
		}}
		if diff := cmp.Diff(wantRoles, args["DRF"]["roles"]); diff != "" {
			t.Errorf("DRF roles: quotas of namespaces of one role are summed, zero kept (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]any{"nvidia.com/gpu"}, args["DRF"]["excludedResourceNames"]); diff != "" {
			t.Errorf("excludedResourceNames (-want +got):\n%s", diff)
		}
	}
}

// TestSeveralMasters: mesos.masters makes one source per master, selecting
// the nodes of its agents by LabelMaster, and the embedded allocator for
// the rest; each node of the report is named by its source; an agent
// without resources mirrors its node.
func TestSeveralMasters(t *testing.T) {
	sc, err := Decode([]byte(`
nodes:
  - {name: a, count: 2, capacity: {cpu: 4, memory: 8Gi}}
  - {name: b, capacity: {cpu: 8, memory: 16Gi}}
  - {name: plain, capacity: {cpu: 2, memory: 4Gi}}
namespaces: [{name: x}]
mesos:
  masters:
    - name: dc1
      agents: [{hostname: a-1}, {hostname: a-2}]
    - name: dc2
      agents: [{hostname: b, cpus: 6, mem: 12288}]
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a-1": "dc1", "a-2": "dc1", "b": "dc2", "plain": SourceEmbedded}
	if diff := cmp.Diff(want, sc.NodeSources()); diff != "" {
		t.Errorf("node sources (-want +got):\n%s", diff)
	}
	for _, n := range sc.NodeObjects() {
		if got, wantLabel := n.Labels[LabelMaster], map[string]string{"a-1": "dc1", "a-2": "dc1", "b": "dc2"}[n.Name]; got != wantLabel {
			t.Errorf("node %s labelled %q, want %q", n.Name, got, wantLabel)
		}
	}
	agents := sc.MasterAgents()
	if len(agents["dc1"]) != 2 || agents["dc1"][0].CPUs != 4 || agents["dc1"][0].Mem != 8192 || agents["dc2"][0].CPUs != 6 || agents["dc2"][0].Mem != 12288 {
		t.Errorf("agents %+v", agents)
	}
	out, err := sc.SchedulerConfig(map[string]string{"dc1": "http://m1:5050", "dc2": "http://m2:5050"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"sources:", "name: dc1", "simulate.kube-mesos.io/mesos-master: dc1", "master: http://m2:5050",
		"frameworkIDConfigMap: default/kube-mesos-scheduler-framework-dc2", "type: Embedded"} {
		if !strings.Contains(out, s) {
			t.Errorf("config lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "source: ") {
		t.Errorf("config sets source with sources:\n%s", out)
	}
}

// TestSeveralMastersInvalid: each mistake in mesos.masters names its field.
func TestSeveralMastersInvalid(t *testing.T) {
	for _, tc := range []struct{ masters, want string }{
		{`[{name: dc1, agents: [{hostname: nope}]}]`, "mesos.masters[0].agents[0].hostname: Not found"},
		{`[{name: dc1, agents: [{hostname: node-1}]}, {name: dc2, agents: [{hostname: node-1}]}]`, "mesos.masters[1].agents[0].hostname: Invalid value"},
		{`[{name: dc1, agents: [{hostname: node-1}]}, {name: dc1, agents: [{hostname: node-2}]}]`, "mesos.masters[1].name: Duplicate"},
		{`[{name: embedded, agents: [{hostname: node-1}]}]`, "mesos.masters[0].name"},
		{`[{name: DC1, agents: [{hostname: node-1}]}]`, "mesos.masters[0].name"},
		{`[{name: dc1, agents: []}]`, "mesos.masters[0].agents: Required"},
	} {
		_, err := Decode([]byte(`
nodes: [{name: node, count: 2, capacity: {cpu: 1}}]
namespaces: [{name: x}]
mesos:
  masters: ` + tc.masters + "\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("masters %s: error %v, want one naming %q", tc.masters, err, tc.want)
		}
	}
	_, err := Decode([]byte(`
nodes: [{name: node-1, capacity: {cpu: 1}}]
namespaces: [{name: x}]
mesos: {agents: [{hostname: node-1, cpus: 1, mem: 1}], masters: [{name: dc1, agents: [{hostname: node-1}]}]}
`))
	if err == nil || !strings.Contains(err.Error(), "mesos.agents: Forbidden") {
		t.Errorf("agents with masters: %v", err)
	}
}
