package fair

import (
	"fmt"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

var cm = []v1.ResourceName{"cpu", "memory"}

func vec(pairs ...string) resources.Vector {
	l := v1.ResourceList{}
	for i := 0; i+1 < len(pairs); i += 2 {
		l[v1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return resources.FromList(l)
}

func mkAgent(name string, free resources.Vector) *Agent {
	n := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}}}
	return &Agent{Name: name, Node: n, Alloc: free, Ports: resources.Ranges{{Begin: 1, End: 65535}}}
}

func mkDemand(role string, n int, req resources.Vector, edit func(*v1.Pod)) []Demand {
	var out []Demand
	for i := 0; i < n; i++ {
		p := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: role, Name: fmt.Sprint(i), UID: types.UID(fmt.Sprintf("%s-%d", role, i))}}
		if edit != nil {
			edit(p)
		}
		out = append(out, Demand{Pod: p, Req: req, Counted: req.Only(cm), Shape: req.String(), Ports: resources.HostPorts(p), Fit: NewPodFit(p)})
	}
	return out
}

func mkIn(agents []*Agent, roles map[string]*Role) *Input {
	in := &Input{Agents: agents, Roles: roles, Total: resources.Vector{}, Counted: cm}
	for _, a := range agents {
		in.Total.Add(a.Alloc)
	}
	for _, r := range roles {
		if r.Weight == 0 {
			r.Weight = 1
		}
		if r.Cap == 0 {
			r.Cap = -1
		}
	}
	Densify(in, func(a *Agent) Room { return Room{Capacity: a.Alloc} })
	return in
}

func pods(grants []*Grant) map[string]int {
	out := map[string]int{}
	for _, g := range grants {
		out[g.Role] += g.N
	}
	return out
}

// allocate runs Fill and returns its grants and reasons, as the tests read them.
func allocate(in *Input) ([]*Grant, map[types.UID]string) {
	out := Fill(in)
	return out.Grants, out.Why
}

// TestAllocatePaper: the DRF paper's example through the allocator alone.
func TestAllocatePaper(t *testing.T) {
	in := mkIn([]*Agent{mkAgent("n1", vec("cpu", "9", "memory", "18Gi"))}, map[string]*Role{
		"a": {Demand: mkDemand("a", 20, vec("cpu", "1", "memory", "4Gi"), nil)},
		"b": {Demand: mkDemand("b", 20, vec("cpu", "3", "memory", "1Gi"), nil)},
	})
	grants, why := allocate(in)
	if got := pods(grants); got["a"] != 3 || got["b"] != 2 {
		t.Fatalf("placed %v, want a:3 b:2", got)
	}
	if len(grants) != 2 {
		t.Errorf("want one offer per (agent, role), got %d grants", len(grants))
	}
	if w := why["a-5"]; !strings.Contains(w, "no node has room") {
		t.Errorf("why for an unplaced pod = %q", w)
	}
}

func TestAllocateWeightsLimitsGuarantees(t *testing.T) {
	one := vec("cpu", "1")
	t.Run("weighted", func(t *testing.T) {
		in := mkIn([]*Agent{mkAgent("n1", vec("cpu", "12", "memory", "1Ti"))}, map[string]*Role{
			"a": {Weight: 3, Demand: mkDemand("a", 20, one, nil)},
			"b": {Demand: mkDemand("b", 20, one, nil)},
		})
		grants, _ := allocate(in)
		if got := pods(grants); got["a"] != 9 || got["b"] != 3 {
			t.Errorf("placed %v, want a:9 b:3 (weights 3:1)", got)
		}
	})
	t.Run("limit", func(t *testing.T) {
		in := mkIn([]*Agent{mkAgent("n1", vec("cpu", "12", "memory", "1Ti"))}, map[string]*Role{
			"a": {Limit: vec("cpu", "2"), Demand: mkDemand("a", 20, one, nil)},
			"b": {Demand: mkDemand("b", 20, one, nil)},
		})
		grants, why := allocate(in)
		if got := pods(grants); got["a"] != 2 || got["b"] != 10 {
			t.Errorf("placed %v, want a:2 (limit) b:10", got)
		}
		if why["a-3"] != "the role is at its limit" {
			t.Errorf("why = %q", why["a-3"])
		}
	})
	t.Run("guarantee first and kept free", func(t *testing.T) {
		in := mkIn([]*Agent{mkAgent("n1", vec("cpu", "10", "memory", "1Ti"))}, map[string]*Role{
			"g": {Guarantee: vec("cpu", "6"), Demand: mkDemand("g", 4, one, nil)},
			"o": {Demand: mkDemand("o", 20, one, nil)},
		})
		grants, _ := allocate(in)
		// g is served first up to its 4 pending pods; o may not take the 2
		// CPUs still guaranteed to g: o gets 10 - 4 - 2 = 4.
		if got := pods(grants); got["g"] != 4 || got["o"] != 4 {
			t.Errorf("placed %v, want g:4 o:4", got)
		}
	})
	t.Run("hierarchy", func(t *testing.T) {
		in := mkIn([]*Agent{mkAgent("n1", vec("cpu", "12", "memory", "1Ti"))}, map[string]*Role{
			"eng/ml":  {Demand: mkDemand("ml", 20, one, nil)},
			"eng/web": {Demand: mkDemand("web", 20, one, nil)},
			"ops":     {Demand: mkDemand("ops", 20, one, nil)},
		})
		grants, _ := allocate(in)
		if got := pods(grants); got["eng/ml"] != 3 || got["eng/web"] != 3 || got["ops"] != 6 {
			t.Errorf("placed %v, want 3/3/6", got)
		}
	})
}

