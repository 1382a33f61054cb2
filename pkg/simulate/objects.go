package simulate

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	configv1 "github.com/kube-mesos/kube-mesos-scheduler/pkg/apis/config/v1"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/roles"
)

// SchedulerName is the scheduler the workloads opt into by default.
const SchedulerName = "kube-mesos-scheduler"

// Mode says where offers come from.
type Mode string

const (
	// ModeEmbedded: the embedded Mesos-style allocator (the default).
	ModeEmbedded Mode = "embedded"
	// ModeMesos: the Mesos master emulator, started in-process.
	ModeMesos Mode = "mesos"
)

// Timings of the simulated scheduler and Mesos master, scaled down from
// the defaults (1s allocation interval, 5s decline filters) so that a run
// takes seconds. They change how soon pods land, not where: offers are
// sized the same way, only more often.
const (
	AllocationInterval = 250 * time.Millisecond
	RefuseSeconds      = 1
)

// defaultPodSlots is the pods capacity of a node that names none (the kubelet's default).
const defaultPodSlots = "110"

// NodeNames returns the names of the nodes a spec stands for.
func (n NodeSpec) NodeNames() []string {
	if n.Count <= 1 {
		return []string{n.Name}
	}
	out := make([]string, n.Count)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", n.Name, i+1)
	}
	return out
}

// NodeCount is how many nodes the scenario makes (without making them).
func (sc *Scenario) NodeCount() int {
	n := 0
	for _, s := range sc.Nodes {
		n += max(s.Count, 1)
	}
	return n
}

// PodCount is how many pods the scenario makes (without making them).
func (sc *Scenario) PodCount() int {
	n := 0
	for _, w := range sc.Workloads {
		n += max(w.Replicas, 1)
	}
	return n
}

// PodNames returns the names of a workload's pods: Name-0, Name-1, …,
// zero-padded so that they sort in order.
func (w WorkloadSpec) PodNames() []string {
	n := max(w.Replicas, 1)
	width := len(strconv.Itoa(n - 1))
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%0*d", w.Name, width, i)
	}
	return out
}

// DRFResources returns the resources that count in allocations: the
// scenario's drf.resources, else the DRF plugin's default.
func (sc *Scenario) DRFResources() []v1.ResourceName {
	if sc.DRF != nil && len(sc.DRF.Resources) > 0 {
		out := make([]v1.ResourceName, len(sc.DRF.Resources))
		for i, r := range sc.DRF.Resources {
			out[i] = v1.ResourceName(r)
		}
		return out
	}
	return configv1.DefaultDRFResources()
}

// Counted returns the resources that count for dominant shares: the DRF
// resources minus drf.excludedResourceNames.
func (sc *Scenario) Counted() []v1.ResourceName {
	var excluded []v1.ResourceName
	if sc.DRF != nil {
		for _, r := range sc.DRF.ExcludedResourceNames {
			excluded = append(excluded, v1.ResourceName(r))
		}
	}
	return resources.Counted(sc.DRFResources(), excluded)
}

// RoleOf returns the Mesos role of a scenario namespace.
func (ns NamespaceSpec) RoleOf() string {
	if ns.Role != "" {
		return ns.Role
	}
	return ns.Name
}

// NamespaceNames returns the scenario's namespaces in order.
func (sc *Scenario) NamespaceNames() []string {
	out := make([]string, len(sc.Namespaces))
	for i, ns := range sc.Namespaces {
		out[i] = ns.Name
	}
	return out
}

// NamespaceObjects returns the namespaces, with the role and weight
// annotations the DRF plugin reads.
func (sc *Scenario) NamespaceObjects() []*v1.Namespace {
	out := make([]*v1.Namespace, 0, len(sc.Namespaces))
	for _, ns := range sc.Namespaces {
		annotations := map[string]string{}
		if ns.Role != "" {
			annotations[roles.AnnotationRole] = ns.Role
		}
		if ns.Weight != "" {
			annotations[roles.AnnotationWeight] = string(ns.Weight)
		}
		out = append(out, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns.Name, Annotations: annotations}})
	}
	return out
}

