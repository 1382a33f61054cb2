package resources

import (
	"math"
	"testing"

	v1 "k8s.io/api/core/v1"
)

func TestDominantShare(t *testing.T) {
	cm := []v1.ResourceName{"cpu", "memory"}
	total := Vector{"cpu": 9000, "memory": 18 << 30}
	for _, tc := range []struct {
		name    string
		alloc   Vector
		total   Vector
		counted []v1.ResourceName
		want    float64
		wantRes v1.ResourceName
	}{
		// The DRF paper's example: A <1 CPU, 4 GiB> per task, B <3 CPU, 1 GiB>.
		{"paper A, 3 tasks", Vector{"cpu": 3000, "memory": 12 << 30}, total, cm, 2.0 / 3, "memory"},
		{"paper B, 2 tasks", Vector{"cpu": 6000, "memory": 2 << 30}, total, cm, 2.0 / 3, "cpu"},
		{"nothing allocated", Vector{}, total, cm, 0, ""},
		{"zero capacity ignored", Vector{"cpu": 1000, "nvidia.com/gpu": 1}, Vector{"cpu": 4000}, []v1.ResourceName{"cpu", "nvidia.com/gpu"}, 0.25, "cpu"},
		{"empty cluster", Vector{"cpu": 1000}, Vector{}, cm, 0, ""},
		{"uncounted resource ignored", Vector{"cpu": 1000, "memory": 18 << 30}, total, []v1.ResourceName{"cpu"}, 1.0 / 9, "cpu"},
		{"negative allocation ignored", Vector{"cpu": -1000}, total, cm, 0, ""},
		{"tie picks the first counted", Vector{"cpu": 4500, "memory": 9 << 30}, total, cm, 0.5, "cpu"},
		{"over-allocated", Vector{"cpu": 18000}, total, cm, 2, "cpu"},
		{"huge values", Vector{"memory": math.MaxInt64}, Vector{"memory": math.MaxInt64}, cm, 1, "memory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := DominantShare(tc.alloc, tc.total, tc.counted); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("DominantShare = %v, want %v", got, tc.want)
			}
			res, share := DominantResource(tc.alloc, tc.total, tc.counted)
			if res != tc.wantRes || math.Abs(share-tc.want) > 1e-12 {
				t.Errorf("DominantResource = %s %v, want %s %v", res, share, tc.wantRes, tc.want)
			}
		})
	}
}

func TestWeightedShareAndCounted(t *testing.T) {
	if got := WeightedShare(0.6, 2); got != 0.3 {
		t.Errorf("WeightedShare(0.6, 2) = %v", got)
	}
	if got := WeightedShare(0.6, 0); got != 0.6 {
		t.Errorf("a zero weight counts as 1: got %v", got)
	}
	got := Counted([]v1.ResourceName{"cpu", "memory", "nvidia.com/gpu"}, []v1.ResourceName{"nvidia.com/gpu", "disk"})
	if len(got) != 2 || got[0] != "cpu" || got[1] != "memory" {
		t.Errorf("Counted = %v", got)
	}
}

// TestDominantShareWith: the share of alloc + extra without building the
// sum equals DominantShare of the sum built with Plus.
func TestDominantShareWith(t *testing.T) {
	total := Vector{"cpu": 10000, "memory": 100}
	counted := []v1.ResourceName{"cpu", "memory"}
	for _, tc := range []struct{ alloc, extra Vector }{
		{Vector{"cpu": 1000}, Vector{"memory": 60}},
		{Vector{"cpu": 1000, "memory": 10}, Vector{"cpu": 2000}},
		{nil, Vector{"cpu": 500}},
		{Vector{"cpu": 3000}, nil},
		{Vector{"cpu": math.MaxInt64}, Vector{"cpu": 1}},
	} {
		want := DominantShare(tc.alloc.Plus(tc.extra), total, counted)
		if got := DominantShareWith(tc.alloc, tc.extra, total, counted); got != want {
			t.Errorf("DominantShareWith(%v, %v) = %v, want %v", tc.alloc, tc.extra, got, want)
		}
	}
}
