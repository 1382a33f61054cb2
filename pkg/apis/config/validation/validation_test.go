package validation

import (
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
)

func validOffers() *config.MesosOffersArgs {
	return &config.MesosOffersArgs{
		Source:             config.OfferSourceEmbedded,
		AllocationInterval: metav1.Duration{Duration: time.Second},
		RefuseSeconds:      5,
		OfferTimeout:       metav1.Duration{Duration: 30 * time.Second},
		AcceptBatchWindow:  metav1.Duration{Duration: 50 * time.Millisecond},
		DefaultPortRanges:  []string{"1-65535"},
	}
}

func validMesos() *config.MesosMasterConfig {
	return &config.MesosMasterConfig{
		Master: "http://m1:5050,m2:5050", FrameworkName: "f", User: "nobody",
		FailoverTimeout: metav1.Duration{Duration: time.Hour}, Encoding: config.MesosEncodingProtobuf,
		PlaceholderCommand: "sleep 1", FrameworkIDConfigMap: "kube-system/fw",
		ReconcileInterval: metav1.Duration{Duration: time.Minute}, MissedHeartbeats: 5,
		OrphanPodPolicy: config.OrphanPodRelaunch, TaskGonePolicy: config.TaskGoneEvict,
	}
}

func TestValidateMesosOffersArgs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*config.MesosOffersArgs)
		want   string // "" = valid
	}{
		{"defaults", func(*config.MesosOffersArgs) {}, ""},
		{"mesos", func(a *config.MesosOffersArgs) { a.Source = config.OfferSourceMesos; a.Mesos = validMesos() }, ""},
		{"zk master", func(a *config.MesosOffersArgs) {
			a.Source, a.Mesos = config.OfferSourceMesos, validMesos()
			a.Mesos.Master = "zk://z1:2181,z2:2181/mesos"
		}, ""},
		{"bad source", func(a *config.MesosOffersArgs) { a.Source = "Marathon" }, "source"},
		{"mesos without config", func(a *config.MesosOffersArgs) { a.Source = config.OfferSourceMesos }, "mesos: Required"},
		{"zero interval", func(a *config.MesosOffersArgs) { a.AllocationInterval.Duration = 0 }, "allocationInterval"},
		{"negative refuse", func(a *config.MesosOffersArgs) { a.RefuseSeconds = -1 }, "refuseSeconds"},
		{"negative timeout", func(a *config.MesosOffersArgs) { a.OfferTimeout.Duration = -time.Second }, "offerTimeout"},
		{"window above interval", func(a *config.MesosOffersArgs) { a.AcceptBatchWindow.Duration = 2 * time.Second }, "acceptBatchWindow"},
		{"timeout under window", func(a *config.MesosOffersArgs) { a.OfferTimeout.Duration = 10 * time.Millisecond }, "offerTimeout"},
		{"bad ports", func(a *config.MesosOffersArgs) { a.DefaultPortRanges = []string{"80", "70000"} }, "defaultPortRanges[1]"},
		{"master without scheme", func(a *config.MesosOffersArgs) {
			a.Source, a.Mesos = config.OfferSourceMesos, validMesos()
			a.Mesos.Master = "m1:5050"
		}, "mesos.master"},
		{"zk without path", func(a *config.MesosOffersArgs) {
			a.Source, a.Mesos = config.OfferSourceMesos, validMesos()
			a.Mesos.Master = "zk://z1:2181"
		}, "mesos.master"},
		{"host without port", func(a *config.MesosOffersArgs) {
			a.Source, a.Mesos = config.OfferSourceMesos, validMesos()
			a.Mesos.Master = "http://m1"
		}, "mesos.master"},
		{"secret without principal", func(a *config.MesosOffersArgs) {
			a.Source, a.Mesos = config.OfferSourceMesos, validMesos()
			a.Mesos.SecretFile = "/etc/secret"
		}, "mesos.principal"},
		{"bad encoding", func(a *config.MesosOffersArgs) {
			a.Source, a.Mesos = config.OfferSourceMesos, validMesos()
			a.Mesos.Encoding = "XML"
		}, "mesos.encoding"},
		{"bad configmap", func(a *config.MesosOffersArgs) {
			a.Source, a.Mesos = config.OfferSourceMesos, validMesos()
			a.Mesos.FrameworkIDConfigMap = "fw"
		}, "mesos.frameworkIDConfigMap"},
		{"zero heartbeats", func(a *config.MesosOffersArgs) {
			a.Source, a.Mesos = config.OfferSourceMesos, validMesos()
			a.Mesos.MissedHeartbeats = 0
		}, "mesos.missedHeartbeats"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := validOffers()
			tc.mutate(a)
			check(t, ValidateMesosOffersArgs(nil, a), tc.want)
		})
	}
}

