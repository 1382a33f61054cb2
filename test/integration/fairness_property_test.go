package integration

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	emulator "github.com/kube-mesos/kube-mesos-scheduler/internal/mesosemulator"
	"github.com/kube-mesos/kube-mesos-scheduler/test/harness"
)

var (
	propertySeedsEmbedded = flag.Int("fairness.seeds.embedded", 140, "seeds of the fairness property test with the embedded allocator")
	propertySeedsMesos    = flag.Int("fairness.seeds.mesos", 60, "seeds of the fairness property test against the Mesos master emulator")
	propertySeedBase      = flag.Uint64("fairness.seed", 1, "first seed of the fairness property test")
)

// A fairness property test: random clusters and tenants, pods arriving in
// random order over time, and after convergence every role must hold the
// pods weighted DRF gives it — computed here by progressive filling written
// for the test (the oracle), independently of pkg/fair.
//
// Scenarios are kept only where the answer is unambiguous ("tie-free"): the
// oracle gives the same counts over the cluster's aggregate capacity and
// node by node (first fit, nodes in two orders), and with ties between
// roles broken either way. So neither the order of arrivals, nor where the
// pods happened to land, nor a tie can make another answer fair.

// propRole is one tenant of a scenario.
type propRole struct {
	name     string
	weight   int
	cpu, mem int64 // per pod: millicores, MiB
	pods     int
}

type propScenario struct {
	nodes []([2]int64) // cpu millicores, memory MiB
	roles []propRole
}

// oracle is weighted DRF progressive filling at pod granularity: the role
// of lowest dominant share / weight (ties to the role first in ties, a
// permutation of the roles' indexes) gets its next pod if it fits — over
// the aggregate capacity (perNode false) or on the first node where it fits
// (nodes in order) — and a role whose pod fits nowhere is done.
func (s propScenario) oracle(perNode bool, ties []int, order []int) map[string]int {
	rank := make([]int, len(s.roles))
	for pos, i := range ties {
		rank[i] = pos
	}
	var total [2]int64
	free := make([][2]int64, len(s.nodes))
	for i, n := range s.nodes {
		total[0] += n[0]
		total[1] += n[1]
		free[i] = n
	}
	agg := total
	count := map[string]int{}
	done := map[string]bool{}
	for {
		best := -1
		var bestKey float64
		for i, r := range s.roles {
			if done[r.name] || count[r.name] >= r.pods {
				continue
			}
			n := float64(count[r.name])
			key := math.Max(n*float64(r.cpu)/float64(total[0]), n*float64(r.mem)/float64(total[1])) / float64(r.weight)
			better := best < 0 || key < bestKey-1e-12 ||
				(math.Abs(key-bestKey) <= 1e-12 && rank[i] < rank[best])
			if better {
				best, bestKey = i, key
			}
		}
		if best < 0 {
			return count
		}
		r := s.roles[best]
		placed := false
		if perNode {
			for _, i := range order {
				if free[i][0] >= r.cpu && free[i][1] >= r.mem {
					free[i][0] -= r.cpu
					free[i][1] -= r.mem
					placed = true
					break
				}
			}
		} else if agg[0] >= r.cpu && agg[1] >= r.mem {
			agg[0] -= r.cpu
			agg[1] -= r.mem
			placed = true
		}
		if !placed {
			done[r.name] = true
			continue
		}
		count[r.name]++
	}
}

// expected returns the oracle's counts when the scenario is tie-free: the
// same for every way of breaking ties between roles (all permutations),
// over the aggregate capacity and node by node (nodes in two orders).
func (s propScenario) expected() (map[string]int, bool) {
	fwd := make([]int, len(s.nodes))
	for i := range fwd {
		fwd[i] = i
	}
	rev := slices.Clone(fwd)
	slices.Reverse(rev)
	roles := make([]int, len(s.roles))
	for i := range roles {
		roles[i] = i
	}
	var want map[string]int
	for _, ties := range permutations(roles) {
		for _, c := range []map[string]int{s.oracle(false, ties, nil), s.oracle(true, ties, fwd), s.oracle(true, ties, rev)} {
			if want == nil {
				want = c
			}
			if !maps.Equal(c, want) {
				return nil, false
			}
		}
	}
	for _, r := range s.roles {
		if want[r.name] == 0 {
			return nil, false // a role left with nothing tells little
		}
	}
	if !s.packsAnyhow(want) {
		return nil, false
	}
	return want, true
}

