package roles

import (
	"fmt"
	"math"
	"sort"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

var cm = []v1.ResourceName{"cpu", "memory"}

func paperSorter() *Sorter {
	return NewSorter(resources.Vector{"cpu": 9000, "memory": 18 << 30}, cm)
}

// TestSorterPaperProgressiveFilling replays the DRF paper's example through
// Min: repeatedly give the lowest-share role one task while it fits. The
// result must be the paper's: A 3 tasks, B 2, both at share 2/3.
func TestSorterPaperProgressiveFilling(t *testing.T) {
	s := paperSorter()
	task := map[string]resources.Vector{
		"a": {"cpu": 1000, "memory": 4 << 30},
		"b": {"cpu": 3000, "memory": 1 << 30},
	}
	free := s.Total().Clone()
	s.SetActive("a", true)
	s.SetActive("b", true)
	got := map[string]int{}
	for {
		r, ok := s.Min()
		if !ok {
			break
		}
		if !task[r].Fits(free) {
			s.SetActive(r, false)
			continue
		}
		free.Sub(task[r])
		s.Allocate(r, task[r])
		got[r]++
	}
	if got["a"] != 3 || got["b"] != 2 {
		t.Fatalf("tasks = %v, want a:3 b:2", got)
	}
	for _, r := range []string{"a", "b"} {
		if d, _ := s.Share(r); math.Abs(d-2.0/3) > 1e-9 {
			t.Errorf("share of %s = %v, want 2/3", r, d)
		}
	}
}

func TestSorterWeights(t *testing.T) {
	s := paperSorter()
	s.Allocate("a", resources.Vector{"cpu": 3000}) // share 1/3
	s.Allocate("b", resources.Vector{"cpu": 2000}) // share 2/9
	if !s.Less("b", "a") {
		t.Fatal("b (2/9) must come before a (1/3)")
	}
	s.SetWeight("a", 2) // a: 1/6 < b: 2/9
	if !s.Less("a", "b") {
		t.Fatal("with weight 2, a (1/6) must come before b (2/9)")
	}
	if _, k := s.Share("a"); math.Abs(k-1.0/6) > 1e-12 {
		t.Errorf("key of a = %v, want 1/6", k)
	}
	s.SetWeight("a", 0) // non-positive means 1
	if s.Weight("a") != 1 {
		t.Errorf("weight 0 should become 1, got %v", s.Weight("a"))
	}
}

func TestSorterTiesAreByName(t *testing.T) {
	s := paperSorter()
	for _, r := range []string{"c", "a", "b"} {
		s.SetActive(r, true)
	}
	var order []string
	for {
		r, ok := s.Min()
		if !ok {
			break
		}
		order = append(order, r)
		s.SetActive(r, false)
	}
	if fmt.Sprint(order) != "[a b c]" {
		t.Errorf("order = %v, want [a b c]", order)
	}
}

// TestSorterHierarchy: children split their parent's share. eng (weight 1)
// holds eng/ml and eng/web; ops (weight 1) is alone. With eng's subtree at
// share 4/9 and ops at 3/9, ops comes before any eng role, however small the
// eng child's own share is.
func TestSorterHierarchy(t *testing.T) {
	s := paperSorter()
	s.Allocate("eng/ml", resources.Vector{"cpu": 3000})  // 1/3
	s.Allocate("eng/web", resources.Vector{"cpu": 1000}) // 1/9
	s.Allocate("ops", resources.Vector{"cpu": 3000})     // 1/3
	if !s.Less("ops", "eng/web") {
		t.Error("ops (1/3) before eng/web: eng's subtree is at 4/9")
	}
	if !s.Less("eng/web", "eng/ml") {
		t.Error("inside eng, web (1/9) before ml (1/3)")
	}
	// Weighting eng by 2 puts its subtree at 2/9, ahead of ops.
	s.SetWeight("eng", 2)
	if !s.Less("eng/ml", "ops") {
		t.Error("with eng weighted 2, eng/ml comes before ops")
	}
	// A role with its own pods and children: its own allocation competes
	// with its children as a weight-1 sibling.
	s.Allocate("eng", resources.Vector{"cpu": 500})
	if !s.Less("eng", "eng/web") {
		t.Error("eng's own pods (1/18) before eng/web (1/9)")
	}
	for _, r := range []string{"eng/ml", "eng/web", "ops", "eng"} {
		s.SetActive(r, true)
	}
	if r, _ := s.Min(); r != "eng" {
		t.Errorf("Min = %s, want eng", r)
	}
	s.SetActive("eng", false)
	if r, _ := s.Min(); r != "eng/web" {
		t.Errorf("Min = %s, want eng/web", r)
	}
	if a := s.SubtreeAllocation("eng"); a["cpu"] != 4500 {
		t.Errorf("subtree of eng = %v", a)
	}
}

func TestSorterSetTotalAndUnallocate(t *testing.T) {
	s := paperSorter()
	s.Allocate("a", resources.Vector{"cpu": 3000})
	s.Allocate("b", resources.Vector{"memory": 9 << 30})
	s.SetActive("a", true)
	s.SetActive("b", true)
	if r, _ := s.Min(); r != "a" { // a 1/3 < b 1/2
		t.Fatalf("Min = %s, want a", r)
	}
	s.SetTotal(resources.Vector{"cpu": 4000, "memory": 18 << 30}) // a 3/4 > b 1/2
	if r, _ := s.Min(); r != "b" {
		t.Fatalf("after SetTotal Min = %s, want b", r)
	}
	s.Unallocate("a", resources.Vector{"cpu": 3000})
	if r, _ := s.Min(); r != "a" {
		t.Fatalf("after Unallocate Min = %s, want a", r)
	}
	if d, _ := s.Share("a"); d != 0 {
		t.Errorf("share after unallocating everything = %v", d)
	}
}

// TestSorterMinMatchesSort checks Min against a full sort by Compare on
// many random allocations and activity patterns.
func TestSorterMinMatchesSort(t *testing.T) {
	s := NewSorter(resources.Vector{"cpu": 100000, "memory": 100000}, cm)
	names := []string{"a", "b", "a/x", "a/y", "b/z/q", "c", "c/d", "e"}
	seed := uint64(7)
	next := func(n uint64) uint64 { seed = seed*6364136223846793005 + 1442695040888963407; return (seed >> 33) % n }
	for round := 0; round < 500; round++ {
		r := names[next(uint64(len(names)))]
		s.Allocate(r, resources.Vector{"cpu": int64(next(500)), "memory": int64(next(500))})
		s.SetActive(names[next(uint64(len(names)))], next(2) == 0)
		if next(10) == 0 {
			s.SetWeight(names[next(uint64(len(names)))], float64(1+next(4)))
		}
		var active []string
		for _, n := range names {
			if s.Active(n) {
				active = append(active, n)
			}
		}
		got, ok := s.Min()
		if len(active) == 0 {
			if ok {
				t.Fatalf("round %d: Min = %s with nothing active", round, got)
			}
			continue
		}
		sort.Slice(active, func(i, j int) bool { return s.Less(active[i], active[j]) })
		if got != active[0] {
			t.Fatalf("round %d: Min = %s, sorted first = %s (%v)", round, got, active[0], active)
		}
	}
}

func TestSorterWalkMatchesCompare(t *testing.T) {
	s := NewSorter(resources.Vector{"cpu": 1000}, cm)
	names := []string{"a", "b", "a/x", "a/y", "b/z/q", "c", "c/d", "e", "a/x/deep"}
	for i, n := range names {
		s.Allocate(n, resources.Vector{"cpu": int64((i * 37) % 11)})
		s.SetActive(n, i%3 != 1)
	}
	s.SetWeight("a", 3)
	var walked []string
	s.Walk(func(r string) bool { walked = append(walked, r); return true })
	var active []string
	for _, n := range names {
		if s.Active(n) {
			active = append(active, n)
		}
	}
	sort.Slice(active, func(i, j int) bool { return s.Less(active[i], active[j]) })
	if fmt.Sprint(walked) != fmt.Sprint(active) {
		t.Fatalf("Walk = %v, sorted = %v", walked, active)
	}
	var first []string
	s.Walk(func(r string) bool { first = append(first, r); return len(first) < 2 })
	if len(first) != 2 || first[0] != active[0] || first[1] != active[1] {
		t.Errorf("early stop: %v", first)
	}
	if r, _ := s.Min(); r != active[0] {
		t.Errorf("Min = %s, Walk starts with %s", r, active[0])
	}
}
