package hardware

import (
	"math"
	"testing"
)

var defaultWeights = Weights{Model: 3, Memory: 2, Packing: 3, Idle: 4, Arch: 1}

func models(t *testing.T, s string) []Model {
	t.Helper()
	m, err := parseModels(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestScore(t *testing.T) {
	h100 := model("h", "NVIDIA-H100-80GB-HBM3", "81920", "hopper") // 80 GiB
	a100 := model("a", "NVIDIA-A100-SXM4-40GB", "40960", "ampere") // 40 GiB
	cpu := Build(Sources{Node: kubeNode("c", map[string]string{"kubernetes.io/arch": "amd64"})})
	arm := Build(Sources{Node: kubeNode("r", map[string]string{"kubernetes.io/arch": "arm64"})})
	unknownMem := model("u", "NVIDIA-H100", "", "")
	both := models(t, "H100,A100")
	eight := Usage{Capacity: 8}
	for _, tc := range []struct {
		name string
		need Needs
		node *Node
		use  Usage
		w    Weights
		want int64
	}{
		// Accelerator pods: model (3) and packing (3).
		{"first model, empty node", Needs{GPUs: 1, Models: both}, h100, eight, defaultWeights, 56},         // (3*1 + 3*1/8)/6
		{"second model, empty node", Needs{GPUs: 1, Models: both}, a100, eight, defaultWeights, 31},        // (3*1/2 + 3*1/8)/6
		{"second model, partly used", Needs{GPUs: 1, Models: both}, a100, Usage{8, 6}, defaultWeights, 69}, // (1.5 + 3*7/8)/6
		{"unlisted model", Needs{GPUs: 1, Models: models(t, "V100")}, h100, eight, defaultWeights, 6},      // (0 + 0.375)/6
		// Memory (2) and packing (3): the least waste wins at equal use.
		{"enough memory, least waste", Needs{GPUs: 4, MinMemory: 30 << 30}, a100, eight, defaultWeights, 60},  // (2*0.75 + 3*0.5)/5
		{"enough memory, more waste", Needs{GPUs: 4, MinMemory: 30 << 30}, h100, eight, defaultWeights, 45},   // (2*0.375 + 1.5)/5
		{"exact memory", Needs{GPUs: 8, MinMemory: 40 << 30}, a100, eight, defaultWeights, 100},               // (2*1 + 3*1)/5
		{"too little memory", Needs{GPUs: 1, MinMemory: 60 << 30}, a100, eight, defaultWeights, 8},            // (0 + 0.375)/5
		{"unknown memory", Needs{GPUs: 1, MinMemory: 1}, unknownMem, eight, defaultWeights, 8},                //
		{"packing only: partly used first", Needs{GPUs: 1}, h100, Usage{8, 5}, defaultWeights, 75},            // 6/8
		{"packing only: empty node", Needs{GPUs: 1}, h100, eight, defaultWeights, 13},                         // 1/8
		{"packing: fills the node", Needs{GPUs: 2}, h100, Usage{8, 6}, defaultWeights, 100},                   //
		{"packing: more used than capacity", Needs{GPUs: 1}, h100, Usage{8, 12}, defaultWeights, 100},         // clamped
		{"packing: negative use", Needs{GPUs: 1}, h100, Usage{8, -3}, defaultWeights, 13},                     // clamped to 0
		{"packing: zero capacity", Needs{GPUs: 1}, cpu, Usage{}, defaultWeights, 0},                           //
		{"packing: overflow", Needs{GPUs: math.MaxInt64}, h100, Usage{8, math.MaxInt64}, defaultWeights, 100}, //
		// Pods without accelerators: idle penalty (4), architecture (1).
		{"idle: no accelerators", Needs{ScoreIdle: true}, cpu, Usage{}, defaultWeights, 100},
		{"idle: all in use", Needs{ScoreIdle: true}, h100, Usage{8, 8}, defaultWeights, 50},
		{"idle: one idle", Needs{ScoreIdle: true}, h100, Usage{8, 7}, defaultWeights, 25},
		{"idle: eight idle", Needs{ScoreIdle: true}, h100, eight, defaultWeights, 6},
		{"idle: policy None", Needs{}, h100, eight, defaultWeights, 0},
		{"arch: first", Needs{ScoreIdle: true, Archs: []string{"arm64", "amd64"}}, arm, Usage{}, defaultWeights, 100},
		{"arch: second", Needs{ScoreIdle: true, Archs: []string{"arm64", "amd64"}}, cpu, Usage{}, defaultWeights, 90},
		{"arch: unlisted", Needs{ScoreIdle: true, Archs: []string{"amd64"}}, arm, Usage{}, defaultWeights, 80},
		{"arch only", Needs{Archs: []string{"amd64", "arm64"}}, arm, Usage{}, defaultWeights, 50},
		// Weights.
		{"zero weights", Needs{GPUs: 1, Models: both}, h100, eight, Weights{}, 0},
		{"model weight only", Needs{GPUs: 1, Models: both}, a100, eight, Weights{Model: 1}, 50},
		{"all terms", Needs{GPUs: 1, Models: both, MinMemory: 40 << 30, Archs: []string{"amd64"}}, a100, Usage{8, 7},
			defaultWeights, 83}, // (3*0.5 + 2*1 + 3*1 + 1*1)/9
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Score(&tc.need, tc.node, tc.use, tc.w)
			if got != tc.want {
				t.Errorf("Score = %d, want %d", got, tc.want)
			}
			if got < 0 || got > MaxScore {
				t.Errorf("Score %d out of [0, %d]", got, MaxScore)
			}
			if TotalWeight(&tc.need, tc.w) == 0 && got != 0 {
				t.Errorf("no term applies but Score = %d", got)
			}
		})
	}
}

