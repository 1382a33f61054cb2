package fair

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// targetPods returns the pods each role's target holds.
func targetPods(t *Targets) map[string]int {
	out := map[string]int{}
	for r, tg := range t.Roles {
		out[r] = tg.Pods
	}
	return out
}

func group(n int, bound bool, pairs ...string) PodGroup {
	return PodGroup{Req: vec(pairs...), Count: n, Bound: bound}
}

// TestTargetsPaperAndWeights: the DRF paper's example and weighted DRF,
// each derived by hand.
func TestTargetsPaperAndWeights(t *testing.T) {
	cases := []struct {
		name     string
		capacity resources.Vector
		roles    map[string]*TargetRole
		want     map[string]int
	}{{
		// ⟨9 CPU, 18 GiB⟩; a's task ⟨1, 4⟩ adds 2/9 to its dominant share
		// (memory), b's ⟨3, 1⟩ adds 1/3 (cpu). Filling: a 2/9, b 1/3, a 4/9,
		// b 2/3, a 2/3; then a needs 4 GiB of the 4 left but no CPU is
		// left, b needs 3 CPUs: done at a 3, b 2 (the paper's answer).
		name:     "DRF paper",
		capacity: vec("cpu", "9", "memory", "18Gi"),
		roles: map[string]*TargetRole{
			"a": {Groups: []PodGroup{group(20, false, "cpu", "1", "memory", "4Gi")}},
			"b": {Groups: []PodGroup{group(20, false, "cpu", "3", "memory", "1Gi")}},
		},
		want: map[string]int{"a": 3, "b": 2},
	}, {
		// The same with a weighted 3: a's task adds 2/27 to its weighted
		// share, b's 9/27. a is served at 0, 2/27, 4/27, 6/27 (reaching
		// 8/27) while b sits at 9/27 after one task; a fifth task of a
		// needs 4 GiB of the 1 left, b's second 3 CPUs of the 2 left.
		name:     "weighted",
		capacity: vec("cpu", "9", "memory", "18Gi"),
		roles: map[string]*TargetRole{
			"a": {Weight: 3, Groups: []PodGroup{group(20, false, "cpu", "1", "memory", "4Gi")}},
			"b": {Groups: []PodGroup{group(20, false, "cpu", "3", "memory", "1Gi")}},
		},
		want: map[string]int{"a": 4, "b": 1},
	}, {
		// ⟨48 CPU, 96 GiB⟩, a weight 3 with ⟨2, 1⟩ tasks (1/24 each, 1/72
		// weighted), b weight 1 with ⟨1, 4⟩ tasks (1/24 each). Weighted
		// shares stay level at a = 3·b tasks; CPU binds at 2a + b = 48.
		// At a 20, b 7 (47 CPUs) a is lower (20/72 < 21/72) but needs 2
		// CPUs of the 1 left; b takes it: a 20, b 8.
		name:     "weights 3:1 on one big agent",
		capacity: vec("cpu", "48", "memory", "96Gi"),
		roles: map[string]*TargetRole{
			"a": {Weight: 3, Groups: []PodGroup{group(40, false, "cpu", "2", "memory", "1Gi")}},
			"b": {Weight: 1, Groups: []PodGroup{group(40, false, "cpu", "1", "memory", "4Gi")}},
		},
		want: map[string]int{"a": 20, "b": 8},
	}, {
		// A role asking less than its share keeps what it asks; the rest
		// goes to the other (work conserving): 10 CPUs, a asks 2.
		name:     "work conserving",
		capacity: vec("cpu", "10", "memory", "100Gi"),
		roles: map[string]*TargetRole{
			"a": {Groups: []PodGroup{group(2, false, "cpu", "1")}},
			"b": {Groups: []PodGroup{group(20, false, "cpu", "1")}},
		},
		want: map[string]int{"a": 2, "b": 8},
	}, {
		// Limits and guarantees: 12 CPUs; a limited to 3, g guaranteed 6
		// with 7 pods asked; o takes the rest: g gets its 6 first (below a
		// guarantee comes first), a 3, then o and g share what is left
		// (3 CPUs): g is at 6/12 already, o at 0 → o 3.
		name:     "limit and guarantee",
		capacity: vec("cpu", "12", "memory", "100Gi"),
		roles: map[string]*TargetRole{
			"a": {Limit: vec("cpu", "3"), Groups: []PodGroup{group(10, false, "cpu", "1")}},
			"g": {Guarantee: vec("cpu", "6"), Groups: []PodGroup{group(7, false, "cpu", "1")}},
			"o": {Groups: []PodGroup{group(10, false, "cpu", "1")}},
		},
		want: map[string]int{"a": 3, "g": 6, "o": 3},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := targetPods(Compute(&TargetInput{Total: tc.capacity, Capacity: tc.capacity, Counted: cm, Roles: tc.roles}))
			for r, n := range tc.want {
				if got[r] != n {
					t.Errorf("targets %v, want %v", got, tc.want)
					break
				}
			}
		})
	}
}

