package simulate

import (
	"fmt"
	"slices"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/roles"
)

// Bounds that keep a simulation small enough to run on a laptop.
const (
	maxNodesPerSpec = 1000
	maxReplicas     = 10000
)

// Validate checks a scenario and returns every problem, each naming its
// field: workloads[2].requests.cpu: Invalid value: "x": invalid quantity.
func Validate(sc *Scenario) error {
	var errs field.ErrorList
	errs = append(errs, validateNodes(field.NewPath("nodes"), sc.Nodes)...)
	drf := sc.DRFResources()
	errs = append(errs, validateDRF(field.NewPath("drf"), sc.DRF)...)
	errs = append(errs, validateNamespaces(field.NewPath("namespaces"), sc.Namespaces, drf)...)
	declared := sets.New[string]()
	for _, ns := range sc.Namespaces {
		declared.Insert(ns.Name)
	}
	errs = append(errs, validateWorkloads(field.NewPath("workloads"), sc.Workloads, declared)...)
	if sc.Mesos != nil {
		errs = append(errs, validateAgents(field.NewPath("mesos", "agents"), sc.Mesos.Agents)...)
		errs = append(errs, validateMasters(field.NewPath("mesos"), sc.Mesos, sc.nodeNames())...)
	}
	return errs.ToAggregate()
}

func validateNodes(path *field.Path, nodes []NodeSpec) field.ErrorList {
	var errs field.ErrorList
	if len(nodes) == 0 {
		errs = append(errs, field.Required(path, "a scenario needs at least one node"))
	}
	seen := sets.New[string]()
	for i, n := range nodes {
		p := path.Index(i)
		if n.Count < 0 || n.Count > maxNodesPerSpec {
			errs = append(errs, field.Invalid(p.Child("count"), n.Count, fmt.Sprintf("must be between 1 and %d (omitted: 1)", maxNodesPerSpec)))
			continue
		}
		for _, msg := range validation.IsDNS1123Subdomain(n.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), n.Name, msg))
		}
		for _, name := range n.NodeNames() {
			if seen.Has(name) {
				errs = append(errs, field.Duplicate(p.Child("name"), name))
			}
			seen.Insert(name)
		}
		if len(n.Capacity) == 0 {
			errs = append(errs, field.Required(p.Child("capacity"), "e.g. {cpu: 8, memory: 32Gi}"))
		}
		_, e := parseResources(p.Child("capacity"), n.Capacity)
		errs = append(errs, e...)
		errs = append(errs, metav1validation.ValidateLabels(n.Labels, p.Child("labels"))...)
		for j, t := range n.Taints {
			tp := p.Child("taints").Index(j)
			for _, msg := range validation.IsQualifiedName(t.Key) {
				errs = append(errs, field.Invalid(tp.Child("key"), t.Key, msg))
			}
			switch t.Effect {
			case v1.TaintEffectNoSchedule, v1.TaintEffectPreferNoSchedule, v1.TaintEffectNoExecute:
			default:
				errs = append(errs, field.NotSupported(tp.Child("effect"), t.Effect,
					[]v1.TaintEffect{v1.TaintEffectNoSchedule, v1.TaintEffectPreferNoSchedule, v1.TaintEffectNoExecute}))
			}
		}
	}
	return errs
}

func validateDRF(path *field.Path, d *DRFSpec) field.ErrorList {
	if d == nil {
		return nil
	}
	var errs field.ErrorList
	counted := sets.New(d.Resources...)
	for i, r := range d.Resources {
		errs = append(errs, validateResourceName(path.Child("resources").Index(i), r)...)
	}
	for i, r := range d.ExcludedResourceNames {
		if len(d.Resources) > 0 && !counted.Has(r) {
			errs = append(errs, field.Invalid(path.Child("excludedResourceNames").Index(i), r, "is not in resources"))
		}
	}
	switch d.Preemption {
	case "", "FairShare", "Priority", "Never":
	default:
		errs = append(errs, field.NotSupported(path.Child("preemption"), d.Preemption, []string{"FairShare", "Priority", "Never"}))
	}
	return errs
}

