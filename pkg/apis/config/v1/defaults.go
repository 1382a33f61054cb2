package v1

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// Defaults. They are constants or functions returning fresh values, so no
// caller can mutate another's defaults.
const (
	DefaultAllocationInterval = time.Second
	DefaultRefuseSeconds      = int32(5)
	DefaultOfferTimeout       = 30 * time.Second
	DefaultAcceptBatchWindow  = 100 * time.Millisecond
	DefaultPortRange          = "1-65535"

	DefaultFairSharePreemptionDelay = 5 * time.Second

	DefaultFrameworkName        = "kube-mesos-scheduler"
	DefaultFrameworkUser        = "nobody"
	DefaultFailoverTimeout      = 7 * 24 * time.Hour
	DefaultPlaceholderCommand   = "while true; do sleep 3600; done"
	DefaultFrameworkIDConfigMap = "kube-system/kube-mesos-scheduler-framework"
	DefaultReconcileInterval    = 15 * time.Minute
	DefaultMissedHeartbeats     = int32(5)

	DefaultModelWeight            = int32(3)
	DefaultMemoryWeight           = int32(2)
	DefaultPackingWeight          = int32(3)
	DefaultIdleAcceleratorsWeight = int32(4)
	DefaultArchitectureWeight     = int32(1)
)

// DefaultAccelerators returns the accelerator resources known out of the box.
func DefaultAccelerators() []corev1.ResourceName {
	return []corev1.ResourceName{"nvidia.com/gpu", "amd.com/gpu", "gpu.intel.com/i915"}
}

// DefaultAcceleratorDeviceClasses returns the DRA device classes of the
// NVIDIA, AMD and Intel GPU drivers.
func DefaultAcceleratorDeviceClasses() []string {
	return []string{"gpu.nvidia.com", "gpu.amd.com", "gpu.intel.com"}
}

// DefaultDRFResources returns the resources that count for DRF by default.
func DefaultDRFResources() []corev1.ResourceName {
	return append([]corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory}, DefaultAccelerators()...)
}

// SetDefaults_MesosOffersArgs fills unset MesosOffers arguments.
func SetDefaults_MesosOffersArgs(obj *MesosOffersArgs) {
	if obj.Source == "" && len(obj.Sources) == 0 {
		obj.Source = "Embedded"
	}
	if obj.AllocationInterval == nil {
		obj.AllocationInterval = &metav1.Duration{Duration: DefaultAllocationInterval}
	}
	if obj.RefuseSeconds == nil {
		obj.RefuseSeconds = ptr.To(DefaultRefuseSeconds)
	}
	if obj.OfferTimeout == nil {
		obj.OfferTimeout = &metav1.Duration{Duration: DefaultOfferTimeout}
	}
	if obj.AcceptBatchWindow == nil {
		obj.AcceptBatchWindow = &metav1.Duration{Duration: DefaultAcceptBatchWindow}
	}
	if len(obj.DefaultPortRanges) == 0 {
		obj.DefaultPortRanges = []string{DefaultPortRange}
	}
	if obj.Source == "Mesos" && obj.Mesos == nil {
		obj.Mesos = &MesosMasterConfig{}
	}
	if obj.Mesos != nil {
		setDefaultsMesosMasterConfig(obj.Mesos)
	}
	for i := range obj.Sources {
		src := &obj.Sources[i]
		if src.Type == "Mesos" && src.Mesos == nil {
			src.Mesos = &MesosMasterConfig{}
		}
		if src.Mesos != nil {
			if src.Mesos.FrameworkIDConfigMap == nil && src.Name != "" {
				// One ConfigMap per master: two frameworks' IDs in one
				// would overwrite each other.
				src.Mesos.FrameworkIDConfigMap = ptr.To(DefaultFrameworkIDConfigMap + "-" + src.Name)
			}
			setDefaultsMesosMasterConfig(src.Mesos)
		}
	}
}

func setDefaultsMesosMasterConfig(obj *MesosMasterConfig) {
	if obj.FrameworkName == nil {
		obj.FrameworkName = ptr.To(DefaultFrameworkName)
	}
	if obj.User == nil {
		obj.User = ptr.To(DefaultFrameworkUser)
	}
	if obj.FailoverTimeout == nil {
		obj.FailoverTimeout = &metav1.Duration{Duration: DefaultFailoverTimeout}
	}
	if obj.GPUResources == nil {
		obj.GPUResources = ptr.To(true)
	}
	if obj.Encoding == "" {
		obj.Encoding = "Protobuf"
	}
	if obj.PlaceholderCommand == nil {
		obj.PlaceholderCommand = ptr.To(DefaultPlaceholderCommand)
	}
	if obj.FrameworkIDConfigMap == nil {
		obj.FrameworkIDConfigMap = ptr.To(DefaultFrameworkIDConfigMap)
	}
	if obj.ReconcileInterval == nil {
		obj.ReconcileInterval = &metav1.Duration{Duration: DefaultReconcileInterval}
	}
	if obj.MissedHeartbeats == nil {
		obj.MissedHeartbeats = ptr.To(DefaultMissedHeartbeats)
	}
	if obj.OrphanPodPolicy == "" {
		obj.OrphanPodPolicy = "Relaunch"
	}
	if obj.TaskGonePolicy == "" {
		obj.TaskGonePolicy = "Evict"
	}
}

// SetDefaults_DRFArgs fills unset DRF arguments.
func SetDefaults_DRFArgs(obj *DRFArgs) {
	if len(obj.Resources) == 0 {
		obj.Resources = DefaultDRFResources()
	}
	if obj.Preemption == "" {
		obj.Preemption = "FairShare"
	}
	if obj.FairSharePreemptionDelay == nil {
		obj.FairSharePreemptionDelay = &metav1.Duration{Duration: DefaultFairSharePreemptionDelay}
	}
}

// SetDefaults_HeteroArgs fills unset Hetero arguments.
func SetDefaults_HeteroArgs(obj *HeteroArgs) {
	if len(obj.AcceleratorResources) == 0 {
		obj.AcceleratorResources = DefaultAccelerators()
	}
	if len(obj.AcceleratorDeviceClasses) == 0 {
		obj.AcceleratorDeviceClasses = DefaultAcceleratorDeviceClasses()
	}
	if obj.AcceleratorNodePolicy == "" {
		obj.AcceleratorNodePolicy = "Prefer"
	}
	w := &obj.Weights
	if w.Model == nil {
		w.Model = ptr.To(DefaultModelWeight)
	}
	if w.Memory == nil {
		w.Memory = ptr.To(DefaultMemoryWeight)
	}
	if w.Packing == nil {
		w.Packing = ptr.To(DefaultPackingWeight)
	}
	if w.IdleAccelerators == nil {
		w.IdleAccelerators = ptr.To(DefaultIdleAcceleratorsWeight)
	}
	if w.Architecture == nil {
		w.Architecture = ptr.To(DefaultArchitectureWeight)
	}
}
