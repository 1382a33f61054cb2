// Package hardware is the hardware model of heterogeneous nodes and the pure
// maths of placing pods on them: what a node has (accelerator model, memory
// per accelerator, count, CPU architecture) from what clusters publish, what
// a pod needs from its requests and annotations, whether a node admits a
// pod, and how well it suits it (Score). The Hetero plugin is a thin adapter
// over this package; nothing here knows the scheduling framework.
package hardware

import (
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
)

// Node is the hardware model of one node. It is immutable once built: the
// Store replaces a node's model when its sources change, so readers hold no
// lock while they use it.
type Node struct {
	// Name is the node's name.
	Name string
	// Arch is the CPU architecture (kubernetes.io/arch, else the Mesos agent
	// attribute); "" when unknown.
	Arch string
	// Product is the accelerator product as published, e.g.
	// "NVIDIA-H100-80GB-HBM3"; "" when unknown.
	Product string
	// Family is the accelerator family, e.g. "hopper"; "" when unknown.
	Family string
	// ComputeMajor is the CUDA compute capability major version; 0 when unknown.
	ComputeMajor int64
	// Memory is the memory of one accelerator in bytes; 0 when unknown.
	Memory int64
	// Devices is the accelerator count published in labels or agent
	// attributes (nvidia.com/gpu.count); 0 when not published.
	Devices int64
	// Extended is the node's allocatable of the accelerator extended resources.
	Extended int64
	// DRADevices counts the accelerator devices in the node's ResourceSlices.
	DRADevices int64

	// tokens are the upper-case words of Product and Family that a model
	// entry of a pod is matched against.
	tokens []string
	// resourceVersion is that of the node object the model was built from.
	resourceVersion string
}

// Built reports whether the model was built from this version of the node
// object.
func (n *Node) Built(node *v1.Node) bool { return n.resourceVersion == node.ResourceVersion }

// Accelerators is the number of accelerators the node has by any source:
// allocatable extended resources, DRA devices, or published labels.
func (n *Node) Accelerators() int64 {
	return max(n.Extended, n.DRADevices, n.Devices)
}

// Model is one entry of a pod's model preference list ("A100-80GB"), as the
// upper-case words it consists of.
type Model []string

// Rank returns the index of the first model of the list that the node's
// accelerators match, or -1. A model matches when each of its words is a
// word of the node's product or family: "H100" matches
// "NVIDIA-H100-80GB-HBM3", "A100-80GB" matches "NVIDIA-A100-SXM4-80GB",
// "hopper" matches a node of family hopper, and "L4" does not match "L40S".
func (n *Node) Rank(models []Model) int {
	for i, m := range models {
		if n.matches(m) {
			return i
		}
	}
	return -1
}

func (n *Node) matches(m Model) bool {
	if len(m) == 0 {
		return false
	}
	for _, w := range m {
		found := false
		for _, t := range n.tokens {
			if t == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Sources are what a node's model is built from.
type Sources struct {
	// Node is the node object (labels, allocatable).
	Node *v1.Node
	// Accelerators are the extended resources that count as accelerators.
	Accelerators []v1.ResourceName
	// DRA are the accelerator devices of the node's ResourceSlices.
	DRA []Device
}

// Build derives a node's model. Each field comes from the most precise
// source that has it: the node's DRA devices (per device, what the driver
// allocates), then NVIDIA GPU Feature Discovery labels, then Mesos agent
// attributes published as node labels. Unparsable label values count as
// unknown.
func Build(src Sources) *Node {
	node := src.Node
	n := &Node{Name: node.Name, resourceVersion: node.ResourceVersion}
	for _, r := range src.Accelerators {
		if q, ok := node.Status.Allocatable[r]; ok {
			n.Extended += q.Value()
		}
	}
	fromDRA(n, src.DRA)
	fromLabels(n, node.Labels, gfdLabels())
	fromLabels(n, node.Labels, agentLabels())
	n.Arch = node.Labels[v1.LabelArchStable]
	if n.Arch == "" {
		n.Arch = node.Labels[LabelAgentArch]
	}
	n.tokens = append(words(n.Product), words(n.Family)...)
	return n
}

// labelSet names the labels of one source.
type labelSet struct{ product, memory, count, family, computeMajor string }

// fromLabels fills the fields still unknown from one source's labels.
func fromLabels(n *Node, labels map[string]string, set labelSet) {
	if n.Product == "" {
		n.Product = labels[set.product]
	}
	if n.Family == "" {
		n.Family = labels[set.family]
	}
	if n.Memory == 0 {
		if mib, ok := positive(labels[set.memory]); ok && mib <= maxMiB {
			n.Memory = mib << 20
		}
	}
	if n.Devices == 0 {
		n.Devices, _ = positive(labels[set.count])
	}
	if n.ComputeMajor == 0 {
		n.ComputeMajor, _ = positive(labels[set.computeMajor])
	}
}

// maxMiB bounds memory labels (1 PiB per accelerator) so bytes never overflow.
const maxMiB = 1 << 30

func positive(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, false
	}
	return v, true
}

// words splits s on every character that is not a letter or a digit and
// upper-cases the pieces: "NVIDIA-H100-80GB-HBM3" -> NVIDIA H100 80GB HBM3.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToUpper(s), func(r rune) bool {
		return (r < 'A' || r > 'Z') && (r < '0' || r > '9')
	})
}