// NodeObjects returns the nodes: Ready, linux, amd64 unless the labels say
// otherwise, capacity = allocatable.
func (sc *Scenario) NodeObjects() []*v1.Node {
	var out []*v1.Node
	masters := sc.masterOfNode()
	for _, spec := range sc.Nodes {
		capacity := v1.ResourceList{v1.ResourcePods: resource.MustParse(defaultPodSlots)}
		for name, amount := range spec.Capacity {
			capacity[v1.ResourceName(name)] = resource.MustParse(string(amount)) // validated
		}
		for _, name := range spec.NodeNames() {
			labels := map[string]string{v1.LabelArchStable: "amd64", v1.LabelOSStable: "linux"}
			for k, v := range spec.Labels {
				labels[k] = v
			}
			labels[v1.LabelHostname] = name
			if m, ok := masters[name]; ok {
				labels[LabelMaster] = m
			}
			out = append(out, &v1.Node{
				ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
				Spec:       v1.NodeSpec{Taints: append([]v1.Taint(nil), spec.Taints...)},
				Status: v1.NodeStatus{
					Capacity:    capacity.DeepCopy(),
					Allocatable: capacity.DeepCopy(),
					Conditions:  []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue, Reason: "KubeletReady"}},
				},
			})
		}
	}
	return out
}

// PodObjects returns the workloads' pods in scenario order.
func (sc *Scenario) PodObjects() []*v1.Pod {
	var out []*v1.Pod
	for _, w := range sc.Workloads {
		requests, limits := v1.ResourceList{}, v1.ResourceList{}
		for name, amount := range w.Requests {
			rn, q := v1.ResourceName(name), resource.MustParse(string(amount)) // validated
			requests[rn] = q
			if isExtended(rn) {
				limits[rn] = q // extended resources cannot be overcommitted
			}
		}
		schedulerName := w.SchedulerName
		if schedulerName == "" {
			schedulerName = SchedulerName
		}
		for _, name := range w.PodNames() {
			labels := map[string]string{"kube-mesos.io/workload": w.Name}
			for k, v := range w.Labels {
				labels[k] = v
			}
			out = append(out, &v1.Pod{
				ObjectMeta: metav1.ObjectMeta{Namespace: w.Namespace, Name: name, Labels: labels, Annotations: copyMap(w.Annotations)},
				Spec: v1.PodSpec{
					SchedulerName: schedulerName,
					Priority:      w.Priority,
					NodeSelector:  copyMap(w.NodeSelector),
					Tolerations:   append([]v1.Toleration(nil), w.Tolerations...),
					Containers: []v1.Container{{
						Name: "main", Image: "registry.k8s.io/pause:3.10",
						Resources: v1.ResourceRequirements{Requests: requests.DeepCopy(), Limits: limits.DeepCopy()},
					}},
					TerminationGracePeriodSeconds: ptr.To[int64](0),
				},
			})
		}
	}
	return out
}

// Agent is a Mesos agent in the emulator's units.
type Agent struct {
	Hostname              string
	CPUs, Mem, Disk, GPUs float64
	Ports                 resources.Ranges
	Attributes            map[string]string
}

// defaultAgentDiskMiB is the disk of an agent mirrored from a node without
// ephemeral-storage.
const defaultAgentDiskMiB = 100000

// Agents returns the Mesos agents of the single master: mesos.agents,
// else one per node mirroring its cpu, memory, nvidia.com/gpu and
// ephemeral-storage. With mesos.masters, see MasterAgents.
func (sc *Scenario) Agents() []Agent {
	var out []Agent
	if sc.Mesos != nil && len(sc.Mesos.Agents) > 0 {
		for _, a := range sc.Mesos.Agents {
			out = append(out, agentOf(a, nil))
		}
		return out
	}
	for _, n := range sc.NodeObjects() {
		out = append(out, agentOf(AgentSpec{Hostname: n.Name}, n))
	}
	return out
}

// MasterAgents returns the agents of each master of mesos.masters, by
// name; an agent without cpus and mem mirrors its node.
func (sc *Scenario) MasterAgents() map[string][]Agent {
	if sc.Mesos == nil || len(sc.Mesos.Masters) == 0 {
		return nil
	}
	nodes := map[string]*v1.Node{}
	for _, n := range sc.NodeObjects() {
		nodes[n.Name] = n
	}
	out := map[string][]Agent{}
	for _, m := range sc.Mesos.Masters {
		for _, a := range m.Agents {
			var node *v1.Node
			if a.CPUs == 0 && a.Mem == 0 {
				node = nodes[a.Hostname]
			}
			out[m.Name] = append(out[m.Name], agentOf(a, node))
		}
	}
	return out
}

