package hardware

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSummarize(t *testing.T) {
	got := Summarize([]NodeUsage{
		{Model: "H100", Capacity: 8, Used: 8}, // full
		{Model: "H100", Capacity: 8, Used: 4}, // fragmented
		{Model: "H100", Capacity: 8, Used: 0}, // whole node free
		{Model: "A100", Capacity: 8, Used: 1}, // fragmented
		{Model: "A100", Capacity: 4, Used: 9}, // over-requested: counts as full
		{Model: "", Capacity: 2, Used: -1},    // unknown model, negative use as 0
		{Model: "none", Capacity: 0, Used: 0}, // no accelerators: not counted
	})
	want := map[string]Stats{
		"H100":       {Capacity: 24, Allocated: 12, FragmentedNodes: 1, LargestFreeBlock: 8},
		"A100":       {Capacity: 12, Allocated: 5, FragmentedNodes: 1, LargestFreeBlock: 7},
		UnknownModel: {Capacity: 2, Allocated: 0, FragmentedNodes: 0, LargestFreeBlock: 2},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	if len(Summarize(nil)) != 0 {
		t.Errorf("stats of no nodes")
	}
}