func TestAllocateConstraintsPortsPacking(t *testing.T) {
	tainted := mkAgent("gpu", vec("cpu", "8", "memory", "8Gi"))
	tainted.Node.Spec.Taints = []v1.Taint{{Key: "dedicated", Value: "gpu", Effect: v1.TaintEffectNoSchedule}}
	tainted.Tainted = true
	zoned := mkAgent("zb", vec("cpu", "8", "memory", "8Gi"))
	zoned.Node.Labels["zone"] = "b"
	plain := mkAgent("plain", vec("cpu", "8", "memory", "8Gi"))
	plain.Ports = resources.Ranges{{Begin: 31000, End: 32000}}
	reserved := mkAgent("res", vec("cpu", "8", "memory", "8Gi"))
	reserved.ReservedFor = "owner"
	for _, a := range []*Agent{tainted, zoned, reserved} {
		a.Ports = resources.Ranges{{Begin: 1, End: 1000}}
	}
	in := mkIn([]*Agent{tainted, zoned, plain, reserved}, map[string]*Role{
		"tol": {Demand: mkDemand("tol", 1, vec("cpu", "1"), func(p *v1.Pod) {
			p.Spec.Tolerations = []v1.Toleration{{Key: "dedicated", Operator: v1.TolerationOpExists}}
			p.Spec.NodeSelector = map[string]string{"kubernetes.io/hostname": "gpu"}
		})},
		"sel": {Demand: mkDemand("sel", 2, vec("cpu", "1"), func(p *v1.Pod) { p.Spec.NodeSelector = map[string]string{"zone": "b"} })},
		"port": {Demand: mkDemand("port", 1, vec("cpu", "1"), func(p *v1.Pod) {
			p.Spec.Containers = []v1.Container{{Ports: []v1.ContainerPort{{HostPort: 31500}}}}
		})},
		"bad": {Demand: mkDemand("bad", 1, vec("cpu", "1"), func(p *v1.Pod) { p.Spec.NodeSelector = map[string]string{"zone": "nowhere"} })},
		"owner": {Demand: mkDemand("owner", 10, vec("cpu", "500m"), func(p *v1.Pod) {
			p.Spec.NodeSelector = map[string]string{"kubernetes.io/hostname": "res"}
		})},
	})
	grants, why := allocate(in)
	where := map[string]string{}
	perRole := map[string]int{}
	for _, g := range grants {
		where[g.Role] = g.Agent.Name
		perRole[g.Role]++
	}
	for role, want := range map[string]string{"tol": "gpu", "sel": "zb", "port": "plain", "owner": "res"} {
		if where[role] != want {
			t.Errorf("%s placed on %q, want %q", role, where[role], want)
		}
	}
	if perRole["owner"] != 1 || perRole["sel"] != 1 {
		t.Errorf("pods of a role on one agent must pack into one offer: %v", perRole)
	}
	if _, ok := where["bad"]; ok || !strings.Contains(why["bad-0"], "node selector") {
		t.Errorf("bad placed on %q, why %q", where["bad"], why["bad-0"])
	}
	for _, g := range grants {
		if g.Role == "port" && (len(g.Ports) != 1 || g.Ports[0] != 31500) {
			t.Errorf("port grant carries ports %v", g.Ports)
		}
	}
}

func TestAllocateFiltersAndTenPodsPerNode(t *testing.T) {
	a1, a2 := mkAgent("n1", vec("cpu", "10", "memory", "10Gi")), mkAgent("n2", vec("cpu", "10", "memory", "10Gi"))
	in := mkIn([]*Agent{a1, a2}, map[string]*Role{"r": {Demand: mkDemand("r", 20, vec("cpu", "1", "memory", "1Gi"), nil)}})
	grants, _ := allocate(in)
	if len(grants) != 2 || grants[0].N != 10 || grants[1].N != 10 {
		t.Fatalf("20 pods on 2 nodes: want 2 offers of 10 pods, got %d grants", len(grants))
	}
	b1, b2 := mkAgent("n1", vec("cpu", "10", "memory", "10Gi")), mkAgent("n2", vec("cpu", "10", "memory", "10Gi"))
	in = mkIn([]*Agent{b1, b2}, map[string]*Role{"r": {Demand: mkDemand("r", 20, vec("cpu", "1", "memory", "1Gi"), nil)}})
	in.Filtered = func(node, role string) bool { return node == "n1" && role == "r" }
	grants, why := allocate(in)
	if got := pods(grants); got["r"] != 10 || grants[0].Agent.Name != "n2" {
		t.Errorf("filtered n1: placed %v on %s", got, grants[0].Agent.Name)
	}
	if !strings.Contains(why["r-15"], "refuse filter") {
		t.Errorf("why = %q", why["r-15"])
	}
}

// TestAllocatePreemptorsFirst: room freed by a preemption goes to the
// preemptor on its nominated node, even when another role is lower.
func TestAllocatePreemptorsFirst(t *testing.T) {
	n1 := mkAgent("n1", vec("cpu", "2", "memory", "8Gi"))
	in := mkIn([]*Agent{n1}, map[string]*Role{
		"early": {Alloc: vec("cpu", "2"), Demand: mkDemand("early", 2, vec("cpu", "1"), nil)},
		"late": {Alloc: vec("cpu", "4"), Demand: mkDemand("late", 2, vec("cpu", "1"), func(p *v1.Pod) {
			if p.Name == "0" || p.Name == "1" {
				p.Status.NominatedNodeName = "n1"
			}
		})},
	})
	for i := range in.Roles["late"].Demand {
		in.Roles["late"].Demand[i].Nominated = "n1"
	}
	grants, _ := allocate(in)
	if got := pods(grants); got["late"] != 2 || got["early"] != 0 {
		t.Errorf("placed %v, want the two preemptors of late and nothing for early", got)
	}
}