// packsAnyhow reports whether the pods of an allocation fit the nodes
// whatever order they come in and wherever each lands, tried on 200
// random orders with three ways of choosing among the nodes where a pod
// fits: any of them at random, the first (packing, as an allocator filling
// one agent after another does), and the fullest (best fit). Then the
// order pods arrive in and where the scheduler put them cannot strand the
// room a role is owed. Moving pods of roles at their fair share to make
// room for another is defragmenting, which fair-share preemption does not
// do.
func (s propScenario) packsAnyhow(want map[string]int) bool {
	var pods [][2]int64
	for _, r := range s.roles {
		for i := 0; i < want[r.name]; i++ {
			pods = append(pods, [2]int64{r.cpu, r.mem})
		}
	}
	rng := rand.New(rand.NewPCG(uint64(len(pods)), 7))
	const (
		random = iota
		first
		fullest
	)
	for trial := 0; trial < 200; trial++ {
		rng.Shuffle(len(pods), func(i, j int) { pods[i], pods[j] = pods[j], pods[i] })
		for _, choose := range []int{random, first, fullest} {
			free := slices.Clone(s.nodes)
			for _, p := range pods {
				var fits []int
				for i, f := range free {
					if f[0] >= p[0] && f[1] >= p[1] {
						fits = append(fits, i)
					}
				}
				if len(fits) == 0 {
					return false
				}
				i := fits[0]
				switch choose {
				case random:
					i = fits[rng.IntN(len(fits))]
				case fullest:
					for _, j := range fits {
						// Least free room, as fractions of the node.
						fj := float64(free[j][0])/float64(s.nodes[j][0]) + float64(free[j][1])/float64(s.nodes[j][1])
						fi := float64(free[i][0])/float64(s.nodes[i][0]) + float64(free[i][1])/float64(s.nodes[i][1])
						if fj < fi {
							i = j
						}
					}
				}
				free[i][0] -= p[0]
				free[i][1] -= p[1]
			}
		}
	}
	return true
}

// permutations returns every order of xs.
func permutations(xs []int) [][]int {
	if len(xs) <= 1 {
		return [][]int{slices.Clone(xs)}
	}
	var out [][]int
	for i := range xs {
		rest := append(slices.Clone(xs[:i]), xs[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]int{xs[i]}, p...))
		}
	}
	return out
}

// randomScenario draws 2-4 roles (weights 1-3, one pod shape each) on 1-10
// nodes; with identical nodes when the master must offer whole agents of
// one kind (sameNodes).
func randomScenario(rng *rand.Rand, sameNodes bool) propScenario {
	var s propScenario
	nodes := 1 + rng.IntN(10)
	shape := [2]int64{int64(4+rng.IntN(13)) * 1000, int64(4+rng.IntN(29)) * 1024}
	for i := 0; i < nodes; i++ {
		if !sameNodes {
			shape = [2]int64{int64(4+rng.IntN(13)) * 1000, int64(4+rng.IntN(29)) * 1024}
		}
		s.nodes = append(s.nodes, shape)
	}
	for i := 0; i < 2+rng.IntN(3); i++ {
		s.roles = append(s.roles, propRole{
			name: fmt.Sprintf("r%d", i), weight: 1 + rng.IntN(3),
			cpu: int64(1+rng.IntN(4)) * 500, mem: int64(1+rng.IntN(8)) * 512, pods: 4 + rng.IntN(20),
		})
	}
	return s
}

// propertyCluster is what one mode needs to run scenarios one after the
// other on one control plane and scheduler.
type propertyCluster struct {
	e           *env
	addNode     func(t *testing.T, name string, cpu, mem int64)
	removeNodes func(t *testing.T, names []string)
}