// TestScoreOrders checks the orders the score exists for, independent of
// the exact numbers.
func TestScoreOrders(t *testing.T) {
	h100 := model("h", "NVIDIA-H100-80GB-HBM3", "81920", "hopper")
	a100 := model("a", "NVIDIA-A100-SXM4-40GB", "40960", "ampere")
	cpu := Build(Sources{Node: kubeNode("c", nil)})
	w := defaultWeights
	gpu := Needs{GPUs: 1}
	cpuPod := Needs{ScoreIdle: true}
	for _, tc := range []struct {
		name          string
		better, worse int64
	}{
		{"partly used GPU node before an empty one", Score(&gpu, h100, Usage{8, 3}, w), Score(&gpu, h100, Usage{8, 0}, w)},
		{"fuller node first", Score(&gpu, h100, Usage{8, 6}, w), Score(&gpu, h100, Usage{8, 3}, w)},
		{"small node before a big empty one", Score(&gpu, h100, Usage{2, 0}, w), Score(&gpu, h100, Usage{8, 0}, w)},
		{"CPU pod: CPU node before a full GPU node", Score(&cpuPod, cpu, Usage{}, w), Score(&cpuPod, h100, Usage{8, 8}, w)},
		{"CPU pod: fewer idle GPUs first", Score(&cpuPod, h100, Usage{8, 7}, w), Score(&cpuPod, h100, Usage{8, 1}, w)},
		{"enough memory with less waste", Score(&Needs{GPUs: 1, MinMemory: 20 << 30}, a100, Usage{8, 0}, w),
			Score(&Needs{GPUs: 1, MinMemory: 20 << 30}, h100, Usage{8, 0}, w)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.better <= tc.worse {
				t.Errorf("better %d <= worse %d", tc.better, tc.worse)
			}
		})
	}
}

func TestScoreTies(t *testing.T) {
	a := model("a", "NVIDIA-H100-80GB-HBM3", "81920", "hopper")
	b := model("b", "NVIDIA-H100-80GB-HBM3", "81920", "hopper")
	need := Needs{GPUs: 2, Models: models(t, "H100")}
	if x, y := Score(&need, a, Usage{8, 2}, defaultWeights), Score(&need, b, Usage{8, 2}, defaultWeights); x != y {
		t.Errorf("identical nodes scored %d and %d", x, y)
	}
}

