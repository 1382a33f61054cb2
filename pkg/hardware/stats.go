package hardware

// UnknownModel labels accelerators whose product no source publishes.
const UnknownModel = "unknown"

// NodeUsage is one node's accelerators and how many of them pods request.
type NodeUsage struct {
	Model    string
	Capacity int64
	Used     int64
}

// Stats sum up the accelerators of one model across nodes.
type Stats struct {
	// Capacity is the number of accelerators.
	Capacity int64
	// Allocated is the number requested by pods (at most Capacity per node).
	Allocated int64
	// FragmentedNodes counts nodes whose accelerators are partly used:
	// neither free for a whole-node job nor full.
	FragmentedNodes int64
	// LargestFreeBlock is the most free accelerators on one node: the
	// biggest job that can still start.
	LargestFreeBlock int64
}

// Summarize computes the stats per model of nodes with accelerators; a
// node without a model counts under UnknownModel.
func Summarize(nodes []NodeUsage) map[string]Stats {
	out := map[string]Stats{}
	for _, n := range nodes {
		if n.Capacity <= 0 {
			continue
		}
		model := n.Model
		if model == "" {
			model = UnknownModel
		}
		used := min(max(n.Used, 0), n.Capacity)
		free := n.Capacity - used
		s := out[model]
		s.Capacity += n.Capacity
		s.Allocated += used
		if used > 0 && free > 0 {
			s.FragmentedNodes++
		}
		s.LargestFreeBlock = max(s.LargestFreeBlock, free)
		out[model] = s
	}
	return out
}