// runScenario places a scenario's pods on fresh nodes and namespaces, in
// random order over time, and checks the bound counts after convergence;
// it then deletes its pods and nodes. It reports false for an outcome that
// differs from the oracle only by fragmentation (strandedRoles).
func runScenario(t *testing.T, pc *propertyCluster, rng *rand.Rand, seed uint64, s propScenario, want map[string]int) bool {
	t.Helper()
	e, c := pc.e, pc.e.cp.Client
	prefix := fmt.Sprintf("s%d", seed)
	var nodes []string
	for i, n := range s.nodes {
		name := fmt.Sprintf("%s-n%d", prefix, i)
		pc.addNode(t, name, n[0], n[1])
		nodes = append(nodes, name)
	}
	defer pc.removeNodes(t, nodes)
	var pods []*v1.Pod
	wantNS := map[string]int{}
	for _, r := range s.roles {
		ns := prefix + "-" + r.name
		if err := harness.CreateNamespace(e.ctx, c, ns, nil, map[string]string{"kube-mesos.io/weight": fmt.Sprint(r.weight)}); err != nil {
			t.Fatal(err)
		}
		wantNS[ns] = want[r.name]
		for i := 0; i < r.pods; i++ {
			pods = append(pods, harness.MakePod(ns, fmt.Sprintf("p%02d", i)).
				Req("cpu", fmt.Sprintf("%dm", r.cpu), "memory", fmt.Sprintf("%dMi", r.mem)).Obj())
		}
	}
	defer func() {
		// The next scenario starts on an empty cluster.
		for ns := range wantNS {
			_ = c.CoreV1().Pods(ns).DeleteCollection(e.ctx, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}, metav1.ListOptions{})
		}
		_ = harness.Poll(e.ctx, time.Minute, func(ctx context.Context) (bool, error) {
			for ns := range wantNS {
				if l, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); err != nil || len(l.Items) > 0 {
					return false, nil
				}
			}
			return true, nil
		})
	}()
	tenants, err := harness.WatchTenants(e.ctx, c, slices.Collect(maps.Keys(wantNS))...)
	if err != nil {
		t.Fatal(err)
	}
	defer tenants.Stop()
	// Arrivals in random order, spread over up to a second.
	rng.Shuffle(len(pods), func(i, j int) { pods[i], pods[j] = pods[j], pods[i] })
	gap := time.Duration(rng.IntN(40)) * time.Millisecond
	for _, p := range pods {
		if err := harness.CreatePods(e.ctx, c, p); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.Int64N(int64(gap) + 1)))
	}
	var got map[string]int
	var since time.Time
	err = wait.PollUntilContextTimeout(e.ctx, 100*time.Millisecond, 90*time.Second, true, func(context.Context) (bool, error) {
		got = tenants.Bound()
		if !maps.Equal(got, wantNS) {
			since = time.Time{}
			return false, nil
		}
		if since.IsZero() {
			since = time.Now()
		}
		return time.Since(since) >= 1500*time.Millisecond, nil
	})
	if err == nil {
		return true
	}
	if stranded := strandedRoles(t, e, prefix, s, got, wantNS); len(stranded) > 0 {
		t.Logf("seed %d: bound %v, want %v: fragmented — %v below the oracle have no node with room for a pod, and no role is above it", seed, got, wantNS, stranded)
		return false
	}
	t.Fatalf("seed %d: bound %v, want %v (oracle) on nodes %v, roles %+v", seed, got, wantNS, s.nodes, s.roles)
	return false
}

