package config

import (
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// MesosOffersArgs holds the arguments of the MesosOffers plugin: where offers
// come from and how long they live.
type MesosOffersArgs struct {
	metav1.TypeMeta

	// Source selects the single offer source: Embedded (the default
	// allocator over the cluster's own nodes) or Mesos (a Mesos master).
	// Unset when Sources is used.
	Source OfferSourceType
	// AllocationInterval is the period of the embedded allocator's cycle.
	AllocationInterval metav1.Duration
	// RefuseSeconds is how long a declined (agent, role) pair is filtered,
	// the refuse_seconds of a Mesos DECLINE.
	RefuseSeconds int32
	// OfferTimeout rescinds an offer nobody used after this long; 0 never.
	OfferTimeout metav1.Duration
	// AcceptBatchWindow is how long Permit gathers the pods placed on one offer
	// before they are accepted together in one ACCEPT.
	AcceptBatchWindow metav1.Duration
	// DefaultPortRanges are the host ports a node offers when it has no
	// kube-mesos.io/ports annotation, e.g. "1-65535" or "31000-32000".
	DefaultPortRanges []string
	// Mesos configures the Mesos-master source; used when Source is Mesos.
	Mesos *MesosMasterConfig
	// Sources lists several offer sources at once: any number of Mesos
	// masters, each serving the nodes its NodeSelector picks, and at most
	// one Embedded source serving every node no Mesos source picks. Empty:
	// the single source of Source and Mesos (see OfferSources).
	Sources []OfferSourceConfig
}

// OfferSourceConfig is one of several offer sources.
type OfferSourceConfig struct {
	// Name names the source in metrics, events, logs and explanations (a
	// DNS label, unique among the sources).
	Name string
	// Type is Embedded or Mesos.
	Type OfferSourceType
	// NodeSelector picks, by label, the nodes a Mesos source serves (its
	// agents' nodes). Two Mesos sources' selectors must be disjoint: both
	// name one label key with different values. Empty on the only Mesos
	// source of a list without an Embedded one: every node.
	NodeSelector map[string]string
	// Mesos configures a Mesos source.
	Mesos *MesosMasterConfig
}

// DisjointSelectors says whether no node can match both selectors: they
// name one label key with different values.
func DisjointSelectors(a, b map[string]string) bool {
	for k, v := range a {
		if w, ok := b[k]; ok && w != v {
			return true
		}
	}
	return false
}

// Names of the single source of the form without Sources.
const (
	LegacyEmbeddedSourceName = "embedded"
	LegacyMesosSourceName    = "mesos"
)

// OfferSources returns the offer sources the args configure: Sources, or
// the single source of Source and Mesos (named "embedded" or "mesos").
func (a *MesosOffersArgs) OfferSources() []OfferSourceConfig {
	if len(a.Sources) > 0 {
		return a.Sources
	}
	if a.Source == OfferSourceMesos {
		return []OfferSourceConfig{{Name: LegacyMesosSourceName, Type: OfferSourceMesos, Mesos: a.Mesos}}
	}
	return []OfferSourceConfig{{Name: LegacyEmbeddedSourceName, Type: OfferSourceEmbedded}}
}

// OfferSourceType names an offer source.
type OfferSourceType string

const (
	// OfferSourceEmbedded offers the cluster's own nodes through the embedded allocator.
	OfferSourceEmbedded OfferSourceType = "Embedded"
	// OfferSourceMesos takes offers from a Mesos master.
	OfferSourceMesos OfferSourceType = "Mesos"
)

// MesosMasterConfig configures the connection to a Mesos master and the
// framework the scheduler registers there.
type MesosMasterConfig struct {
	// Master is "http(s)://host:port[,host:port...]" or "zk://h1:2181,h2:2181/mesos".
	Master string
	// FrameworkName is FrameworkInfo.name.
	FrameworkName string
	// User is FrameworkInfo.user, the user the placeholder tasks run as.
	User string
	// Principal is FrameworkInfo.principal and the HTTP basic-auth user.
	Principal string
	// SecretFile holds the secret of Principal; it is never put in args.
	SecretFile string
	// CAFile holds the CA bundle that verifies the master's certificate.
	CAFile string
	// InsecureSkipTLSVerify turns certificate verification off (tests only).
	InsecureSkipTLSVerify bool
	// InsecureSendCredentialsInClear allows Principal's secret over plain
	// HTTP, where basic auth travels in clear (refused otherwise).
	InsecureSendCredentialsInClear bool
	// FailoverTimeout is FrameworkInfo.failover_timeout.
	FailoverTimeout metav1.Duration
	// GPUResources sets the GPU_RESOURCES capability.
	GPUResources bool
	// Encoding of calls and events: Protobuf or JSON.
	Encoding MesosEncoding
	// PlaceholderCommand is the shell command of the task that holds a pod's resources.
	PlaceholderCommand string
	// WaitForTaskRunning binds a pod only after its task reports TASK_RUNNING.
	WaitForTaskRunning bool
	// AgentNodeLabel, when set, names the node label holding the Mesos agent
	// hostname of the node; otherwise agent hostname = node name.
	AgentNodeLabel string
	// FrameworkIDConfigMap stores the framework ID ("namespace/name").
	FrameworkIDConfigMap string
	// ReconcileInterval is the period of implicit + explicit reconciliation.
	ReconcileInterval metav1.Duration
	// MissedHeartbeats is how many heartbeats may be missed before resubscribing.
	MissedHeartbeats int32
	// OrphanPodPolicy decides what happens to a pod bound through Mesos whose
	// task the master does not know: Relaunch (when resources allow, else
	// evict) or Evict.
	OrphanPodPolicy OrphanPodPolicy
	// TaskGonePolicy decides what happens to a pod whose task is TASK_GONE or
	// TASK_GONE_BY_OPERATOR: Evict or Delete.
	TaskGonePolicy TaskGonePolicy
	// DrainOnMaintenance drains our pods from agents scheduled for maintenance
	// (respecting PodDisruptionBudgets) and then accepts the inverse offer.
	DrainOnMaintenance bool
}

// MesosEncoding is the media type used with the Mesos master.
type MesosEncoding string

const (
	// MesosEncodingProtobuf is application/x-protobuf.
	MesosEncodingProtobuf MesosEncoding = "Protobuf"
	// MesosEncodingJSON is application/json.
	MesosEncodingJSON MesosEncoding = "JSON"
)

// OrphanPodPolicy names what happens to a bound pod whose task is unknown.
type OrphanPodPolicy string

const (
	// OrphanPodRelaunch relaunches the task when resources allow, else evicts.
	OrphanPodRelaunch OrphanPodPolicy = "Relaunch"
	// OrphanPodEvict evicts the pod.
	OrphanPodEvict OrphanPodPolicy = "Evict"
)

// TaskGonePolicy names what happens to a pod whose task is gone.
type TaskGonePolicy string

const (
	// TaskGoneEvict evicts the pod through the Eviction API.
	TaskGoneEvict TaskGonePolicy = "Evict"
	// TaskGoneDelete deletes the pod.
	TaskGoneDelete TaskGonePolicy = "Delete"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// DRFArgs holds the arguments of the DRF plugin: which resources count, and
// per-role weights, guarantees and limits.
type DRFArgs struct {
	metav1.TypeMeta

	// Resources are the resources that count in a role's allocation.
	Resources []v1.ResourceName
	// ExcludedResourceNames count for limits and guarantees but not for the
	// dominant share (Mesos --fair_sharing_excluded_resource_names).
	ExcludedResourceNames []v1.ResourceName
	// Roles configures weights, guarantees and limits per role; these override
	// namespace annotations and ElasticQuotas.
	Roles []RoleConfig
	// Preemption is FairShare, Priority or Never.
	Preemption PreemptionPolicy
	// FairSharePreemptionDelay is how long a pod waits, from its creation,
	// before it may evict pods of roles above their fair share: pods that
	// arrive together (a Job, a Deployment's rollout, tenants submitting at
	// once) are all known before anyone is evicted, so nobody is evicted for
	// a share that a moment later belongs to someone else. Priority
	// preemption is never delayed.
	FairSharePreemptionDelay metav1.Duration
}

// RoleConfig configures one Mesos role.
type RoleConfig struct {
	// Name is a Mesos role name, hierarchical with "/" (e.g. "eng/ml").
	Name string
	// Weight is a positive decimal ("1", "2.5"); empty keeps the namespace's.
	Weight string
	// Guarantee is the minimum the role is entitled to.
	Guarantee v1.ResourceList
	// Limit is the most the role may hold.
	Limit v1.ResourceList
}

// PreemptionPolicy names the DRF plugin's preemption behaviour.
type PreemptionPolicy string

const (
	// PreemptionFairShare evicts pods of roles above their fair share for a
	// pod whose role is below its guarantee or fair share, and also does
	// classic priority preemption.
	PreemptionFairShare PreemptionPolicy = "FairShare"
	// PreemptionPriority does only classic priority preemption.
	PreemptionPriority PreemptionPolicy = "Priority"
	// PreemptionNever never preempts.
	PreemptionNever PreemptionPolicy = "Never"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// HeteroArgs holds the arguments of the Hetero plugin.
type HeteroArgs struct {
	metav1.TypeMeta

	// AcceleratorResources are the extended resources that count as accelerators.
	AcceleratorResources []v1.ResourceName
	// AcceleratorDeviceClasses are the DRA device classes whose devices are
	// accelerators: a ResourceClaim request of such a class counts as
	// accelerators, and so do the devices a DRA driver of the same name
	// publishes (GPU drivers name their class after themselves: gpu.nvidia.com).
	AcceleratorDeviceClasses []string
	// AcceleratorNodePolicy: Strict keeps pods that request no accelerator off
	// accelerator nodes, Prefer only scores that, None is off.
	AcceleratorNodePolicy AcceleratorNodePolicy
	// ArchitecturePreference orders CPU architectures, best first, for pods
	// that list none in kube-mesos.io/architectures; empty: no preference.
	ArchitecturePreference []string
	// Weights of the score terms.
	Weights HeteroWeights
}

// AcceleratorNodePolicy names how non-accelerator pods treat accelerator nodes.
type AcceleratorNodePolicy string

const (
	// AcceleratorNodeStrict filters accelerator nodes out for pods that need none.
	AcceleratorNodeStrict AcceleratorNodePolicy = "Strict"
	// AcceleratorNodePrefer scores accelerator nodes down for pods that need none.
	AcceleratorNodePrefer AcceleratorNodePolicy = "Prefer"
	// AcceleratorNodeNone does neither.
	AcceleratorNodeNone AcceleratorNodePolicy = "None"
)

// HeteroWeights are the relative weights of the Hetero score terms.
type HeteroWeights struct {
	// Model weighs the rank of the node's GPU model in the pod's preference list.
	Model int32
	// Memory weighs enough GPU memory with the least waste.
	Memory int32
	// Packing weighs bin-packing of accelerators (partly used nodes first).
	Packing int32
	// IdleAccelerators weighs the penalty for non-accelerator pods on nodes
	// with idle accelerators.
	IdleAccelerators int32
	// Architecture weighs the rank of the node's architecture in the pod's list.
	Architecture int32
}
