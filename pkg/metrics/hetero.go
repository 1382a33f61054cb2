package metrics

import (
	"sync"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// Accelerator metrics of the Hetero plugin. The model label is the
// accelerator product the nodes publish ("unknown" when none does): bounded
// by the hardware of the cluster.
var (
	// AcceleratorCapacity is the number of accelerators per model.
	AcceleratorCapacity = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: namespace, Name: "accelerator_capacity",
		Help:           "Accelerators of the cluster's nodes, per model.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"model"})
	// AcceleratorAllocated is the number of accelerators pods request, per model.
	AcceleratorAllocated = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: namespace, Name: "accelerator_allocated",
		Help:           "Accelerators requested by the pods bound to the cluster's nodes, per model.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"model"})
	// AcceleratorFragmentedNodes counts nodes with partly used accelerators.
	AcceleratorFragmentedNodes = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: namespace, Name: "accelerator_fragmented_nodes",
		Help:           "Nodes whose accelerators are partly used (some requested, some free), per model.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"model"})
	// AcceleratorLargestFreeBlock is the most free accelerators on one node.
	AcceleratorLargestFreeBlock = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: namespace, Name: "accelerator_largest_free_block",
		Help:           "The most free accelerators on a single node (the largest job that can still start), per model.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"model"})

	registerHeteroOnce sync.Once
)

// RegisterHetero registers the accelerator metrics once per process.
func RegisterHetero() {
	registerHeteroOnce.Do(func() {
		for _, c := range []metrics.Registerable{
			AcceleratorCapacity, AcceleratorAllocated, AcceleratorFragmentedNodes, AcceleratorLargestFreeBlock,
		} {
			legacyregistry.MustRegister(c)
		}
	})
}
