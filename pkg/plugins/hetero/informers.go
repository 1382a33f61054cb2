package hetero

import (
	v1 "k8s.io/api/core/v1"
	resourceapi "k8s.io/api/resource/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/hardware"
)

// watch keeps the hardware store current from the scheduler's shared
// informers (no watches of its own): nodes and ResourceSlices rebuild node
// models; pod events only tell the metrics loop that usage may have changed.
func (pl *Hetero) watch(f informers.SharedInformerFactory) error {
	if _, err := f.Core().V1().Nodes().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { withObj(obj, pl.store.SetNode) },
		UpdateFunc: func(_, obj any) { withObj(obj, pl.store.SetNode) },
		DeleteFunc: func(obj any) { withObj(obj, func(n *v1.Node) { pl.store.DeleteNode(n.Name) }) },
	}); err != nil {
		return err
	}
	if _, err := f.Resource().V1().ResourceSlices().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { withObj(obj, pl.store.SetSlice) },
		UpdateFunc: func(_, obj any) { withObj(obj, pl.store.SetSlice) },
		DeleteFunc: func(obj any) {
			withObj(obj, func(s *resourceapi.ResourceSlice) { pl.store.DeleteSlice(s.Name) })
		},
	}); err != nil {
		return err
	}
	_, err := f.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { pl.podEvents.Add(1) },
		UpdateFunc: func(_, _ any) { pl.podEvents.Add(1) },
		DeleteFunc: func(any) { pl.podEvents.Add(1) },
	})
	return err
}

// withObj calls f with the object of an event, unwrapping tombstones.
func withObj[T any](obj any, f func(T)) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if o, ok := obj.(T); ok {
		f(o)
	}
}

// draUsage counts the allocated DRA accelerator devices per node (the
// claims the scheduler has allocated or is allocating included).
func (pl *Hetero) draUsage() (map[string]int64, error) {
	dm := pl.handle.SharedDRAManager()
	if dm == nil {
		return nil, nil
	}
	ids, err := dm.ResourceClaims().ListAllAllocatedDevices()
	if err != nil {
		return nil, err
	}
	devices := make([]hardware.DeviceID, 0, len(ids))
	for id := range ids {
		devices = append(devices, hardware.DeviceID{Driver: id.Driver.String(), Pool: id.Pool.String(), Device: id.Device.String()})
	}
	return pl.store.CountByNode(devices), nil
}
