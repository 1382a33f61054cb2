// Package plugins assembles the out-of-tree registry of the three plugins.
// The DRF and MesosOffers plugins of one profile share one cluster.State,
// handed out by a cluster.Provider that belongs to the registry, not to a
// package variable: two registries (two schedulers in one test process)
// never share state. Hetero judges hardware for the profile's embedded
// allocator through the same provider (cluster.Placement).
package plugins

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"
	fwk "k8s.io/kube-scheduler/framework"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/cluster"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins/drf"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins/hetero"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/plugins/offers"
)

// NewRegistry returns the factories of MesosOffers, DRF and Hetero.
func NewRegistry() frameworkruntime.Registry {
	provider := cluster.NewProvider()
	return frameworkruntime.Registry{
		offers.Name: func(ctx context.Context, obj runtime.Object, h fwk.Handle) (fwk.Plugin, error) {
			return offers.New(ctx, obj, h, provider)
		},
		drf.Name: func(ctx context.Context, obj runtime.Object, h fwk.Handle) (fwk.Plugin, error) {
			return drf.New(ctx, obj, h, provider)
		},
		hetero.Name: func(ctx context.Context, obj runtime.Object, h fwk.Handle) (fwk.Plugin, error) {
			pl, err := hetero.New(ctx, obj, h)
			if err != nil {
				return nil, err
			}
			// The embedded allocator of the profile asks Hetero which
			// agents suit a pod's hardware (cluster.Placement).
			provider.PlacementSlot(ctx, h).Set(pl.(*hetero.Hetero))
			return pl, nil
		},
	}
}