func validateNamespaces(path *field.Path, nss []NamespaceSpec, drf []v1.ResourceName) field.ErrorList {
	var errs field.ErrorList
	if len(nss) == 0 {
		errs = append(errs, field.Required(path, "a scenario needs at least one namespace"))
	}
	seen := sets.New[string]()
	for i, ns := range nss {
		p := path.Index(i)
		for _, msg := range validation.IsDNS1123Label(ns.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), ns.Name, msg))
		}
		if seen.Has(ns.Name) {
			errs = append(errs, field.Duplicate(p.Child("name"), ns.Name))
		}
		seen.Insert(ns.Name)
		if ns.Role != "" {
			if err := roles.ValidateName(ns.Role); err != nil {
				errs = append(errs, field.Invalid(p.Child("role"), ns.Role, err.Error()))
			}
		}
		if ns.Weight != "" {
			if _, err := roles.ParseWeight(string(ns.Weight)); err != nil {
				errs = append(errs, field.Invalid(p.Child("weight"), string(ns.Weight), err.Error()))
			}
		}
		if ns.Quota != nil {
			errs = append(errs, validateQuota(p.Child("quota"), ns.Quota, drf)...)
		}
	}
	return errs
}

// validateQuota checks quantities, that every resource counts for DRF
// (others could never be enforced), and min <= max.
func validateQuota(path *field.Path, q *QuotaSpec, drf []v1.ResourceName) field.ErrorList {
	min, errs := parseResources(path.Child("min"), q.Min)
	max, e := parseResources(path.Child("max"), q.Max)
	errs = append(errs, e...)
	for _, part := range []struct {
		name string
		list map[string]Amount
	}{{"min", q.Min}, {"max", q.Max}} {
		for _, r := range sortedKeys(part.list) {
			if !slices.Contains(drf, v1.ResourceName(r)) {
				errs = append(errs, field.Invalid(path.Child(part.name, r), string(part.list[r]),
					fmt.Sprintf("is not one of the resources that count for DRF %v (drf.resources)", drf)))
			}
		}
	}
	for name, lo := range min {
		if hi, ok := max[name]; ok && lo.Cmp(hi) > 0 {
			errs = append(errs, field.Invalid(path.Child("min", string(name)), string(q.Min[string(name)]),
				fmt.Sprintf("exceeds max %s", q.Max[string(name)])))
		}
	}
	return errs
}

func validateWorkloads(path *field.Path, ws []WorkloadSpec, namespaces sets.Set[string]) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, w := range ws {
		p := path.Index(i)
		if !namespaces.Has(w.Namespace) {
			errs = append(errs, field.NotFound(p.Child("namespace"), w.Namespace))
		}
		for _, msg := range validation.IsDNS1123Label(w.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), w.Name, msg))
		}
		if key := w.Namespace + "/" + w.Name; seen.Has(key) {
			errs = append(errs, field.Duplicate(p.Child("name"), w.Name))
		} else {
			seen.Insert(key)
		}
		if w.Replicas < 0 || w.Replicas > maxReplicas {
			errs = append(errs, field.Invalid(p.Child("replicas"), w.Replicas, fmt.Sprintf("must be between 1 and %d (omitted: 1)", maxReplicas)))
		}
		_, e := parseResources(p.Child("requests"), w.Requests)
		errs = append(errs, e...)
		errs = append(errs, metav1validation.ValidateLabels(w.Labels, p.Child("labels"))...)
		errs = append(errs, metav1validation.ValidateLabels(w.NodeSelector, p.Child("nodeSelector"))...)
		errs = append(errs, validateAnnotations(p.Child("annotations"), w.Annotations)...)
		for j, t := range w.Tolerations {
			tp := p.Child("tolerations").Index(j)
			switch t.Operator {
			case "", v1.TolerationOpEqual, v1.TolerationOpExists:
			default:
				errs = append(errs, field.NotSupported(tp.Child("operator"), t.Operator, []v1.TolerationOperator{v1.TolerationOpEqual, v1.TolerationOpExists}))
			}
			switch t.Effect {
			case "", v1.TaintEffectNoSchedule, v1.TaintEffectPreferNoSchedule, v1.TaintEffectNoExecute:
			default:
				errs = append(errs, field.NotSupported(tp.Child("effect"), t.Effect,
					[]v1.TaintEffect{v1.TaintEffectNoSchedule, v1.TaintEffectPreferNoSchedule, v1.TaintEffectNoExecute}))
			}
		}
		if w.SchedulerName != "" {
			for _, msg := range validation.IsDNS1123Subdomain(w.SchedulerName) {
				errs = append(errs, field.Invalid(p.Child("schedulerName"), w.SchedulerName, msg))
			}
		}
	}
	return errs
}

func validateAnnotations(path *field.Path, annotations map[string]string) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sortedKeys(annotations) {
		for _, msg := range validation.IsQualifiedName(strings.ToLower(k)) {
			errs = append(errs, field.Invalid(path, k, msg))
		}
	}
	return errs
}

