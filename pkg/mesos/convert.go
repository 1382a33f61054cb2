package mesos

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	v1 "k8s.io/api/core/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/offer"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
)

// Mesos scalar resources and their Kubernetes names. mem and disk are in
// MB (MiB) in Mesos, bytes here; cpus are cores in Mesos, millicores here.
const (
	mesosCPUs  = "cpus"
	mesosMem   = "mem"
	mesosDisk  = "disk"
	mesosGPUs  = "gpus"
	mesosPorts = "ports"
	mib        = 1 << 20

	// GPUResource is the Kubernetes resource Mesos "gpus" map to.
	GPUResource = v1.ResourceName("nvidia.com/gpu")

	// Labels on the placeholder task of a pod.
	labelNamespace = "kube-mesos.io/namespace"
	labelName      = "kube-mesos.io/name"
)

// toVector converts Mesos resources to our vector, port ranges and kind:
// reserved when every resource is reserved to the role, revocable when any is
// revocable, unreserved otherwise.
func toVector(rs []mesos.Resource, role string) (resources.Vector, resources.Ranges, offer.Kind) {
	v := resources.Vector{}
	var ports resources.Ranges
	reserved, revocable := true, false
	for i := range rs {
		r := &rs[i]
		if r.IsRevocable() {
			revocable = true
		}
		if !r.IsReserved(role) {
			reserved = false
		}
		switch r.GetName() {
		case mesosCPUs:
			v[v1.ResourceCPU] += int64(math.Round(r.GetScalar().GetValue() * 1000))
		case mesosMem:
			v[v1.ResourceMemory] += int64(math.Round(r.GetScalar().GetValue() * mib))
		case mesosDisk:
			v[v1.ResourceEphemeralStorage] += int64(math.Round(r.GetScalar().GetValue() * mib))
		case mesosGPUs:
			v[GPUResource] += int64(math.Round(r.GetScalar().GetValue()))
		case mesosPorts:
			for _, pr := range r.GetRanges().GetRange() {
				ports = ports.Union(resources.Ranges{{Begin: pr.Begin, End: pr.End}})
			}
		}
	}
	kind := offer.Unreserved
	switch {
	case revocable:
		kind = offer.Revocable
	case reserved && len(rs) > 0:
		kind = offer.Reserved
	}
	return v, ports, kind
}

// attributes flattens Mesos agent attributes into strings.
func attributes(as []mesos.Attribute) map[string]string {
	out := make(map[string]string, len(as))
	for _, a := range as {
		switch {
		case a.Text != nil:
			out[a.Name] = a.Text.Value
		case a.Scalar != nil:
			out[a.Name] = strconv.FormatFloat(a.Scalar.Value, 'f', -1, 64)
		}
	}
	return out
}

// convert turns a Mesos offer into ours, for the node the agent maps to.
// The pod slots of the node (Mesos has no such resource) are added from the
// cluster state, so pods fit an offer as they fit the node.
func convert(o *mesos.Offer, node string, freePods int64, now time.Time) offer.Offer {
	role := o.GetAllocationInfo().GetRole()
	v, ports, kind := toVector(o.Resources, role)
	if freePods > 0 {
		v[v1.ResourcePods] = freePods
	}
	out := offer.Offer{
		ID: o.ID.Value, AgentID: o.AgentID.Value, Node: node, Role: role, Kind: kind,
		Resources: v, Ports: ports, Attributes: attributes(o.Attributes), Received: now,
	}
	if u := o.GetUnavailability(); u != nil {
		w := &offer.Window{Start: time.Unix(0, u.Start.Nanoseconds)}
		if u.Duration != nil {
			w.Duration = time.Duration(u.Duration.Nanoseconds)
		}
		out.Unavailability = w
	}
	return out
}

// need is what a pod's task must hold, in Mesos units.
type need struct {
	scalars map[string]float64
	ports   []int32
}

func needOf(l offer.Launch) need {
	n := need{scalars: map[string]float64{}, ports: l.Ports}
	add := func(name string, v float64) {
		if v > 0 {
			n.scalars[name] = math.Ceil(v*1000) / 1000 // Mesos keeps three decimals
		}
	}
	add(mesosCPUs, float64(l.Resources[v1.ResourceCPU])/1000)
	add(mesosMem, float64(l.Resources[v1.ResourceMemory])/mib)
	add(mesosDisk, float64(l.Resources[v1.ResourceEphemeralStorage])/mib)
	add(mesosGPUs, float64(l.Resources[GPUResource]))
	return n
}

// taskInfo builds the placeholder task of a pod: its ID is the pod's UID,
// its resources exactly the pod's requests carved out of the offer (reserved
// resources first), with the offer's allocation role.
func taskInfo(o *mesos.Offer, l offer.Launch, command string) (mesos.TaskInfo, error) {
	avail := make([]mesos.Resource, len(o.Resources))
	for i := range o.Resources {
		avail[i] = o.Resources[i] // shallow: only Scalar is modified, and copied
		if sc := avail[i].Scalar; sc != nil {
			c := *sc
			avail[i].Scalar = &c
		}
	}
	sort.SliceStable(avail, func(i, j int) bool { return avail[i].ReservationRole() != "*" && avail[j].ReservationRole() == "*" })
	n := needOf(l)
	var rs []mesos.Resource
	for _, name := range []string{mesosCPUs, mesosMem, mesosDisk, mesosGPUs} {
		want := n.scalars[name]
		for i := range avail {
			if want <= 0 {
				break
			}
			r := &avail[i]
			if r.GetName() != name || r.GetScalar() == nil || r.GetScalar().GetValue() <= 0 {
				continue
			}
			take := math.Min(want, r.GetScalar().GetValue())
			part := *r
			part.Scalar = &mesos.Value_Scalar{Value: take}
			r.Scalar.Value -= take
			want -= take
			rs = append(rs, part)
		}
		if want > 1e-9 {
			return mesos.TaskInfo{}, fmt.Errorf("offer %s lacks %.3f %s for pod %s/%s", o.ID.Value, want, name, l.Pod.Namespace, l.Pod.Name)
		}
	}
	for _, p := range n.ports {
		r, ok := portResource(avail, uint64(p))
		if !ok {
			return mesos.TaskInfo{}, fmt.Errorf("offer %s does not hold port %d for pod %s/%s", o.ID.Value, p, l.Pod.Namespace, l.Pod.Name)
		}
		rs = append(rs, r)
	}
	shell := true
	cmd := command
	return mesos.TaskInfo{
		Name:      l.Pod.Namespace + "/" + l.Pod.Name,
		TaskID:    mesos.TaskID{Value: string(l.Pod.UID)},
		AgentID:   o.AgentID,
		Resources: rs,
		Command:   &mesos.CommandInfo{Value: &cmd, Shell: &shell},
		Labels: &mesos.Labels{Labels: []mesos.Label{
			{Key: labelNamespace, Value: &l.Pod.Namespace},
			{Key: labelName, Value: &l.Pod.Name},
		}},
	}, nil
}

// portResource returns a ports resource holding just port p, shaped like the
// offer's ports resource that contains it.
func portResource(avail []mesos.Resource, p uint64) (mesos.Resource, bool) {
	for i := range avail {
		r := &avail[i]
		if r.GetName() != mesosPorts {
			continue
		}
		for _, pr := range r.GetRanges().GetRange() {
			if pr.Begin <= p && p <= pr.End {
				part := *r
				part.Ranges = &mesos.Value_Ranges{Range: []mesos.Value_Range{{Begin: p, End: p}}}
				return part, true
			}
		}
	}
	return mesos.Resource{}, false
}