// TestTargetsPreferPlaced: 50 roles of 20 one-CPU pods on 160 CPUs give
// every role 3 or 4 (160 / 50 = 3.2): ten roles get a fourth pod. Between
// equal shares the role whose next pod is placed already goes first, so
// the ten roles that hold pods get the fourth: no eviction is needed for it.
func TestTargetsPreferPlaced(t *testing.T) {
	capacity := vec("cpu", "160", "memory", "640Gi")
	roles := map[string]*TargetRole{}
	for i := 0; i < 50; i++ {
		name := fmt.Sprintf("ns-%02d", i)
		if i >= 40 { // the last ten hold 16 pods each (160 CPUs in all)
			roles[name] = &TargetRole{Groups: []PodGroup{group(16, true, "cpu", "1", "memory", "1Gi"), group(4, false, "cpu", "1", "memory", "1Gi")}}
		} else {
			roles[name] = &TargetRole{Groups: []PodGroup{group(20, false, "cpu", "1", "memory", "1Gi")}}
		}
	}
	got := targetPods(Compute(&TargetInput{Total: capacity, Capacity: capacity, Counted: cm, Roles: roles}))
	sum := 0
	for r, n := range got {
		sum += n
		want := 3
		if r >= "ns-40" {
			want = 4
		}
		if n != want {
			t.Errorf("%s: target %d pods, want %d", r, n, want)
		}
	}
	if sum != 160 {
		t.Errorf("targets hold %d pods, want all 160 CPUs used", sum)
	}
}

// TestBulkMatchesPodByPod: filling grouped demands (whole groups taken at
// once where the pod-by-pod loop would give them in a row) ends exactly
// where filling the same pods one by one does, over random roles, weights,
// shapes and capacities.
func TestBulkMatchesPodByPod(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for seed := 0; seed < 300; seed++ {
		capacity := resources.Vector{"cpu": int64(4000 + rng.IntN(60000)), "memory": int64(4+rng.IntN(120)) << 30}
		grouped := map[string]*TargetRole{}
		for r := 0; r < 2+rng.IntN(5); r++ {
			tr := &TargetRole{Weight: float64(1 + rng.IntN(3))}
			if rng.IntN(5) == 0 {
				tr.Limit = resources.Vector{"cpu": int64(1000 * (1 + rng.IntN(20)))}
			}
			for g := 0; g < 1+rng.IntN(3); g++ {
				req := resources.Vector{"cpu": int64(250 * (1 + rng.IntN(12))), "memory": int64(1+rng.IntN(8)) << 29}
				tr.Groups = append(tr.Groups, PodGroup{Req: req, Count: 1 + rng.IntN(30), Bound: rng.IntN(3) == 0})
			}
			grouped[fmt.Sprintf("r%d", r)] = tr
		}
		single := map[string]*TargetRole{}
		for name, tr := range grouped {
			s := &TargetRole{Weight: tr.Weight, Limit: tr.Limit}
			for _, g := range tr.Groups {
				for i := 0; i < g.Count; i++ {
					s.Groups = append(s.Groups, PodGroup{Req: g.Req, Count: 1, Bound: g.Bound})
				}
			}
			single[name] = s
		}
		a := Compute(&TargetInput{Total: capacity, Capacity: capacity, Counted: cm, Roles: grouped})
		b := Compute(&TargetInput{Total: capacity, Capacity: capacity, Counted: cm, Roles: single})
		for name := range grouped {
			if ta, tb := a.Roles[name], b.Roles[name]; ta.Pods != tb.Pods || !ta.Alloc.Equal(tb.Alloc) {
				t.Fatalf("seed %d role %s: grouped %d pods %v, one by one %d pods %v", seed, name, ta.Pods, ta.Alloc, tb.Pods, tb.Alloc)
			}
		}
	}
}

