// Package metrics defines every metric of the project, registered once in
// the kube-scheduler's legacy registry (served on the scheduler's /metrics).
// Label sets are bounded: roles and resources are the configured ones.
// The framework already times extension points; nothing here re-times them.
package metrics

import (
	"math"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/offer"
)

const namespace = "kube_mesos"

var (
	// RoleDominantShare is the dominant share of a role's own allocation.
	RoleDominantShare = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: namespace, Name: "role_dominant_share",
		Help:           "Dominant share of the role's allocation: max over counted resources of allocation / cluster total.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"role"})
	// RoleWeightedShare is the role's H-DRF key: subtree share / weight.
	RoleWeightedShare = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: namespace, Name: "role_weighted_share",
		Help:           "Weighted dominant share of the role at its level of the role tree (subtree share / weight).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"role"})
	// RoleWeight is the role's weight.
	RoleWeight = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: namespace, Name: "role_weight", Help: "Weight of the role.", StabilityLevel: metrics.ALPHA,
	}, []string{"role"})
	// RoleAllocation is the role's allocation per resource (cpu in cores, memory in bytes).
	RoleAllocation = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: namespace, Name: "role_allocation",
		Help:           "Requests of the role's non-terminal bound or assumed pods, per resource (cpu in cores, bytes for memory).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"role", "resource"})
	// RoleGuarantee is the role's guarantee per resource.
	RoleGuarantee = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: namespace, Name: "role_guarantee", Help: "Guarantee of the role per resource.", StabilityLevel: metrics.ALPHA,
	}, []string{"role", "resource"})
	// RoleLimit is the role's limit per resource.
	RoleLimit = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: namespace, Name: "role_limit", Help: "Limit of the role per resource.", StabilityLevel: metrics.ALPHA,
	}, []string{"role", "resource"})
	// RolePendingPods counts the role's pods waiting for this scheduler.
	RolePendingPods = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: namespace, Name: "role_pending_pods", Help: "Pods of the role waiting for this scheduler.", StabilityLevel: metrics.ALPHA,
	}, []string{"role"})
	// GateRejections counts attempts turned away by the fairness gate.
	GateRejections = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: namespace, Name: "drf_gate_rejections_total",
		Help:           "Scheduling attempts turned away because the pod's role is at its fair share, by role.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"role"})
	// RoleFairShare is the dominant share of a role's fair target.
	RoleFairShare = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: namespace, Name: "role_fair_share",
		Help:           "Dominant share of the role's fair target: weighted DRF over every role's bound and pending pods.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"role"})
	// RoleFairPods is how many pods a role's fair target holds.
	RoleFairPods = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: namespace, Name: "role_fair_pods",
		Help:           "Pods the role's fair target holds.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"role"})
	// PreemptionEvictions counts the pods DRF's preemption evicted, by reason.
	PreemptionEvictions = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: namespace, Name: "preemption_evictions_total",
		Help:           "Pods evicted by the DRF plugin's preemption, by reason: fair-share (a role above its fair share for one below) or priority.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"reason"})

	// Offers counts offers by role and what happened to them.
	Offers = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: namespace, Name: "offers_total",
		Help:           "Offers by role and event: made, accepted, declined, rescinded.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"role", "event"})
	// OfferBookSize is the number of outstanding offers held by the scheduler.
	OfferBookSize = metrics.NewGauge(&metrics.GaugeOpts{
		Namespace: namespace, Name: "offer_book_size", Help: "Outstanding offers held by the scheduler.", StabilityLevel: metrics.ALPHA,
	})
	// AllocationCycleDuration times the embedded allocator's cycles.
	AllocationCycleDuration = metrics.NewHistogram(&metrics.HistogramOpts{
		Namespace: namespace, Name: "allocation_cycle_duration_seconds",
		Help:           "Duration of the embedded allocator's allocation cycles.",
		Buckets:        metrics.ExponentialBuckets(0.0001, 2, 16),
		StabilityLevel: metrics.ALPHA,
	})

	// SourceOffers counts offers by source (offer.Multi's members) and
	// what happened to them.
	SourceOffers = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: namespace, Name: "source_offers_total",
		Help:           "Offers by offer source and event: made, accepted (ACCEPT calls), declined, rescinded.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"source", "event"})
	// SourceConnected says whether each source is subscribed to its master.
	SourceConnected = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: namespace, Name: "source_connected",
		Help:           "1 while the offer source is subscribed to its Mesos master (always 1 for the embedded allocator), else 0.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"source"})
	// SourceLeader names the master each source is subscribed to (1 on the
	// current leader's series; none while disconnected).
	SourceLeader = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: namespace, Name: "source_leader_info",
		Help:           "1 for the leading Mesos master (host:port) each offer source is subscribed to.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"source", "leader"})
	// SourceNodes counts the schedulable nodes each source serves.
	SourceNodes = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: namespace, Name: "source_nodes",
		Help:           "Nodes each offer source serves (by its node selector; the embedded allocator: the rest).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"source"})

	registerOnce sync.Once
)

// Register registers every metric once per process.
func Register() {
	registerOnce.Do(func() {
		for _, c := range []metrics.Registerable{
			RoleDominantShare, RoleWeightedShare, RoleWeight, RoleAllocation, RoleGuarantee, RoleLimit,
			RolePendingPods, GateRejections, RoleFairShare, RoleFairPods, PreemptionEvictions,
			Offers, OfferBookSize, AllocationCycleDuration, SourceOffers, SourceConnected, SourceLeader, SourceNodes,
		} {
			legacyregistry.MustRegister(c)
		}
	})
}

// Value converts an amount in our base units to the metric's unit: cores
// for cpu (we count millicores), the base unit otherwise.
func Value(name v1.ResourceName, n int64) float64 {
	if name == v1.ResourceCPU {
		return float64(n) / 1000
	}
	return float64(n)
}

// Units converts a metric's value back to our base units (Value's inverse),
// rounded to the nearest unit.
func Units(name v1.ResourceName, v float64) int64 {
	if name == v1.ResourceCPU {
		v *= 1000
	}
	return int64(math.Round(v))
}

// Offer events (offer.Multi counts its members' with the same names).
const (
	OfferMade      = offer.EventMade
	OfferAccepted  = offer.EventAccepted
	OfferDeclined  = offer.EventDeclined
	OfferRescinded = offer.EventRescinded
)

// Eviction reasons.
const (
	EvictionFairShare = "fair-share"
	EvictionPriority  = "priority"
)