func TestValidateDRFArgs(t *testing.T) {
	q := resource.MustParse
	valid := func() *config.DRFArgs {
		return &config.DRFArgs{Resources: []v1.ResourceName{"cpu", "memory", "nvidia.com/gpu"}, Preemption: config.PreemptionFairShare}
	}
	for _, tc := range []struct {
		name   string
		mutate func(*config.DRFArgs)
		want   string
	}{
		{"defaults", func(*config.DRFArgs) {}, ""},
		{"roles", func(a *config.DRFArgs) {
			a.Roles = []config.RoleConfig{{Name: "eng/ml", Weight: "2.5",
				Guarantee: v1.ResourceList{"cpu": q("2")}, Limit: v1.ResourceList{"cpu": q("8")}}}
		}, ""},
		{"no resources", func(a *config.DRFArgs) { a.Resources = nil }, "resources: Required"},
		{"excluded not counted", func(a *config.DRFArgs) { a.ExcludedResourceNames = []v1.ResourceName{"disk"} }, "excludedResourceNames[0]"},
		{"everything excluded", func(a *config.DRFArgs) { a.ExcludedResourceNames = a.Resources }, "excludes every resource"},
		{"bad role", func(a *config.DRFArgs) { a.Roles = []config.RoleConfig{{Name: "eng//ml"}} }, "roles[0].name"},
		{"reserved role", func(a *config.DRFArgs) { a.Roles = []config.RoleConfig{{Name: "*"}} }, "roles[0].name"},
		{"duplicate role", func(a *config.DRFArgs) { a.Roles = []config.RoleConfig{{Name: "a"}, {Name: "a"}} }, "roles[1].name: Duplicate"},
		{"zero weight", func(a *config.DRFArgs) { a.Roles = []config.RoleConfig{{Name: "a", Weight: "0"}} }, "roles[0].weight"},
		{"text weight", func(a *config.DRFArgs) { a.Roles = []config.RoleConfig{{Name: "a", Weight: "heavy"}} }, "roles[0].weight"},
		{"NaN weight", func(a *config.DRFArgs) { a.Roles = []config.RoleConfig{{Name: "a", Weight: "NaN"}} }, "roles[0].weight"},
		{"negative limit", func(a *config.DRFArgs) {
			a.Roles = []config.RoleConfig{{Name: "a", Limit: v1.ResourceList{"cpu": q("-1")}}}
		}, "roles[0].limit[cpu]"},
		{"guarantee over limit", func(a *config.DRFArgs) {
			a.Roles = []config.RoleConfig{{Name: "a", Guarantee: v1.ResourceList{"cpu": q("4")}, Limit: v1.ResourceList{"cpu": q("2")}}}
		}, "roles[0].guarantee[cpu]"},
		{"quota on uncounted resource", func(a *config.DRFArgs) {
			a.Roles = []config.RoleConfig{{Name: "a", Limit: v1.ResourceList{"pods": q("2")}}}
		}, "roles[0].limit[pods]"},
		{"bad preemption", func(a *config.DRFArgs) { a.Preemption = "Sometimes" }, "preemption"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := valid()
			tc.mutate(a)
			check(t, ValidateDRFArgs(nil, a), tc.want)
		})
	}
}

func TestValidateHeteroArgs(t *testing.T) {
	valid := func() *config.HeteroArgs {
		return &config.HeteroArgs{AcceleratorResources: []v1.ResourceName{"nvidia.com/gpu"}, AcceleratorNodePolicy: config.AcceleratorNodeStrict,
			Weights: config.HeteroWeights{Model: 3, Memory: 2, Packing: 3, IdleAccelerators: 4, Architecture: 1}}
	}
	for _, tc := range []struct {
		name   string
		mutate func(*config.HeteroArgs)
		want   string
	}{
		{"valid", func(*config.HeteroArgs) {}, ""},
		{"not extended", func(a *config.HeteroArgs) { a.AcceleratorResources = []v1.ResourceName{"cpu"} }, "acceleratorResources[0]"},
		{"bad policy", func(a *config.HeteroArgs) { a.AcceleratorNodePolicy = "Maybe" }, "acceleratorNodePolicy"},
		{"negative weight", func(a *config.HeteroArgs) { a.Weights.Packing = -1 }, "weights.packing"},
		{"huge weight", func(a *config.HeteroArgs) { a.Weights.Model = 1000 }, "weights.model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := valid()
			tc.mutate(a)
			check(t, ValidateHeteroArgs(nil, a), tc.want)
		})
	}
}

func check(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Errorf("no error, want one naming %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("error %q does not name %q", err, want)
	}
}
