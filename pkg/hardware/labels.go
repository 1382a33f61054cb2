package hardware

import "slices"

// NVIDIA GPU Feature Discovery labels (github.com/NVIDIA/k8s-device-plugin,
// gpu-feature-discovery).
const (
	// LabelGPUProduct is the GPU product, spaces replaced by dashes:
	// "NVIDIA-H100-80GB-HBM3" (a "-SHARED" suffix with time-slicing).
	LabelGPUProduct = "nvidia.com/gpu.product"
	// LabelGPUMemory is the memory of one GPU in MiB: "81559".
	LabelGPUMemory = "nvidia.com/gpu.memory"
	// LabelGPUCount is the number of GPUs: "8".
	LabelGPUCount = "nvidia.com/gpu.count"
	// LabelGPUFamily is the architecture family: "hopper", "ampere".
	LabelGPUFamily = "nvidia.com/gpu.family"
	// LabelGPUComputeMajor is the CUDA compute capability major version: "9".
	LabelGPUComputeMajor = "nvidia.com/gpu.compute.major"
)

// Mesos agent attributes, as the Mesos offer source publishes them on the
// node of an agent: label AgentAttributePrefix + attribute name, so agent
// attribute gpu.product:H100 becomes label
// attribute.kube-mesos.io/gpu.product=H100. The hardware model reads these
// attributes when the labels above are absent.
const (
	// AgentAttributePrefix prefixes the labels that carry agent attributes.
	AgentAttributePrefix = "attribute.kube-mesos.io/"
	// LabelAgentGPUProduct is the agent attribute gpu.product.
	LabelAgentGPUProduct = AgentAttributePrefix + "gpu.product"
	// LabelAgentGPUMemory is the agent attribute gpu.memory, in MiB.
	LabelAgentGPUMemory = AgentAttributePrefix + "gpu.memory"
	// LabelAgentGPUCount is the agent attribute gpu.count (Mesos' gpus resource).
	LabelAgentGPUCount = AgentAttributePrefix + "gpu.count"
	// LabelAgentGPUFamily is the agent attribute gpu.family.
	LabelAgentGPUFamily = AgentAttributePrefix + "gpu.family"
	// LabelAgentGPUComputeMajor is the agent attribute gpu.compute.major.
	LabelAgentGPUComputeMajor = AgentAttributePrefix + "gpu.compute.major"
	// LabelAgentArch is the agent attribute arch, used when the node has no
	// kubernetes.io/arch label.
	LabelAgentArch = AgentAttributePrefix + "arch"
)

// gfdLabels are the labels of GPU Feature Discovery.
func gfdLabels() labelSet {
	return labelSet{
		product: LabelGPUProduct, memory: LabelGPUMemory, count: LabelGPUCount,
		family: LabelGPUFamily, computeMajor: LabelGPUComputeMajor,
	}
}

// agentLabels are the labels of Mesos agent attributes.
func agentLabels() labelSet {
	return labelSet{
		product: LabelAgentGPUProduct, memory: LabelAgentGPUMemory, count: LabelAgentGPUCount,
		family: LabelAgentGPUFamily, computeMajor: LabelAgentGPUComputeMajor,
	}
}

// KnownArchitectures returns the CPU architectures Kubernetes publishes in
// kubernetes.io/arch (GOARCH names), in a fresh slice.
func KnownArchitectures() []string {
	return []string{"amd64", "arm64", "arm", "ppc64le", "s390x", "386", "riscv64", "loong64", "mips64le"}
}

// IsKnownArchitecture reports whether arch is one of KnownArchitectures.
func IsKnownArchitecture(arch string) bool {
	return slices.Contains(KnownArchitectures(), arch)
}