// validateMasters checks mesos.masters: unique DNS-label names other than
// the embedded allocator's, agents on nodes of the scenario, no node an
// agent of two masters, and not together with mesos.agents.
func validateMasters(path *field.Path, m *MesosSpec, nodes sets.Set[string]) field.ErrorList {
	var errs field.ErrorList
	if len(m.Masters) > 0 && len(m.Agents) > 0 {
		errs = append(errs, field.Forbidden(path.Child("agents"), "set either agents (one master) or masters (several), not both"))
	}
	names := sets.New[string]()
	owner := map[string]string{}
	for i, ms := range m.Masters {
		p := path.Child("masters").Index(i)
		for _, msg := range validation.IsDNS1123Label(ms.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), ms.Name, msg))
		}
		if ms.Name == SourceEmbedded {
			errs = append(errs, field.Invalid(p.Child("name"), ms.Name, "names the embedded allocator's source"))
		}
		if names.Has(ms.Name) {
			errs = append(errs, field.Duplicate(p.Child("name"), ms.Name))
		}
		names.Insert(ms.Name)
		if len(ms.Agents) == 0 {
			errs = append(errs, field.Required(p.Child("agents"), "a master needs at least one agent"))
		}
		errs = append(errs, validateAgents(p.Child("agents"), ms.Agents)...)
		for j, a := range ms.Agents {
			ap := p.Child("agents").Index(j).Child("hostname")
			switch {
			case a.Hostname == "":
			case !nodes.Has(a.Hostname):
				errs = append(errs, field.NotFound(ap, a.Hostname))
			case owner[a.Hostname] != "" && owner[a.Hostname] != ms.Name:
				errs = append(errs, field.Invalid(ap, a.Hostname, fmt.Sprintf("node %s is an agent of master %s already: two sources must not claim one node", a.Hostname, owner[a.Hostname])))
			default:
				owner[a.Hostname] = ms.Name
			}
		}
	}
	return errs
}

func validateAgents(path *field.Path, agents []AgentSpec) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, a := range agents {
		p := path.Index(i)
		if a.Hostname == "" {
			errs = append(errs, field.Required(p.Child("hostname"), "the name of the node the agent maps to"))
		} else if seen.Has(a.Hostname) {
			errs = append(errs, field.Duplicate(p.Child("hostname"), a.Hostname))
		}
		seen.Insert(a.Hostname)
		for _, s := range []struct {
			name string
			v    float64
		}{{"cpus", a.CPUs}, {"mem", a.Mem}, {"disk", a.Disk}, {"gpus", a.GPUs}} {
			if s.v < 0 {
				errs = append(errs, field.Invalid(p.Child(s.name), s.v, "must not be negative"))
			}
		}
		if a.Ports != "" {
			if _, err := resources.ParseRanges(a.Ports); err != nil {
				errs = append(errs, field.Invalid(p.Child("ports"), a.Ports, err.Error()))
			}
		}
	}
	return errs
}

// parseResources parses a map of resource name to quantity: valid names,
// valid non-negative quantities, whole numbers for extended resources.
func parseResources(path *field.Path, list map[string]Amount) (v1.ResourceList, field.ErrorList) {
	var errs field.ErrorList
	out := v1.ResourceList{}
	for _, name := range sortedKeys(list) {
		p := path.Child(name)
		if e := validateResourceName(p, name); len(e) > 0 {
			errs = append(errs, e...)
			continue
		}
		raw := string(list[name])
		q, err := resource.ParseQuantity(raw)
		if err != nil {
			errs = append(errs, field.Invalid(p, raw, "invalid quantity"))
			continue
		}
		if q.Sign() < 0 {
			errs = append(errs, field.Invalid(p, raw, "must not be negative"))
			continue
		}
		rn := v1.ResourceName(name)
		if isExtended(rn) && q.MilliValue()%1000 != 0 {
			errs = append(errs, field.Invalid(p, raw, "must be a whole number: "+name+" is an extended resource"))
			continue
		}
		out[rn] = q
	}
	return out, errs
}

func validateResourceName(path *field.Path, name string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(name) {
		errs = append(errs, field.Invalid(path, name, "invalid resource name: "+msg))
	}
	return errs
}

// isExtended reports whether a resource is neither cpu, memory,
// ephemeral-storage, pods nor hugepages: extended resources need limit =
// request and whole numbers.
func isExtended(name v1.ResourceName) bool {
	switch name {
	case v1.ResourceCPU, v1.ResourceMemory, v1.ResourceEphemeralStorage, v1.ResourcePods:
		return false
	}
	return !strings.HasPrefix(string(name), v1.ResourceHugePagesPrefix)
}
