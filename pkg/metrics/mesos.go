package metrics

import (
	"sync"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

var (
	// MesosSubscriptions counts SUBSCRIBED events (first and re-subscriptions).
	MesosSubscriptions = metrics.NewCounter(&metrics.CounterOpts{
		Namespace: namespace, Name: "mesos_subscriptions_total",
		Help: "Subscriptions to a Mesos master (SUBSCRIBED events).", StabilityLevel: metrics.ALPHA,
	})
	// MesosMissedHeartbeats counts subscriptions ended by the heartbeat watchdog.
	MesosMissedHeartbeats = metrics.NewCounter(&metrics.CounterOpts{
		Namespace: namespace, Name: "mesos_heartbeat_timeouts_total",
		Help: "Subscriptions ended because heartbeats stopped.", StabilityLevel: metrics.ALPHA,
	})
	// MesosCalls counts calls to the master by type and outcome.
	MesosCalls = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: namespace, Name: "mesos_calls_total",
		Help: "Calls to the Mesos master by type (ACCEPT, DECLINE, ...) and outcome (ok, error).", StabilityLevel: metrics.ALPHA,
	}, []string{"type", "outcome"})
	// MesosTaskStates counts task status updates by state.
	MesosTaskStates = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: namespace, Name: "mesos_task_updates_total",
		Help: "Task status updates received, by state.", StabilityLevel: metrics.ALPHA,
	}, []string{"state"})
	// MesosUnmatchedAgents is the number of agents that map to no node.
	MesosUnmatchedAgents = metrics.NewGauge(&metrics.GaugeOpts{
		Namespace: namespace, Name: "mesos_agents_without_node",
		Help: "Agents seen in offers whose hostname maps to no node (never scheduled onto).", StabilityLevel: metrics.ALPHA,
	})
	// MesosNodesWithoutAgent is the number of schedulable nodes no offer named.
	MesosNodesWithoutAgent = metrics.NewGauge(&metrics.GaugeOpts{
		Namespace: namespace, Name: "mesos_nodes_without_agent",
		Help: "Schedulable nodes that no Mesos agent seen in offers maps to (never scheduled onto).", StabilityLevel: metrics.ALPHA,
	})

	// MesosSuppressedRoles is the number of the framework's roles the
	// master suppresses for it (no offers) in the current subscription.
	MesosSuppressedRoles = metrics.NewGauge(&metrics.GaugeOpts{
		Namespace: namespace, Name: "mesos_suppressed_roles",
		Help: "Roles of the framework the Mesos master sends no offers for (suppressed), in the current subscription.", StabilityLevel: metrics.ALPHA,
	})
	// MesosFrameworkRoles is the number of roles the framework subscribes to.
	MesosFrameworkRoles = metrics.NewGauge(&metrics.GaugeOpts{
		Namespace: namespace, Name: "mesos_framework_roles",
		Help: "Roles the framework is subscribed to at the Mesos master (FrameworkInfo.roles).", StabilityLevel: metrics.ALPHA,
	})

	registerMesosOnce sync.Once
)

// MesosTasksRelaunched counts tasks relaunched for bound pods whose task
// the master did not run (OrphanPodPolicy Relaunch).
var MesosTasksRelaunched = metrics.NewCounter(&metrics.CounterOpts{
	Namespace: namespace, Name: "mesos_tasks_relaunched_total",
	Help: "Tasks relaunched for bound pods whose Mesos task was missing.", StabilityLevel: metrics.ALPHA,
})

// MesosPodsRemoved counts pods evicted or deleted because their task was
// missing and could not be relaunched (orphan) or their agent was gone
// (task_gone).
var MesosPodsRemoved = metrics.NewCounterVec(&metrics.CounterOpts{
	Namespace: namespace, Name: "mesos_pods_removed_total",
	Help: "Pods evicted or deleted because their Mesos task was missing or gone, by cause.", StabilityLevel: metrics.ALPHA,
}, []string{"cause"})

// MesosSubscriptionErrors counts subscriptions that failed or ended, by
// class: tls, unauthenticated, unauthorized, unreachable, ended, other.
var MesosSubscriptionErrors = metrics.NewCounterVec(&metrics.CounterOpts{
	Namespace: namespace, Name: "mesos_subscription_errors_total",
	Help: "Subscriptions to the Mesos master that failed or ended, by class of error.", StabilityLevel: metrics.ALPHA,
}, []string{"class"})

// RegisterMesos registers the Mesos-source metrics once per process.
func RegisterMesos() {
	registerMesosOnce.Do(func() {
		for _, c := range []metrics.Registerable{
			MesosSubscriptions, MesosMissedHeartbeats, MesosCalls, MesosTaskStates, MesosUnmatchedAgents, MesosNodesWithoutAgent,
			MesosTasksRelaunched, MesosPodsRemoved, MesosSubscriptionErrors, MesosSuppressedRoles, MesosFrameworkRoles,
		} {
			legacyregistry.MustRegister(c)
		}
	})
}