// TestTargetVerdicts: Compare and Admits against a target, at its edges.
func TestTargetVerdicts(t *testing.T) {
	capacity := vec("cpu", "9", "memory", "18Gi")
	tg := Compute(&TargetInput{Total: capacity, Capacity: capacity, Counted: cm, Roles: map[string]*TargetRole{
		"a": {Groups: []PodGroup{group(20, false, "cpu", "1", "memory", "4Gi")}},
		"b": {Groups: []PodGroup{group(20, false, "cpu", "3", "memory", "1Gi")}},
	}})
	apod := vec("cpu", "1", "memory", "4Gi")
	three := vec("cpu", "3", "memory", "12Gi")
	for _, c := range []struct {
		role  string
		alloc resources.Vector
		want  Verdict
	}{
		{"a", resources.Vector{}, Below},
		{"a", three, At},
		{"a", three.Plus(apod), Above},
		{"c", resources.Vector{}, Unknown},
	} {
		if got := tg.Compare(c.role, c.alloc); got != c.want {
			t.Errorf("Compare(%s, %v) = %v, want %v", c.role, c.alloc, got, c.want)
		}
	}
	if !tg.Admits("a", vec("cpu", "2", "memory", "8Gi"), apod) || tg.Admits("a", three, apod) {
		t.Error("a's third pod is within its target, its fourth is not")
	}
}

// TestAllFitMatchesFilling: when every pod fits the capacity together, the
// targets written down without filling (computeAllFit) are those the
// filling computes — pods, allocation and shares — on random uncongested
// inputs (capacity drawn at or above the sum of all requests, sometimes
// exactly at it); and computeAllFit declines whenever some pod would not
// fit or a role has a guarantee or a limit.
func TestAllFitMatchesFilling(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	fast := 0
	for seed := 0; seed < 500; seed++ {
		roles := map[string]*TargetRole{}
		sum := resources.Vector{}
		for r := 0; r < 1+rng.IntN(8); r++ {
			tr := &TargetRole{Weight: float64(1 + rng.IntN(3))}
			for g := 0; g < rng.IntN(4); g++ {
				req := resources.Vector{"cpu": int64(250 * (1 + rng.IntN(12))), "memory": int64(1+rng.IntN(8)) << 29}
				if rng.IntN(4) == 0 {
					req["nvidia.com/gpu"] = int64(1 + rng.IntN(4))
				}
				n := rng.IntN(20)
				tr.Groups = append(tr.Groups, PodGroup{Req: req, Count: n, Bound: rng.IntN(3) == 0, Prio: int32(rng.IntN(2))})
				sum.AddScaled(req, int64(n))
			}
			switch rng.IntN(12) {
			case 0:
				tr.Limit = resources.Vector{"cpu": int64(1000 * (1 + rng.IntN(20)))}
			case 1:
				tr.Guarantee = resources.Vector{"cpu": int64(1000 * (1 + rng.IntN(4)))}
			}
			roles[fmt.Sprintf("r%d", r)] = tr
		}
		// Capacity: the sum of all requests, plus a random margin or
		// (one in four) minus a little, so that some inputs do not fit.
		capacity := resources.Vector{"cpu": 1000, "memory": 1 << 30, "nvidia.com/gpu": 0}
		capacity.Add(sum)
		switch rng.IntN(4) {
		case 0:
			capacity["memory"] -= int64(1+rng.IntN(3)) << 29
		case 1:
			capacity = sum.Clone() // exactly full
		default:
			capacity["cpu"] += int64(rng.IntN(10000))
		}
		total := capacity.Clone()
		total["cpu"] += int64(rng.IntN(5000)) // shares of a larger total
		cmp := []v1.ResourceName{"cpu", "memory", "nvidia.com/gpu"}
		if rng.IntN(3) == 0 {
			cmp = cmp[:2] // GPUs asked for but not counted in shares
		}
		in := &TargetInput{Total: total, Capacity: capacity, Counted: cmp, Roles: roles}
		filled := computeFill(in)
		got := computeAllFit(in)
		fits, quota := sum.Fits(capacity), false
		for _, r := range roles {
			quota = quota || len(r.Limit) > 0 || len(r.Guarantee) > 0
		}
		if got == nil {
			if fits && !quota {
				t.Fatalf("seed %d: everything fits and no quota, but computeAllFit declined", seed)
			}
			continue
		}
		if !fits || quota {
			t.Fatalf("seed %d: computeAllFit answered though fits=%v quota=%v", seed, fits, quota)
		}
		fast++
		for name := range roles {
			a, b := got.Roles[name], filled.Roles[name]
			if a.Pods != b.Pods || a.Asked != b.Asked || !a.Alloc.Equal(b.Alloc) || math.Abs(a.Share-b.Share) > Epsilon || math.Abs(a.Key-b.Key) > Epsilon {
				t.Fatalf("seed %d role %s: all-fit %+v, filling %+v", seed, name, a, b)
			}
		}
	}
	if fast < 100 {
		t.Errorf("only %d of 500 inputs took the all-fit path: the test draws too few", fast)
	}
}
