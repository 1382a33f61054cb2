package v1

import (
	"bytes"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// +k8s:defaulter-gen=true
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// MesosOffersArgs holds the arguments of the MesosOffers plugin.
type MesosOffersArgs struct {
	metav1.TypeMeta `json:",inline"`

	// Source selects the single offer source: "Embedded" (default) or
	// "Mesos". Leave unset with sources.
	Source OfferSourceType `json:"source,omitempty"`
	// AllocationInterval is the period of the embedded allocator (default 1s).
	AllocationInterval *metav1.Duration `json:"allocationInterval,omitempty"`
	// RefuseSeconds filters a declined (agent, role) pair for this long (default 5).
	RefuseSeconds *int32 `json:"refuseSeconds,omitempty"`
	// OfferTimeout rescinds unused offers after this long (default 30s; 0s never).
	OfferTimeout *metav1.Duration `json:"offerTimeout,omitempty"`
	// AcceptBatchWindow is how long Permit gathers pods for one ACCEPT (default 100ms; an offer whose
	// resources are all reserved is accepted at once).
	AcceptBatchWindow *metav1.Duration `json:"acceptBatchWindow,omitempty"`
	// DefaultPortRanges are the host ports a node offers without a
	// kube-mesos.io/ports annotation (default ["1-65535"]).
	DefaultPortRanges []string `json:"defaultPortRanges,omitempty"`
	// Mesos configures the Mesos-master source of source: Mesos.
	Mesos *MesosMasterConfig `json:"mesos,omitempty"`
	// Sources lists several offer sources at once, instead of source and
	// mesos: Mesos masters, each serving the nodes its nodeSelector picks,
	// and at most one Embedded source for every node no Mesos source picks.
	Sources []OfferSourceConfig `json:"sources,omitempty"`
}

// OfferSourceConfig is one of several offer sources.
type OfferSourceConfig struct {
	// Name names the source in metrics, events, logs and explanations (a
	// DNS label, unique).
	Name string `json:"name"`
	// Type is "Embedded" or "Mesos".
	Type OfferSourceType `json:"type"`
	// NodeSelector picks, by label, the nodes a Mesos source serves. Two
	// Mesos sources' selectors name one key with different values.
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// Mesos configures a Mesos source (frameworkIDConfigMap defaults to
	// "kube-system/kube-mesos-scheduler-framework-NAME").
	Mesos *MesosMasterConfig `json:"mesos,omitempty"`
}

// MesosMasterConfig configures the Mesos master connection and framework.
type MesosMasterConfig struct {
	// Master: "http(s)://host:port[,host:port...]" or "zk://host:port[,...]/path".
	Master string `json:"master"`
	// FrameworkName is FrameworkInfo.name (default "kube-mesos-scheduler").
	FrameworkName *string `json:"frameworkName,omitempty"`
	// User is FrameworkInfo.user (default "nobody").
	User *string `json:"user,omitempty"`
	// Principal is FrameworkInfo.principal and the HTTP basic-auth user.
	Principal string `json:"principal,omitempty"`
	// SecretFile is a file holding the principal's secret.
	SecretFile string `json:"secretFile,omitempty"`
	// CAFile verifies the master's TLS certificate.
	CAFile string `json:"caFile,omitempty"`
	// InsecureSkipTLSVerify disables certificate verification (default false).
	InsecureSkipTLSVerify bool `json:"insecureSkipTLSVerify,omitempty"`
	// InsecureSendCredentialsInClear allows secretFile with a plain-HTTP
	// master (http://, or zk:// without caFile or insecureSkipTLSVerify),
	// where the basic-auth credentials travel in clear. Refused otherwise.
	InsecureSendCredentialsInClear bool `json:"insecureSendCredentialsInClear,omitempty"`
	// FailoverTimeout is FrameworkInfo.failover_timeout (default 168h).
	FailoverTimeout *metav1.Duration `json:"failoverTimeout,omitempty"`
	// GPUResources sets the GPU_RESOURCES capability (default true).
	GPUResources *bool `json:"gpuResources,omitempty"`
	// Encoding is "Protobuf" (default) or "JSON".
	Encoding MesosEncoding `json:"encoding,omitempty"`
	// PlaceholderCommand is the shell command of a pod's placeholder task.
	PlaceholderCommand *string `json:"placeholderCommand,omitempty"`
	// WaitForTaskRunning binds a pod only after TASK_RUNNING (default false).
	WaitForTaskRunning bool `json:"waitForTaskRunning,omitempty"`
	// AgentNodeLabel names a node label holding the agent hostname.
	AgentNodeLabel string `json:"agentNodeLabel,omitempty"`
	// FrameworkIDConfigMap is "namespace/name" of the ConfigMap storing the
	// framework ID (default "kube-system/kube-mesos-scheduler-framework").
	FrameworkIDConfigMap *string `json:"frameworkIDConfigMap,omitempty"`
	// ReconcileInterval is the reconciliation period (default 15m).
	ReconcileInterval *metav1.Duration `json:"reconcileInterval,omitempty"`
	// MissedHeartbeats before resubscribing (default 5).
	MissedHeartbeats *int32 `json:"missedHeartbeats,omitempty"`
	// OrphanPodPolicy is "Relaunch" (default) or "Evict".
	OrphanPodPolicy OrphanPodPolicy `json:"orphanPodPolicy,omitempty"`
	// TaskGonePolicy is "Evict" (default) or "Delete".
	TaskGonePolicy TaskGonePolicy `json:"taskGonePolicy,omitempty"`
	// DrainOnMaintenance drains our pods from agents under maintenance (default false).
	DrainOnMaintenance bool `json:"drainOnMaintenance,omitempty"`
}

// +k8s:defaulter-gen=true
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// DRFArgs holds the arguments of the DRF plugin.
type DRFArgs struct {
	metav1.TypeMeta `json:",inline"`

	// Resources count in a role's allocation (default cpu, memory,
	// nvidia.com/gpu, amd.com/gpu, gpu.intel.com/i915).
	Resources []corev1.ResourceName `json:"resources,omitempty"`
	// ExcludedResourceNames count for limits but not for the dominant share.
	ExcludedResourceNames []corev1.ResourceName `json:"excludedResourceNames,omitempty"`
	// Roles sets weights, guarantees and limits per role.
	Roles []RoleConfig `json:"roles,omitempty"`
	// Preemption is "FairShare" (default), "Priority" or "Never".
	Preemption PreemptionPolicy `json:"preemption,omitempty"`
	// FairSharePreemptionDelay is how long a pod waits, from its creation,
	// before it may evict pods of roles above their fair share (default 5s):
	// pods that arrive together are all known before anyone is evicted.
	// Priority preemption is never delayed.
	FairSharePreemptionDelay *metav1.Duration `json:"fairSharePreemptionDelay,omitempty"`
}

// Weight is a role's weight, a decimal. Users write numbers where they
// mean numbers (weight: 2) and the annotation's form is a string
// (kube-mesos.io/weight: "2"): both decode to the decimal's text, which
// validation parses.
type Weight string

// UnmarshalJSON takes a JSON string or a JSON number, as written.
func (w *Weight) UnmarshalJSON(b []byte) error {
	s, err := resources.NumberOrString(b)
	if err != nil {
		return fmt.Errorf("weight must be a decimal number (2, 0.5) or a string holding one, not %s", bytes.TrimSpace(b))
	}
	*w = Weight(s)
	return nil
}

// RoleConfig configures one Mesos role.
type RoleConfig struct {
	// Name is a Mesos role name; "/" separates levels.
	Name string `json:"name"`
	// Weight is a positive decimal such as 2 or "0.5": a number or a string.
	Weight Weight `json:"weight,omitempty"`
	// Guarantee is the least the role is entitled to.
	Guarantee corev1.ResourceList `json:"guarantee,omitempty"`
	// Limit is the most the role may hold.
	Limit corev1.ResourceList `json:"limit,omitempty"`
}

// +k8s:defaulter-gen=true
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// HeteroArgs holds the arguments of the Hetero plugin.
type HeteroArgs struct {
	metav1.TypeMeta `json:",inline"`

	// AcceleratorResources count as accelerators (default nvidia.com/gpu,
	// amd.com/gpu, gpu.intel.com/i915).
	AcceleratorResources []corev1.ResourceName `json:"acceleratorResources,omitempty"`
	// AcceleratorDeviceClasses are the DRA device classes (and drivers of the
	// same name) whose devices are accelerators (default gpu.nvidia.com,
	// gpu.amd.com, gpu.intel.com).
	AcceleratorDeviceClasses []string `json:"acceleratorDeviceClasses,omitempty"`
	// AcceleratorNodePolicy is "Strict", "Prefer" (default) or "None".
	AcceleratorNodePolicy AcceleratorNodePolicy `json:"acceleratorNodePolicy,omitempty"`
	// ArchitecturePreference orders CPU architectures, best first, for pods
	// without the kube-mesos.io/architectures annotation (default: none).
	ArchitecturePreference []string `json:"architecturePreference,omitempty"`
	// Weights of the score terms.
	Weights HeteroWeights `json:"weights"`
}

// HeteroWeights are the relative weights of the Hetero score terms.
type HeteroWeights struct {
	// Model (default 3).
	Model *int32 `json:"model,omitempty"`
	// Memory (default 2).
	Memory *int32 `json:"memory,omitempty"`
	// Packing (default 3).
	Packing *int32 `json:"packing,omitempty"`
	// IdleAccelerators (default 4).
	IdleAccelerators *int32 `json:"idleAccelerators,omitempty"`
	// Architecture (default 1).
	Architecture *int32 `json:"architecture,omitempty"`
}

// OfferSourceType names an offer source: "Embedded" or "Mesos".
type OfferSourceType string

// MesosEncoding is "Protobuf" or "JSON".
type MesosEncoding string

// OrphanPodPolicy is "Relaunch" or "Evict".
type OrphanPodPolicy string

// TaskGonePolicy is "Evict" or "Delete".
type TaskGonePolicy string

// PreemptionPolicy is "FairShare", "Priority" or "Never".
type PreemptionPolicy string

// AcceleratorNodePolicy is "Strict", "Prefer" or "None".
type AcceleratorNodePolicy string
