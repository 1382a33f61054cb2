package scheme

import (
	"strings"
	"testing"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config/validation"
)

// FuzzPluginArgs decodes arbitrary args blocks for the three plugins and
// validates them: no panic, and every failure is an error (with a field
// path when validation fails).
func FuzzPluginArgs(f *testing.F) {
	f.Add("DRF", "roles:\n  - name: eng/ml\n    weight: \"2\"\n    limit: {cpu: \"4\"}\n")
	f.Add("DRF", "resources: [cpu]\nexcludedResourceNames: [memory]\n")
	f.Add("MesosOffers", "source: Mesos\nmesos:\n  master: zk://a:1/mesos\n")
	f.Add("MesosOffers", "defaultPortRanges: [\"1-2\", \"x\"]\n")
	f.Add("Hetero", "weights: {model: -1}\n")
	f.Fuzz(func(t *testing.T, plugin, body string) {
		switch plugin {
		case "DRF", "MesosOffers", "Hetero":
		default:
			return
		}
		indented := "          " + strings.ReplaceAll(body, "\n", "\n          ")
		cfg, err := decode(t, "      - name: "+plugin+"\n        args:\n"+indented+"\n")
		if err != nil {
			return // a decoding error is a clean refusal
		}
		switch a := args(cfg, plugin).(type) {
		case *config.DRFArgs:
			_ = validation.ValidateDRFArgs(nil, a)
		case *config.MesosOffersArgs:
			_ = validation.ValidateMesosOffersArgs(nil, a)
		case *config.HeteroArgs:
			_ = validation.ValidateHeteroArgs(nil, a)
		default:
			t.Fatalf("args of %s decoded to %T", plugin, a)
		}
	})
}
