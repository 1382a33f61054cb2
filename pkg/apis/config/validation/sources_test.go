package validation

import (
	"testing"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
)

// twoMasters is a valid list: two masters claiming disjoint nodes (one
// label key, two values) and the embedded allocator for the rest.
func twoMasters() []config.OfferSourceConfig {
	dc1, dc2 := validMesos(), validMesos()
	dc1.Master, dc1.FrameworkIDConfigMap = "http://dc1:5050", "kube-system/fw-dc1"
	dc2.Master, dc2.FrameworkIDConfigMap = "zk://z1:2181/dc2", "kube-system/fw-dc2"
	return []config.OfferSourceConfig{
		{Name: "dc1", Type: config.OfferSourceMesos, NodeSelector: map[string]string{"mesos.example.com/cluster": "dc1"}, Mesos: dc1},
		{Name: "dc2", Type: config.OfferSourceMesos, NodeSelector: map[string]string{"mesos.example.com/cluster": "dc2", "rack": "r1"}, Mesos: dc2},
		{Name: "local", Type: config.OfferSourceEmbedded},
	}
}

// TestValidateSources: every way a list of sources can be wrong is
// refused with the field's path; the valid forms pass.
func TestValidateSources(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(a *config.MesosOffersArgs)
		want   string
	}{
		{"two masters and embedded", func(a *config.MesosOffersArgs) {}, ""},
		{"one master alone selects every node", func(a *config.MesosOffersArgs) {
			a.Sources = a.Sources[:1]
			a.Sources[0].NodeSelector = nil
		}, ""},
		{"embedded alone", func(a *config.MesosOffersArgs) { a.Sources = a.Sources[2:] }, ""},
		{"with source too", func(a *config.MesosOffersArgs) { a.Source = config.OfferSourceEmbedded }, "source: Forbidden"},
		{"with mesos too", func(a *config.MesosOffersArgs) { a.Mesos = validMesos() }, "mesos: Forbidden"},
		{"no name", func(a *config.MesosOffersArgs) { a.Sources[1].Name = "" }, "sources[1].name"},
		{"name not a label", func(a *config.MesosOffersArgs) { a.Sources[1].Name = "DC_2" }, "sources[1].name"},
		{"duplicate name", func(a *config.MesosOffersArgs) { a.Sources[2].Name = "dc1" }, "sources[2].name: Duplicate"},
		{"bad type", func(a *config.MesosOffersArgs) { a.Sources[2].Type = "Yarn" }, "sources[2].type: Unsupported"},
		{"two embedded", func(a *config.MesosOffersArgs) {
			a.Sources = append(a.Sources, config.OfferSourceConfig{Name: "more", Type: config.OfferSourceEmbedded})
		}, "sources[3].type"},
		{"embedded with a selector", func(a *config.MesosOffersArgs) { a.Sources[2].NodeSelector = map[string]string{"a": "b"} }, "sources[2].nodeSelector: Forbidden"},
		{"mesos without mesos", func(a *config.MesosOffersArgs) { a.Sources[0].Mesos = nil }, "sources[0].mesos: Required"},
		{"mesos field checked", func(a *config.MesosOffersArgs) { a.Sources[1].Mesos.Master = "dc2:5050" }, "sources[1].mesos.master"},
		{"same master twice", func(a *config.MesosOffersArgs) { a.Sources[1].Mesos.Master = a.Sources[0].Mesos.Master }, "sources[1].mesos.master: Duplicate"},
		{"same framework ID ConfigMap", func(a *config.MesosOffersArgs) {
			a.Sources[1].Mesos.FrameworkIDConfigMap = "kube-system/fw-dc1"
		}, "sources[1].mesos.frameworkIDConfigMap: Duplicate"},
		{"master without selector among several", func(a *config.MesosOffersArgs) { a.Sources[0].NodeSelector = nil }, "sources[0].nodeSelector: Required"},
		// {cluster: dc1} and {rack: r1} both match a node labelled with
		// both: nothing keeps them apart.
		{"overlapping selectors", func(a *config.MesosOffersArgs) {
			a.Sources[1].NodeSelector = map[string]string{"rack": "r1"}
		}, "sources[1].nodeSelector: Invalid"},
		// {cluster: dc1} is a subset of {cluster: dc1, rack: r1}.
		{"one selector inside another", func(a *config.MesosOffersArgs) {
			a.Sources[1].NodeSelector = map[string]string{"mesos.example.com/cluster": "dc1", "rack": "r1"}
		}, "sources[1].nodeSelector: Invalid"},
		{"bad label value", func(a *config.MesosOffersArgs) {
			a.Sources[0].NodeSelector = map[string]string{"mesos.example.com/cluster": "dc 1"}
		}, "sources[0].nodeSelector"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := validOffers()
			a.Source = ""
			a.Sources = twoMasters()
			tc.mutate(a)
			check(t, ValidateMesosOffersArgs(nil, a), tc.want)
		})
	}
}

// TestOfferSources: the form without sources becomes one named source.
func TestOfferSources(t *testing.T) {
	a := validOffers()
	if got := a.OfferSources(); len(got) != 1 || got[0].Name != "embedded" || got[0].Type != config.OfferSourceEmbedded {
		t.Errorf("embedded args: sources %+v", got)
	}
	a.Source, a.Mesos = config.OfferSourceMesos, validMesos()
	if got := a.OfferSources(); len(got) != 1 || got[0].Name != "mesos" || got[0].Mesos != a.Mesos || len(got[0].NodeSelector) != 0 {
		t.Errorf("mesos args: sources %+v", got)
	}
	a.Source, a.Mesos, a.Sources = "", nil, twoMasters()
	if got := a.OfferSources(); len(got) != 3 || got[1].Name != "dc2" {
		t.Errorf("sources: %+v", got)
	}
}
