// Package plugins assembles the out-of-tree registry of the three plugins.
// The DRF and MesosOffers plugins of one profile share one cluster.State,
// handed out by a cluster.Provider that belongs to the registry, not to a
// package variable: two registries (two schedulers in one test process)
// never share state. Hetero judges hardware for the profile's embedded
// allocator through the same provider (cluster.Placement).
package plugins

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"

	"k8s.io/apimachinery/pkg/runtime"
	fwk "k8s.io/kube-scheduler/framework"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/cluster"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins/drf"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins/hetero"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins/offers"
)

// Option changes what NewRegistry's factories accept.
type Option func(*options)

type options struct{ allowDefaultName bool }

// AllowDefaultSchedulerName lets the plugins run in a profile named
// default-scheduler. Only for harnesses whose pods name no scheduler
// (scheduler_perf): in a cluster, that profile would take every pod that
// names no scheduler, competing with the cluster's default scheduler.
func AllowDefaultSchedulerName() Option { return func(o *options) { o.allowDefaultName = true } }

// NewRegistry returns the factories of MesosOffers, DRF and Hetero. Each
// refuses a profile named default-scheduler unless the option allows it.
func NewRegistry(opts ...Option) frameworkruntime.Registry {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	provider := cluster.NewProvider()
	checked := func(name string, f frameworkruntime.PluginFactory) frameworkruntime.PluginFactory {
		return func(ctx context.Context, obj runtime.Object, h fwk.Handle) (fwk.Plugin, error) {
			if h.ProfileName() == v1.DefaultSchedulerName && !o.allowDefaultName {
				return nil, fmt.Errorf("profiles[].schedulerName %q: the %s plugin needs a profile of its own: named %q, it would place every pod that names no scheduler, competing with the cluster's default scheduler; name the profile (e.g. kube-mesos-scheduler) and set that name in the pods' spec.schedulerName",
					h.ProfileName(), name, v1.DefaultSchedulerName)
			}
			return f(ctx, obj, h)
		}
	}
	return frameworkruntime.Registry{
		offers.Name: checked(offers.Name, func(ctx context.Context, obj runtime.Object, h fwk.Handle) (fwk.Plugin, error) {
			return offers.New(ctx, obj, h, provider)
		}),
		drf.Name: checked(drf.Name, func(ctx context.Context, obj runtime.Object, h fwk.Handle) (fwk.Plugin, error) {
			return drf.New(ctx, obj, h, provider)
		}),
		hetero.Name: checked(hetero.Name, func(ctx context.Context, obj runtime.Object, h fwk.Handle) (fwk.Plugin, error) {
			pl, err := hetero.New(ctx, obj, h)
			if err != nil {
				return nil, err
			}
			// The embedded allocator of the profile asks Hetero which
			// agents suit a pod's hardware (cluster.Placement).
			provider.PlacementSlot(ctx, h).Set(pl.(*hetero.Hetero))
			return pl, nil
		}),
	}
}
