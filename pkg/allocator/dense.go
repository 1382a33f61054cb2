package allocator

import (
	v1 "k8s.io/api/core/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/offer"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// densify makes the agents' free resources (allocatable - used -
// outstanding offers, floored at zero) and the demands dense over the
// resources the demands ask for, and sums the free resources.
func densify(in *cycleIn, outstanding []offer.Offer, byName map[string]*agent) {
	in.dims = newDims()
	for _, ri := range in.roles {
		for i := range ri.demand {
			in.dims.add(ri.demand[i].req)
		}
	}
	n := len(in.dims.names)
	slab := make(dvec, n*(len(in.agents)+1))
	in.freeTotal = slab[:n:n]
	for i, ag := range in.agents {
		free := slab[n*(i+1) : n*(i+2) : n*(i+2)]
		for j, k := range in.dims.names {
			free[j] = ag.alloc[k] - ag.used[k]
		}
		ag.free = free
	}
	for i := range outstanding {
		o := &outstanding[i]
		if ag := byName[o.Node]; ag != nil {
			for j, k := range in.dims.names {
				ag.free[j] -= o.Resources[k]
			}
			ag.ports = ag.ports.Minus(o.Ports)
		}
	}
	for _, ag := range in.agents {
		for j := range ag.free {
			if ag.free[j] < 0 {
				ag.free[j] = 0
			}
		}
		in.freeTotal.add(ag.free)
	}
	byShape := map[string]dvec{}
	for _, ri := range in.roles {
		for i := range ri.demand {
			d := &ri.demand[i]
			dv, ok := byShape[d.shape]
			if !ok {
				dv = in.dims.dense(d.req, make(dvec, n))
				byShape[d.shape] = dv
			}
			d.dreq = dv
		}
	}
}

// dims numbers, for one cycle, the resources the pending pods ask for: only
// those decide whether a pod fits an agent, so the cycle's inner loop works
// on small dense vectors instead of maps.
type dims struct {
	names []v1.ResourceName
	index map[v1.ResourceName]int
}

func newDims() *dims { return &dims{index: map[v1.ResourceName]int{}} }

// add makes every resource v asks for a dimension.
func (d *dims) add(v resources.Vector) {
	for k, n := range v {
		if n <= 0 {
			continue
		}
		if _, ok := d.index[k]; !ok {
			d.index[k] = len(d.names)
			d.names = append(d.names, k)
		}
	}
}

// dense converts v over the dimensions into out (resources that are not
// dimensions are ignored) and returns it.
func (d *dims) dense(v resources.Vector, out dvec) dvec {
	for i, k := range d.names {
		out[i] = v[k]
	}
	return out
}

// vector converts back to a Vector, dropping zero entries.
func (d *dims) vector(x dvec) resources.Vector {
	out := make(resources.Vector, len(d.names))
	for i, n := range x {
		if n != 0 {
			out[d.names[i]] = n
		}
	}
	return out
}

// dvec is a dense resource vector over a cycle's dims.
type dvec []int64

// fits reports whether every positive entry of x is at most free's.
func (x dvec) fits(free dvec) bool {
	for i, n := range x {
		if n > 0 && n > free[i] {
			return false
		}
	}
	return true
}

func (x dvec) sub(y dvec) {
	for i := range x {
		x[i] -= y[i]
	}
}

func (x dvec) add(y dvec) {
	for i := range x {
		x[i] += y[i]
	}
}