// agentOf is an agent as specified, or mirroring node when it is given.
func agentOf(a AgentSpec, node *v1.Node) Agent {
	ports := "[31000-32000]"
	if a.Ports != "" {
		ports = a.Ports
	}
	r, _ := resources.ParseRanges(ports) // validated
	if node == nil {
		return Agent{Hostname: a.Hostname, CPUs: a.CPUs, Mem: a.Mem, Disk: a.Disk, GPUs: a.GPUs, Ports: r, Attributes: copyMap(a.Attributes)}
	}
	alloc := resources.NodeAllocatable(node)
	disk := float64(alloc[v1.ResourceEphemeralStorage]) / (1 << 20)
	if disk == 0 {
		disk = defaultAgentDiskMiB
	}
	return Agent{
		Hostname:   a.Hostname,
		CPUs:       float64(alloc[v1.ResourceCPU]) / 1000,
		Mem:        math.Floor(float64(alloc[v1.ResourceMemory]) / (1 << 20)),
		Disk:       disk,
		GPUs:       float64(alloc["nvidia.com/gpu"]),
		Ports:      r,
		Attributes: copyMap(a.Attributes),
	}
}

// LabelMaster is the node label the simulator gives the nodes of each
// master of mesos.masters (its name): the master's source selects them by
// it.
const LabelMaster = "simulate.kube-mesos.io/mesos-master"

// Offer source names in reports: the embedded allocator's and the single
// master's (the names the scheduler gives the sources of the
// configuration without sources); several masters go by their names.
const (
	SourceEmbedded = "embedded"
	SourceMesos    = "mesos"
)

// masterOfNode maps each node of mesos.masters to its master.
func (sc *Scenario) masterOfNode() map[string]string {
	if sc.Mesos == nil {
		return nil
	}
	out := map[string]string{}
	for _, m := range sc.Mesos.Masters {
		for _, a := range m.Agents {
			out[a.Hostname] = m.Name
		}
	}
	return out
}

// NodeSources names the offer source of each node: the embedded
// allocator's without mesos; the single master's for its agents' nodes
// (nodes without an agent get none: nothing is offered there); with
// mesos.masters, each master's for its agents' nodes and the embedded
// allocator's for the rest.
func (sc *Scenario) NodeSources() map[string]string {
	out := map[string]string{}
	nodes := sc.nodeNames()
	switch {
	case sc.Mesos == nil:
		for n := range nodes {
			out[n] = SourceEmbedded
		}
	case len(sc.Mesos.Masters) > 0:
		masters := sc.masterOfNode()
		for n := range nodes {
			out[n] = SourceEmbedded
			if m, ok := masters[n]; ok {
				out[n] = m
			}
		}
	default:
		for _, a := range sc.Agents() {
			if nodes.Has(a.Hostname) {
				out[a.Hostname] = SourceMesos
			}
		}
	}
	return out
}

// nodeNames is the set of the scenario's node names.
func (sc *Scenario) nodeNames() sets.Set[string] {
	out := sets.New[string]()
	for _, spec := range sc.Nodes {
		out.Insert(spec.NodeNames()...)
	}
	return out
}

// RoleWeights returns the weight of each role that has one: the first
// namespace by name with a weight, as the DRF plugin reads them.
func (sc *Scenario) RoleWeights() map[string]float64 {
	nss := append([]NamespaceSpec(nil), sc.Namespaces...)
	sort.Slice(nss, func(i, j int) bool { return nss[i].Name < nss[j].Name })
	out := map[string]float64{}
	for _, ns := range nss {
		if _, ok := out[ns.RoleOf()]; ok || ns.Weight == "" {
			continue
		}
		if w, err := roles.ParseWeight(string(ns.Weight)); err == nil {
			out[ns.RoleOf()] = w
		}
	}
	return out
}

