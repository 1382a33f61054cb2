package hetero

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/hardware"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/metrics"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// metricsInterval is how often the accelerator metrics follow the cluster
// while it changes.
const metricsInterval = 2 * time.Second

// runMetrics exports the accelerator metrics per model whenever nodes,
// ResourceSlices or pods changed since the last export, and drops the
// series of models that are gone.
func (pl *Hetero) runMetrics(ctx context.Context) {
	var last uint64
	exported := sets.New[string]()
	first := true
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		v := pl.store.Version() + pl.podEvents.Load()
		if v == last && !first {
			return
		}
		first, last = false, v
		exported = pl.exportMetrics(ctx, exported)
	}, metricsInterval)
}

func (pl *Hetero) exportMetrics(ctx context.Context, before sets.Set[string]) sets.Set[string] {
	usage, err := pl.clusterUsage()
	if err != nil {
		klog.FromContext(ctx).V(2).Info("Accelerator metrics not updated", "err", err)
		return before
	}
	now := sets.New[string]()
	for model, s := range hardware.Summarize(usage) {
		now.Insert(model)
		metrics.AcceleratorCapacity.WithLabelValues(model).Set(float64(s.Capacity))
		metrics.AcceleratorAllocated.WithLabelValues(model).Set(float64(s.Allocated))
		metrics.AcceleratorFragmentedNodes.WithLabelValues(model).Set(float64(s.FragmentedNodes))
		metrics.AcceleratorLargestFreeBlock.WithLabelValues(model).Set(float64(s.LargestFreeBlock))
	}
	for gone := range before.Difference(now) {
		metrics.AcceleratorCapacity.DeleteLabelValues(gone)
		metrics.AcceleratorAllocated.DeleteLabelValues(gone)
		metrics.AcceleratorFragmentedNodes.DeleteLabelValues(gone)
		metrics.AcceleratorLargestFreeBlock.DeleteLabelValues(gone)
	}
	return now
}

// clusterUsage returns every node's accelerator capacity and use: the
// accelerator requests of the bound, non-terminal pods (from the shared pod
// informer) and the allocated DRA devices.
func (pl *Hetero) clusterUsage() ([]hardware.NodeUsage, error) {
	pods, err := pl.handle.SharedInformerFactory().Core().V1().Pods().Lister().List(labels.Everything())
	if err != nil {
		return nil, err
	}
	used := map[string]int64{}
	for _, p := range pods {
		if p.Spec.NodeName == "" || resources.IsTerminal(p) {
			continue
		}
		req := resources.PodRequests(p)
		for _, r := range pl.args.AcceleratorResources {
			used[p.Spec.NodeName] += req[r]
		}
	}
	var dra map[string]int64
	if pl.store.HasDRA() {
		if dra, err = pl.draUsage(); err != nil {
			return nil, err
		}
	}
	var out []hardware.NodeUsage
	for _, n := range pl.store.Nodes() {
		if c := n.Extended + n.DRADevices; c > 0 {
			out = append(out, hardware.NodeUsage{Model: n.Product, Capacity: c, Used: used[n.Name] + dra[n.Name]})
		}
	}
	return out, nil
}