// strandedRoles tells a fragmented outcome from an unfair one: when no role
// holds more than the oracle gives it, and every role that holds less has
// no node whose free room (its allocatable minus the pods bound there)
// fits one more of its pods, the cluster's room is stranded in pieces too
// small for anyone — something only moving pods of roles at their fair
// share could fix, which fair-share preemption does not do. It returns
// those roles (none when the outcome is not that).
func strandedRoles(t *testing.T, e *env, prefix string, s propScenario, got, want map[string]int) []string {
	t.Helper()
	for ns, n := range got {
		if n > want[ns] {
			return nil
		}
	}
	free := map[string][2]int64{}
	for i, n := range s.nodes {
		free[fmt.Sprintf("%s-n%d", prefix, i)] = n
	}
	for _, r := range s.roles {
		list, err := e.cp.Client.CoreV1().Pods(prefix+"-"+r.name).List(e.ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range list.Items {
			if f, ok := free[p.Spec.NodeName]; ok {
				free[p.Spec.NodeName] = [2]int64{f[0] - r.cpu, f[1] - r.mem}
			}
		}
	}
	var stranded []string
	for _, r := range s.roles {
		ns := prefix + "-" + r.name
		if got[ns] >= want[ns] {
			continue
		}
		for _, f := range free {
			if f[0] >= r.cpu && f[1] >= r.mem {
				return nil // room for it: not fragmentation
			}
		}
		stranded = append(stranded, ns)
	}
	return stranded
}

// TestFairnessProperty runs random tie-free scenarios with the embedded
// allocator and against the Mesos master emulator, and compares what each
// role holds after convergence with the oracle.
func TestFairnessProperty(t *testing.T) {
	modes := []struct {
		name  string
		seeds int
		same  bool
		setup func(t *testing.T) *propertyCluster
	}{
		{"embedded", *propertySeedsEmbedded, false, func(t *testing.T) *propertyCluster {
			e := start(t, fairProfile("0s"))
			return &propertyCluster{e: e,
				addNode: func(t *testing.T, name string, cpu, mem int64) {
					n := harness.MakeNode(name).Capacity("cpu", fmt.Sprintf("%dm", cpu), "memory", fmt.Sprintf("%dMi", mem)).Obj()
					if err := harness.CreateNodes(e.ctx, e.cp.Client, n); err != nil {
						t.Fatal(err)
					}
				},
				removeNodes: func(t *testing.T, names []string) {
					for _, n := range names {
						_ = e.cp.Client.CoreV1().Nodes().Delete(e.ctx, n, metav1.DeleteOptions{})
					}
				}}
		}},
		{"mesos", *propertySeedsMesos, true, func(t *testing.T) *propertyCluster {
			e := start(t, "")
			m := startMesos(t, e, nil, emulator.Config{})
			e.sched = e.startScheduler(t, mesosProfile(m, "")+noDelayDRFArgs)
			return &propertyCluster{e: e,
				addNode: func(t *testing.T, name string, cpu, mem int64) {
					n := harness.MakeNode(name).Capacity("cpu", fmt.Sprintf("%dm", cpu), "memory", fmt.Sprintf("%dMi", mem)).Obj()
					if err := harness.CreateNodes(e.ctx, e.cp.Client, n); err != nil {
						t.Fatal(err)
					}
					if _, err := m.AddAgent(emulator.Agent{Hostname: name, Resources: emulator.Resources{
						CPUs: float64(cpu) / 1000, Mem: float64(mem), Disk: 100000, Ports: []emulator.PortRange{{Begin: 31000, End: 32000}},
					}}); err != nil {
						t.Fatal(err)
					}
				},
				removeNodes: func(t *testing.T, names []string) {
					for _, n := range names {
						_ = m.RemoveAgent(n)
						_ = e.cp.Client.CoreV1().Nodes().Delete(e.ctx, n, metav1.DeleteOptions{})
					}
				}}
		}},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			if mode.seeds == 0 {
				t.Skip("no seeds")
			}
			pc := mode.setup(t)
			ran, fragmented := 0, 0
			for seed := *propertySeedBase; ran < mode.seeds; seed++ {
				rng := rand.New(rand.NewPCG(seed, 0x5eed))
				s := randomScenario(rng, mode.same)
				want, ok := s.expected()
				if !ok {
					continue
				}
				ran++
				if !runScenario(t, pc, rng, seed, s, want) {
					fragmented++
				}
			}
			t.Logf("%d tie-free scenarios: %d agreed with the oracle, %d fragmented", ran, ran-fragmented, fragmented)
			// Fragmentation is the packing's, not fairness': tolerated, but
			// rare (the scenarios are chosen so that random, first-fit and
			// best-fit packings all fit).
			if limit := ran / 20; fragmented > limit {
				t.Errorf("%d of %d scenarios ended fragmented, more than 5 %% (%d)", fragmented, ran, limit)
			}
		})
	}
}

// noDelayDRFArgs are DRF's args with no fair-share preemption delay: the
// scenarios' pods arrive over a second at most, and the test checks where
// they end, not how many moves that took.
const noDelayDRFArgs = `      - name: DRF
        args:
          fairSharePreemptionDelay: 0s
`
