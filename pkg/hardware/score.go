package hardware

import "math"

// MaxScore is the best score (the framework's MaxNodeScore).
const MaxScore = 100

// Weights are the relative weights of the score terms; none is negative.
type Weights struct {
	Model, Memory, Packing, Idle, Arch int64
}

// Usage is a node's accelerator capacity and how much of it the pods on the
// node request.
type Usage struct {
	Capacity, Used int64
}

// Verdict is Admit's answer.
type Verdict uint8

const (
	// Admitted: the node's hardware suits the pod.
	Admitted Verdict = iota
	// WrongArchitecture: the pod's images do not exist for the node's CPU architecture.
	WrongArchitecture
	// WrongModel: the node's accelerators are none of the models the pod requires.
	WrongModel
	// TooLittleMemory: the node's accelerators have less memory than the pod requires.
	TooLittleMemory
	// HasAccelerators: the pod asks for no accelerator and may not use a node that has some.
	HasAccelerators
)

// Filters reports whether Admit can turn any node away for the pod; when it
// cannot, the Filter extension point is skipped.
func (n *Needs) Filters() bool {
	return n.ArchRequired || n.AvoidAccelerators || n.requiresAccelerator()
}

func (n *Needs) requiresAccelerator() bool {
	return n.GPUs > 0 && n.Policy == PolicyRequired && (len(n.Models) > 0 || n.MinMemory > 0)
}

// Admit decides whether a node's hardware suits a pod, in this order: CPU
// architecture, accelerator model, accelerator memory (required policy and
// accelerator pods only), and accelerators on a node a pod that needs none
// must avoid. Accelerator counts are not checked here: NodeResourcesFit and
// the DRA plugin do that.
func Admit(need *Needs, node *Node) Verdict {
	if need.ArchRequired && !contains(need.Archs, node.Arch) {
		return WrongArchitecture
	}
	if need.requiresAccelerator() {
		if len(need.Models) > 0 && node.Rank(need.Models) < 0 {
			return WrongModel
		}
		if need.MinMemory > 0 && node.Memory < need.MinMemory {
			return TooLittleMemory
		}
	}
	if need.AvoidAccelerators && node.Accelerators() > 0 {
		return HasAccelerators
	}
	return Admitted
}

// TotalWeight is the sum of the weights of the terms that apply to the pod
// (see Score); 0 means no term applies and scoring can be skipped.
func TotalWeight(need *Needs, w Weights) int64 {
	var sum int64
	if need.GPUs > 0 {
		if len(need.Models) > 0 {
			sum += w.Model
		}
		if need.MinMemory > 0 {
			sum += w.Memory
		}
		sum += w.Packing
	} else if need.ScoreIdle {
		sum += w.Idle
	}
	if len(need.Archs) > 0 {
		sum += w.Arch
	}
	return sum
}

// Score rates how well a node suits a pod, in [0, MaxScore]:
//
//	score = round(100 * Σ w_t * s_t / Σ w_t)   over the terms t that apply
//
// with g = need.GPUs, C = use.Capacity, U = min(use.Used, C), F = C - U:
//
//	term     applies when            s_t in [0, 1]
//	model    g > 0, m models listed  (m - r) / m, r the rank of the node's model; 0 if none matches
//	memory   g > 0, minimum M        M / G, G the node's memory per accelerator; 0 if G < M or unknown
//	packing  g > 0                   min(1, (U + g) / C); 0 if C = 0
//	idle     g = 0, ScoreIdle        ([C = 0] + 1 / (1 + F)) / 2
//	arch     n architectures listed  (n - r) / n, r the rank of the node's architecture; 0 if unlisted
//
// So an accelerator pod prefers its best-ranked model, the smallest memory
// that is enough (large accelerators stay free for work that needs them),
// and the node its accelerators fill the most (partly used nodes first, so
// whole nodes stay free for big jobs). A pod without accelerators prefers
// nodes without any (1), then accelerator nodes with the fewest idle
// accelerators (1/2 when all are in use, 1/4 with one idle, 1/18 with eight):
// a penalty that grows with the idle accelerators it could strand. Which terms
// apply depends on the pod only, so all nodes are rated on the same terms.
// With no term (TotalWeight 0) the score is 0.
func Score(need *Needs, node *Node, use Usage, w Weights) int64 {
	var sum, total float64
	add := func(weight int64, s float64) {
		sum += float64(weight) * s
		total += float64(weight)
	}
	if need.GPUs > 0 {
		if len(need.Models) > 0 && w.Model > 0 {
			add(w.Model, rankScore(node.Rank(need.Models), len(need.Models)))
		}
		if need.MinMemory > 0 && w.Memory > 0 {
			add(w.Memory, memoryScore(need.MinMemory, node.Memory))
		}
		if w.Packing > 0 {
			add(w.Packing, packingScore(need.GPUs, use))
		}
	} else if need.ScoreIdle && w.Idle > 0 {
		add(w.Idle, idleScore(use))
	}
	if len(need.Archs) > 0 && w.Arch > 0 {
		add(w.Arch, rankScore(index(need.Archs, node.Arch), len(need.Archs)))
	}
	if total == 0 {
		return 0
	}
	return int64(math.Round(MaxScore * sum / total))
}

// rankScore is (n - r) / n for rank r among n, 0 for rank -1.
func rankScore(r, n int) float64 {
	if r < 0 || n == 0 {
		return 0
	}
	return float64(n-r) / float64(n)
}

func memoryScore(want, have int64) float64 {
	if have <= 0 || have < want {
		return 0
	}
	return float64(want) / float64(have)
}

func packingScore(g int64, use Usage) float64 {
	if use.Capacity <= 0 {
		return 0
	}
	used := min(max(use.Used, 0), use.Capacity)
	return math.Min(1, (float64(used)+float64(g))/float64(use.Capacity))
}

// idleScore is ([C = 0] + 1 / (1 + F)) / 2, F the accelerators no pod requests.
func idleScore(use Usage) float64 {
	if use.Capacity <= 0 {
		return 1
	}
	free := max(use.Capacity-max(use.Used, 0), 0)
	return 0.5 / (1 + float64(free))
}

func index(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func contains(list []string, s string) bool { return index(list, s) >= 0 }