func TestAdmit(t *testing.T) {
	h100 := model("h", "NVIDIA-H100-80GB-HBM3", "81920", "hopper")
	a100 := model("a", "NVIDIA-A100-SXM4-40GB", "40960", "ampere")
	cpu := Build(Sources{Node: kubeNode("c", map[string]string{"kubernetes.io/arch": "amd64"})})
	noArch := Build(Sources{Node: kubeNode("x", nil)})
	dra := Build(Sources{Node: kubeNode("d", nil), DRA: []Device{{Product: "NVIDIA H100"}}})
	labelsOnly := Build(Sources{Node: kubeNode("l", map[string]string{LabelGPUCount: "2"})})
	for _, tc := range []struct {
		name string
		need Needs
		node *Node
		want Verdict
	}{
		{"nothing asked", Needs{}, h100, Admitted},
		{"arch listed", Needs{Archs: []string{"arm64", "amd64"}, ArchRequired: true}, cpu, Admitted},
		{"arch not listed", Needs{Archs: []string{"arm64"}, ArchRequired: true}, cpu, WrongArchitecture},
		{"node without arch label", Needs{Archs: []string{"amd64"}, ArchRequired: true}, noArch, WrongArchitecture},
		{"arch preference does not filter", Needs{Archs: []string{"arm64"}}, cpu, Admitted},
		{"required model", Needs{GPUs: 1, Models: models(t, "H100"), Policy: PolicyRequired}, h100, Admitted},
		{"required model missing", Needs{GPUs: 1, Models: models(t, "H100"), Policy: PolicyRequired}, a100, WrongModel},
		{"preferred model missing", Needs{GPUs: 1, Models: models(t, "H100"), Policy: PolicyPreferred}, a100, Admitted},
		{"model ignored without accelerators", Needs{Models: models(t, "H100"), Policy: PolicyRequired}, a100, Admitted},
		{"required memory", Needs{GPUs: 1, MinMemory: 40 << 30, Policy: PolicyRequired}, a100, Admitted},
		{"required memory short", Needs{GPUs: 1, MinMemory: 41 << 30, Policy: PolicyRequired}, a100, TooLittleMemory},
		{"required memory unknown", Needs{GPUs: 1, MinMemory: 1, Policy: PolicyRequired}, dra, TooLittleMemory},
		{"preferred memory short", Needs{GPUs: 1, MinMemory: 41 << 30, Policy: PolicyPreferred}, a100, Admitted},
		{"strict: GPU node", Needs{AvoidAccelerators: true}, h100, HasAccelerators},
		{"strict: DRA GPU node", Needs{AvoidAccelerators: true}, dra, HasAccelerators},
		{"strict: GPUs only in labels", Needs{AvoidAccelerators: true}, labelsOnly, HasAccelerators},
		{"strict: CPU node", Needs{AvoidAccelerators: true}, cpu, Admitted},
		{"architecture first", Needs{Archs: []string{"arm64"}, ArchRequired: true, AvoidAccelerators: true}, h100, WrongArchitecture},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Admit(&tc.need, tc.node); got != tc.want {
				t.Errorf("Admit = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestFilters(t *testing.T) {
	for _, tc := range []struct {
		need Needs
		want bool
	}{
		{Needs{}, false},
		{Needs{ScoreIdle: true, Archs: []string{"amd64"}}, false},
		{Needs{Archs: []string{"amd64"}, ArchRequired: true}, true},
		{Needs{AvoidAccelerators: true}, true},
		{Needs{GPUs: 1, Policy: PolicyRequired}, false},
		{Needs{GPUs: 1, Policy: PolicyRequired, MinMemory: 1}, true},
		{Needs{GPUs: 1, Policy: PolicyPreferred, MinMemory: 1}, false},
		{Needs{Policy: PolicyRequired, MinMemory: 1}, false},
	} {
		if got := tc.need.Filters(); got != tc.want {
			t.Errorf("%+v: Filters = %v, want %v", tc.need, got, tc.want)
		}
	}
}
