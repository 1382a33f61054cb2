// Package harness is what the integration tests, the benchmarks and the
// emulator's tests share: the in-process control plane and scheduler of
// internal/controlplane under their historical names, object builders,
// waits on conditions without fixed sleeps, metrics scraping, tenants that
// recreate evicted pods, a raw Mesos framework and ZooKeeper.
package harness

import (
	"github.com/kube-mesos/kube-mesos-scheduler/internal/controlplane"
)

type (
	// ControlPlane is controlplane.ControlPlane.
	ControlPlane = controlplane.ControlPlane
	// ControlPlaneOption is controlplane.Option.
	ControlPlaneOption = controlplane.Option
	// Scheduler is controlplane.Scheduler.
	Scheduler = controlplane.Scheduler
	// SchedulerOption is controlplane.SchedulerOption.
	SchedulerOption = controlplane.SchedulerOption
	// ProcessTB is controlplane.ProcessTB.
	ProcessTB = controlplane.ProcessTB
)

var (
	// StartControlPlane is controlplane.Start.
	StartControlPlane = controlplane.Start
	// WithAPIServerFlags is controlplane.WithAPIServerFlags.
	WithAPIServerFlags = controlplane.WithAPIServerFlags
	// StartScheduler is controlplane.StartScheduler.
	StartScheduler = controlplane.StartScheduler
	// WithRESTConfig is controlplane.WithRESTConfig.
	WithRESTConfig = controlplane.WithRESTConfig
	// WriteKubeconfig is controlplane.WriteKubeconfig.
	WriteKubeconfig = controlplane.WriteKubeconfig
	// NewProcessTB is controlplane.NewProcessTB.
	NewProcessTB = controlplane.NewProcessTB
	// ServeMetrics is controlplane.ServeMetrics.
	ServeMetrics = controlplane.ServeMetrics
)
