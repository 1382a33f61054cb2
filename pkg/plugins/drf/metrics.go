package drf

import (
	"context"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/metrics"
)

// metricsInterval is how often role metrics follow the state.
const metricsInterval = time.Second

// runMetrics exports the role gauges once a second while the state changes,
// and drops the series of roles that are gone.
func (pl *DRF) runMetrics(ctx context.Context) {
	var version uint64
	exported := sets.New[string]()
	wait.UntilWithContext(ctx, func(context.Context) {
		if v := pl.state.Version(); v != version || version == 0 {
			version = v
			exported = pl.exportRoles(exported)
		}
	}, metricsInterval)
}

func (pl *DRF) exportRoles(before sets.Set[string]) sets.Set[string] {
	now := sets.New[string]()
	targets := pl.state.Targets()
	for _, r := range pl.state.Roles() {
		now.Insert(r.Name)
		if t, ok := targets.Of(r.Name); ok {
			metrics.RoleFairShare.WithLabelValues(r.Name).Set(t.Share)
			metrics.RoleFairPods.WithLabelValues(r.Name).Set(float64(t.Pods))
		}
		metrics.RoleDominantShare.WithLabelValues(r.Name).Set(r.DominantShare)
		metrics.RoleWeightedShare.WithLabelValues(r.Name).Set(r.Key)
		metrics.RoleWeight.WithLabelValues(r.Name).Set(r.Weight)
		metrics.RolePendingPods.WithLabelValues(r.Name).Set(float64(r.Pending))
		for _, name := range pl.state.Resources() {
			metrics.RoleAllocation.WithLabelValues(r.Name, string(name)).Set(metrics.Value(name, r.Allocation[name]))
			setOrDelete(metrics.RoleGuarantee.WithLabelValues, metrics.RoleGuarantee.DeleteLabelValues, r.Name, name, r.Guarantee)
			setOrDelete(metrics.RoleLimit.WithLabelValues, metrics.RoleLimit.DeleteLabelValues, r.Name, name, r.Limit)
		}
	}
	for gone := range before.Difference(now) {
		metrics.RoleDominantShare.DeleteLabelValues(gone)
		metrics.RoleWeightedShare.DeleteLabelValues(gone)
		metrics.RoleWeight.DeleteLabelValues(gone)
		metrics.RolePendingPods.DeleteLabelValues(gone)
		metrics.RoleFairShare.DeleteLabelValues(gone)
		metrics.RoleFairPods.DeleteLabelValues(gone)
		for _, name := range pl.state.Resources() {
			metrics.RoleAllocation.DeleteLabelValues(gone, string(name))
			metrics.RoleGuarantee.DeleteLabelValues(gone, string(name))
			metrics.RoleLimit.DeleteLabelValues(gone, string(name))
		}
	}
	return now
}

func setOrDelete[G interface{ Set(float64) }](get func(...string) G, del func(...string) bool, role string, name v1.ResourceName, q map[v1.ResourceName]int64) {
	if n, ok := q[name]; ok {
		get(role, string(name)).Set(metrics.Value(name, n))
		return
	}
	del(role, string(name))
}
