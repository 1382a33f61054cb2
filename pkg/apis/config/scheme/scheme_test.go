package scheme

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	schedconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"
	kubeschedulerscheme "k8s.io/kubernetes/pkg/scheduler/apis/config/scheme"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
)

func decode(t *testing.T, pluginConfig string) (*schedconfig.KubeSchedulerConfiguration, error) {
	t.Helper()
	data := `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
  - schedulerName: kube-mesos-scheduler
    plugins:
      multiPoint:
        enabled:
          - name: MesosOffers
          - name: DRF
          - name: Hetero
    pluginConfig:
` + pluginConfig
	obj, _, err := kubeschedulerscheme.Codecs.UniversalDecoder().Decode([]byte(data), nil, nil)
	if err != nil {
		return nil, err
	}
	return obj.(*schedconfig.KubeSchedulerConfiguration), nil
}

func args(cfg *schedconfig.KubeSchedulerConfiguration, name string) any {
	for _, pc := range cfg.Profiles[0].PluginConfig {
		if pc.Name == name {
			return pc.Args
		}
	}
	return nil
}

func TestDefaults(t *testing.T) {
	cfg, err := decode(t, "      - name: DRF\n        args: {}\n")
	if err != nil {
		t.Fatal(err)
	}
	got := args(cfg, "DRF").(*config.DRFArgs)
	want := &config.DRFArgs{
		Resources:  []v1.ResourceName{"cpu", "memory", "nvidia.com/gpu", "amd.com/gpu", "gpu.intel.com/i915"},
		Preemption: config.PreemptionFairShare, FairSharePreemptionDelay: metav1.Duration{Duration: 5 * time.Second},
	}
	if diff := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".TypeMeta" }, cmp.Ignore())); diff != "" {
		t.Errorf("DRF defaults (-want +got):\n%s", diff)
	}
	// Plugins without a pluginConfig entry get defaulted args too.
	offers, ok := args(cfg, "MesosOffers").(*config.MesosOffersArgs)
	if !ok {
		t.Fatalf("MesosOffers args: %T", args(cfg, "MesosOffers"))
	}
	if offers.Source != config.OfferSourceEmbedded || offers.AllocationInterval.Duration != time.Second ||
		offers.RefuseSeconds != 5 || offers.OfferTimeout.Duration != 30*time.Second ||
		!cmp.Equal(offers.DefaultPortRanges, []string{"1-65535"}) || offers.Mesos != nil {
		t.Errorf("MesosOffers defaults: %+v", offers)
	}
	hetero := args(cfg, "Hetero").(*config.HeteroArgs)
	if hetero.AcceleratorNodePolicy != config.AcceleratorNodePrefer || hetero.Weights.Packing != 3 || len(hetero.AcceleratorResources) != 3 {
		t.Errorf("Hetero defaults: %+v", hetero)
	}
}

func TestMesosDefaults(t *testing.T) {
	cfg, err := decode(t, "      - name: MesosOffers\n        args:\n          source: Mesos\n          mesos:\n            master: zk://127.0.0.1:2181/mesos\n")
	if err != nil {
		t.Fatal(err)
	}
	m := args(cfg, "MesosOffers").(*config.MesosOffersArgs).Mesos
	want := &config.MesosMasterConfig{
		Master: "zk://127.0.0.1:2181/mesos", FrameworkName: "kube-mesos-scheduler", User: "nobody",
		FailoverTimeout: metav1.Duration{Duration: 7 * 24 * time.Hour}, GPUResources: true,
		Encoding: config.MesosEncodingProtobuf, PlaceholderCommand: "while true; do sleep 3600; done",
		FrameworkIDConfigMap: "kube-system/kube-mesos-scheduler-framework",
		ReconcileInterval:    metav1.Duration{Duration: 15 * time.Minute}, MissedHeartbeats: 5,
		OrphanPodPolicy: config.OrphanPodRelaunch, TaskGonePolicy: config.TaskGoneEvict,
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("Mesos defaults (-want +got):\n%s", diff)
	}
}

func TestStrictDecoding(t *testing.T) {
	for _, tc := range []struct{ name, cfg, want string }{
		{"unknown field", "      - name: DRF\n        args:\n          wieght: 2\n", `unknown field "wieght"`},
		{"unknown nested field", "      - name: DRF\n        args:\n          roles:\n            - name: a\n              limits: {}\n", `unknown field "roles[0].limits"`},
		{"wrong type", "      - name: MesosOffers\n        args:\n          refuseSeconds: soon\n", "refuseSeconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(t, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestWeightNumberOrString: a role's weight may be written as a number
// (weight: 2 — it used to stop the scheduler with "cannot unmarshal number
// … of type string") or as a string; both decode to the decimal's text.
// Anything else is refused, naming the weight.
func TestWeightNumberOrString(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"2", "2", ""},
		{"0.5", "0.5", ""},
		{`"2.5"`, "2.5", ""},
		{"1e3", "1000", ""}, // YAML reads the float 1e3, JSON carries 1000
		{"[2]", "", "weight must be a decimal number"},
		{"{a: 1}", "", "weight must be a decimal number"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			cfg, err := decode(t, "      - name: DRF\n        args:\n          roles:\n            - name: a\n              weight: "+tc.in+"\n")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := args(cfg, "DRF").(*config.DRFArgs).Roles[0].Weight
			if got != tc.want {
				t.Errorf("weight %q, want %q", got, tc.want)
			}
		})
	}
}

// TestSourcesDefaults: with sources, source is left unset, each Mesos
// source's mesos block gets the defaults, and its framework ID ConfigMap is
// its own (kube-system/kube-mesos-scheduler-framework-NAME: two masters'
// IDs in one ConfigMap would overwrite each other).
func TestSourcesDefaults(t *testing.T) {
	cfg, err := decode(t, `      - name: MesosOffers
        args:
          sources:
          - name: dc1
            type: Mesos
            nodeSelector: {mesos.example.com/cluster: dc1}
            mesos: {master: "http://m1:5050"}
          - name: dc2
            type: Mesos
            nodeSelector: {mesos.example.com/cluster: dc2}
            mesos: {master: "http://m2:5050", frameworkIDConfigMap: ops/fw-dc2}
          - name: rest
            type: Embedded
`)
	if err != nil {
		t.Fatal(err)
	}
	a := args(cfg, "MesosOffers").(*config.MesosOffersArgs)
	if a.Source != "" || a.Mesos != nil || len(a.Sources) != 3 {
		t.Fatalf("args: source %q, mesos %v, %d sources", a.Source, a.Mesos, len(a.Sources))
	}
	dc1, dc2, rest := a.Sources[0], a.Sources[1], a.Sources[2]
	if dc1.Mesos.FrameworkIDConfigMap != "kube-system/kube-mesos-scheduler-framework-dc1" || dc2.Mesos.FrameworkIDConfigMap != "ops/fw-dc2" {
		t.Errorf("framework ID ConfigMaps %q, %q", dc1.Mesos.FrameworkIDConfigMap, dc2.Mesos.FrameworkIDConfigMap)
	}
	if dc1.Mesos.FrameworkName != "kube-mesos-scheduler" || dc1.Mesos.Encoding != config.MesosEncodingProtobuf || dc1.Mesos.MissedHeartbeats != 5 {
		t.Errorf("dc1's mesos not defaulted: %+v", dc1.Mesos)
	}
	if dc1.NodeSelector["mesos.example.com/cluster"] != "dc1" || rest.Type != config.OfferSourceEmbedded || rest.Mesos != nil {
		t.Errorf("sources: %+v, %+v", dc1, rest)
	}
}
