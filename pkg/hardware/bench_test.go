package hardware

import "testing"

// BenchmarkScore is the cost of Score for one node (the per-node hot path
// of the plugin's Score, without the store lookup).
func BenchmarkScore(b *testing.B) {
	node := model("h", "NVIDIA-H100-80GB-HBM3", "81559", "hopper")
	ms, err := parseModels("H100,A100")
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		need Needs
	}{
		{"gpu-pod-all-terms", Needs{GPUs: 2, Models: ms, MinMemory: 40 << 30, Archs: []string{"amd64", "arm64"}}},
		{"gpu-pod-packing-only", Needs{GPUs: 1}},
		{"cpu-pod", Needs{ScoreIdle: true, Archs: []string{"amd64"}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var sum int64
			for b.Loop() {
				sum += Score(&bc.need, node, Usage{Capacity: 8, Used: 3}, defaultWeights)
			}
			if sum < 0 {
				b.Fatal(sum)
			}
		})
	}
}

// BenchmarkAdmit is the cost of Admit for one node (the plugin's Filter).
func BenchmarkAdmit(b *testing.B) {
	node := model("h", "NVIDIA-H100-80GB-HBM3", "81559", "hopper")
	ms, err := parseModels("B200,H100")
	if err != nil {
		b.Fatal(err)
	}
	need := Needs{GPUs: 2, Models: ms, MinMemory: 40 << 30, Archs: []string{"amd64"}, ArchRequired: true, Policy: PolicyRequired}
	b.ReportAllocs()
	for b.Loop() {
		if Admit(&need, node) != Admitted {
			b.Fatal("not admitted")
		}
	}
}
