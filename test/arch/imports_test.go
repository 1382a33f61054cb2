// Package arch checks the never-rules of docs/ARCHITECTURE.md on the import
// graph `go list` reports for the whole module: what each package imports in
// its product code (test files are not product code and may import anything).
package arch

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/kube-mesos/kube-mesos-scheduler"

type pkg struct {
	ImportPath string
	Imports    []string
}

// graph returns every package of the module with its product imports,
// paths relative to the module ("pkg/cluster"; others stay whole).
func graph(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", module+"/...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	rel := func(p string) string {
		if p == module {
			return "."
		}
		return strings.TrimPrefix(p, module+"/")
	}
	g := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		imps := make([]string, 0, len(p.Imports))
		for _, i := range p.Imports {
			imps = append(imps, rel(i))
		}
		g[rel(p.ImportPath)] = imps
	}
	return g
}

func under(p string, prefixes ...string) bool {
	for _, x := range prefixes {
		if p == x || strings.HasPrefix(p, x+"/") {
			return true
		}
	}
	return false
}

// plugin returns the plugin a package belongs to ("drf" for
// pkg/plugins/drf/...), or "" (the registry and pkg/plugins/internal are
// shared by all plugins, not one).
func plugin(p string) string {
	rest, ok := strings.CutPrefix(p, "pkg/plugins/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	if name == "internal" {
		return ""
	}
	return name
}

// pure are the policy packages: pure functions over values.
var pure = []string{"pkg/resources", "pkg/roles", "pkg/quota", "pkg/fair"}

// TestNeverRules: each rule names the packages it applies to and what they
// must never import; a violation names the package and the import.
func TestNeverRules(t *testing.T) {
	g := graph(t)
	// The rules below would pass vacuously on an empty or foreign graph.
	for _, want := range []string{"cmd/scheduler", "pkg/cluster", "pkg/plugins/drf", "pkg/plugins/offers", "pkg/plugins/hetero",
		"pkg/allocator", "pkg/mesos", "pkg/quota", "pkg/fair", "internal/controlplane", "internal/mesosemulator", "test/harness"} {
		if _, ok := g[want]; !ok {
			t.Fatalf("go list does not report %s: not this module's graph", want)
		}
	}
	rules := []struct {
		name    string
		applies func(p string) bool
		never   func(p, imp string) bool
	}{{
		name:    "product code never imports test code",
		applies: func(p string) bool { return !under(p, "test") },
		never:   func(_, imp string) bool { return under(imp, "test") },
	}, {
		name:    "the simulator's control plane and Mesos emulator are linked by the simulator only",
		applies: func(p string) bool { return !under(p, "test", "pkg/simulate/runner", "cmd/simulate", "internal") },
		never:   func(_, imp string) bool { return under(imp, "internal/controlplane", "internal/mesosemulator") },
	}, {
		name:    "plugins do not import each other",
		applies: func(p string) bool { return plugin(p) != "" },
		never:   func(p, imp string) bool { return plugin(imp) != "" && plugin(imp) != plugin(p) },
	}, {
		name: "offer sources, the shared state and the hardware model know no plugin",
		applies: func(p string) bool {
			return under(p, "pkg/allocator", "pkg/mesos", "pkg/cluster", "pkg/offer", "pkg/hardware")
		},
		never: func(_, imp string) bool { return under(imp, "pkg/plugins") },
	}, {
		name:    "policy packages are pure: no state, source, plugin or API client",
		applies: func(p string) bool { return under(p, pure...) },
		never: func(_, imp string) bool {
			own := under(imp, "pkg", "cmd", "internal", "test") // one of ours
			return (own && !under(imp, pure...)) || under(imp, "k8s.io/client-go", "k8s.io/kubernetes")
		},
	}, {
		name:    "only pkg/mesos and the emulator speak to Mesos (mesos-go)",
		applies: func(p string) bool { return !under(p, "pkg/mesos", "internal/mesosemulator", "test") },
		never:   func(_, imp string) bool { return under(imp, "github.com/mesos/mesos-go") },
	}}
	for _, r := range rules {
		for p, imps := range g {
			if !r.applies(p) {
				continue
			}
			for _, imp := range imps {
				if r.never(p, imp) {
					t.Errorf("%s: %s imports %s", r.name, p, imp)
				}
			}
		}
	}
}

// TestPolicyHomes: each policy is defined once and its users reach it
// through its package (docs/ARCHITECTURE.md, "Where each policy lives").
func TestPolicyHomes(t *testing.T) {
	g := graph(t)
	uses := []struct{ user, home, policy string }{
		{"pkg/cluster", "pkg/quota", "limits and guarantees (the DRF gate)"},
		{"pkg/fair", "pkg/quota", "limits and guarantees (the allocator's filling, the Mesos-mode plan)"},
		{"pkg/allocator", "pkg/fair", "weighted DRF progressive filling"},
		{"pkg/cluster", "pkg/fair", "fair targets"},
		{"pkg/plugins/drf", "pkg/quota", "quota verdicts in the DRF plugin's reasons"},
		{"pkg/plugins/offers", "pkg/offer", "the offer book"},
		{"pkg/plugins/hetero", "pkg/hardware", "hardware admission and score"},
		{"pkg/cluster", "pkg/roles", "the H-DRF order"},
	}
	for _, u := range uses {
		if !slices.Contains(g[u.user], u.home) {
			t.Errorf("%s does not import %s: %s must come from there", u.user, u.home, u.policy)
		}
	}
}