// SchedulerConfig returns the KubeSchedulerConfiguration of the simulated
// scheduler: the profile of manifests/config/minimal.yaml (all three
// plugins, DRF as queue sort and preemption), the DRF args of the scenario
// with the namespaces' quotas as role guarantees and limits, the scaled
// down timings, and the offer sources: the embedded allocator without
// masterURLs; the single master (masterURLs[SourceMesos]); with
// mesos.masters, one source per master (by name) selecting its nodes by
// LabelMaster, and the embedded allocator for the rest.
func (sc *Scenario) SchedulerConfig(masterURLs map[string]string) (string, error) {
	offers := map[string]any{"allocationInterval": AllocationInterval.String(), "refuseSeconds": RefuseSeconds}
	switch {
	case len(masterURLs) == 0:
		offers["source"] = "Embedded"
	case sc.Mesos != nil && len(sc.Mesos.Masters) > 0:
		var sources []any
		for _, m := range sc.Mesos.Masters {
			sources = append(sources, map[string]any{
				"name": m.Name, "type": "Mesos", "nodeSelector": map[string]string{LabelMaster: m.Name},
				"mesos": map[string]any{"master": masterURLs[m.Name], "frameworkIDConfigMap": "default/kube-mesos-scheduler-framework-" + m.Name},
			})
		}
		offers["sources"] = append(sources, map[string]any{"name": SourceEmbedded, "type": "Embedded"})
	default:
		offers["source"] = "Mesos"
		offers["mesos"] = map[string]any{
			"master":               masterURLs[SourceMesos],
			"frameworkIDConfigMap": "default/kube-mesos-scheduler-framework",
		}
	}
	drf := map[string]any{}
	if sc.DRF != nil {
		if len(sc.DRF.Resources) > 0 {
			drf["resources"] = sc.DRF.Resources
		}
		if len(sc.DRF.ExcludedResourceNames) > 0 {
			drf["excludedResourceNames"] = sc.DRF.ExcludedResourceNames
		}
		if sc.DRF.Preemption != "" {
			drf["preemption"] = sc.DRF.Preemption
		}
	}
	if rs := sc.roleQuotas(); len(rs) > 0 {
		drf["roles"] = rs
	}
	named := func(names ...string) []map[string]string {
		out := make([]map[string]string, len(names))
		for i, n := range names {
			out[i] = map[string]string{"name": n}
		}
		return out
	}
	cfg := map[string]any{
		"apiVersion":     "kubescheduler.config.k8s.io/v1",
		"kind":           "KubeSchedulerConfiguration",
		"leaderElection": map[string]any{"leaderElect": false},
		"profiles": []any{map[string]any{
			"schedulerName": SchedulerName,
			"plugins": map[string]any{
				"queueSort":  map[string]any{"enabled": named("DRF"), "disabled": named("*")},
				"multiPoint": map[string]any{"enabled": named("MesosOffers", "DRF", "Hetero"), "disabled": named("DefaultPreemption")},
			},
			"pluginConfig": []any{
				map[string]any{"name": "MesosOffers", "args": offers},
				map[string]any{"name": "DRF", "args": drf},
			},
		}},
	}
	out, err := yaml.Marshal(cfg)
	return string(out), err
}

// roleQuotas sums the namespaces' quotas per role into DRF args roles
// (zero amounts kept: a limit of 0 forbids the resource).
func (sc *Scenario) roleQuotas() []map[string]any {
	type quota struct{ min, max v1.ResourceList }
	byRole := map[string]*quota{}
	for _, ns := range sc.Namespaces {
		if ns.Quota == nil {
			continue
		}
		q := byRole[ns.RoleOf()]
		if q == nil {
			q = &quota{}
			byRole[ns.RoleOf()] = q
		}
		q.min = addLists(q.min, ns.Quota.Min)
		q.max = addLists(q.max, ns.Quota.Max)
	}
	var out []map[string]any
	for _, role := range sortedKeys(byRole) {
		q := byRole[role]
		rc := map[string]any{"name": role}
		if q.min != nil {
			rc["guarantee"] = q.min
		}
		if q.max != nil {
			rc["limit"] = q.max
		}
		out = append(out, rc)
	}
	return out
}

// addLists adds validated amounts to a resource list (nil: none yet).
func addLists(sum v1.ResourceList, add map[string]Amount) v1.ResourceList {
	if len(add) == 0 {
		return sum
	}
	if sum == nil {
		sum = v1.ResourceList{}
	}
	parsed, _ := parseResources(nil, add) // validated
	for name, q := range parsed {
		total := sum[name]
		total.Add(q)
		sum[name] = total
	}
	return sum
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
