package simulate

import (
	"sort"

	v1 "k8s.io/api/core/v1"

	"github.com/kube-mesos/kube-mesos-scheduler/pkg/resources"
	"github.com/kube-mesos/kube-mesos-scheduler/pkg/roles"
)

// Report is what the scheduler did with a scenario (the JSON output).
type Report struct {
	// Scenario is the scenario file, Mode where offers came from.
	Scenario string `json:"scenario,omitempty"`
	Mode     Mode   `json:"mode,omitempty"`
	// Settled is false when the run timed out before placement settled.
	Settled bool `json:"settled"`
	// Seconds from the scheduler's start until placement settled (or the timeout).
	Seconds    float64                     `json:"seconds"`
	Namespaces map[string]*NamespaceReport `json:"namespaces"`
	Nodes      map[string]*NodeReport      `json:"nodes"`
	Pods       []PodReport                 `json:"pods"`
	// Sources are the offer sources by name: "embedded" (the embedded
	// allocator), "mesos" (the single master), or each master's name and
	// "embedded" with mesos.masters.
	Sources map[string]*SourceReport `json:"sources,omitempty"`
}

// SourceReport is one offer source's part in the run.
type SourceReport struct {
	// Agents it serves: a master's agents, the embedded allocator's nodes.
	Agents int `json:"agents"`
	// Offers it made during the run.
	Offers int `json:"offers"`
	// Pods bound on its nodes.
	Pods int `json:"pods"`
	// Connected: subscribed to its master at the end (always, for the
	// embedded allocator).
	Connected bool `json:"connected"`
}

// SourceStats is what the run measured of one source.
type SourceStats struct {
	Agents, Offers int
	Connected      bool
}

// AddSources names each node's offer source (nodeSource, from the
// scenario: Scenario.NodeSources) and reports each source: stats as
// measured, and the pods bound on its nodes, counted from the report.
func (r *Report) AddSources(nodeSource map[string]string, stats map[string]SourceStats) {
	r.Sources = map[string]*SourceReport{}
	for name, st := range stats {
		r.Sources[name] = &SourceReport{Agents: st.Agents, Offers: st.Offers, Connected: st.Connected}
	}
	for name, n := range r.Nodes {
		src, ok := nodeSource[name]
		if !ok {
			continue
		}
		n.Source = src
		if r.Sources[src] == nil {
			r.Sources[src] = &SourceReport{}
		}
		r.Sources[src].Pods += n.Pods
	}
}

// NamespaceReport is one tenant's outcome.
type NamespaceReport struct {
	Role   string  `json:"role"`
	Weight float64 `json:"weight"`
	// Bound and Pending count the namespace's pods.
	Bound   int `json:"bound"`
	Pending int `json:"pending"`
	// Preempted counts the namespace's pods evicted by preemption (and
	// created again, as a controller would).
	Preempted int `json:"preempted"`
	// DominantShare is max over the counted resources of the namespace's
	// allocation / the cluster's; DominantResource is that resource.
	DominantShare    float64 `json:"dominantShare"`
	DominantResource string  `json:"dominantResource,omitempty"`
	// WeightedShare is DominantShare / Weight: what weighted DRF equalises.
	WeightedShare float64 `json:"weightedShare"`
	// Allocated sums the requests of the bound pods.
	Allocated map[string]string `json:"allocated"`
	// PendingReasons groups the pending pods by the message of their
	// PodScheduled condition, most frequent first.
	PendingReasons []ReasonCount `json:"pendingReasons,omitempty"`
}

// ReasonCount is a pending reason and how many pods give it.
type ReasonCount struct {
	Reason string `json:"reason"`
	Pods   int    `json:"pods"`
}

// NodeReport is one node's use.
type NodeReport struct {
	Pods int `json:"pods"`
	// Allocated sums the requests of the pods bound to the node;
	// Allocatable is what it offers.
	Allocated   map[string]string `json:"allocated"`
	Allocatable map[string]string `json:"allocatable"`
	Arch        string            `json:"arch,omitempty"`
	// Accelerator is the GPU product label (nvidia.com/gpu.product).
	Accelerator string `json:"accelerator,omitempty"`
	// Source names the offer source serving the node (none: a node no
	// source offers, e.g. without an agent of the single master).
	Source string `json:"source,omitempty"`
}

// PodReport is one pod's outcome: its node, or why it waits.
type PodReport struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Workload is the scenario workload the pod belongs to.
	Workload string  `json:"workload,omitempty"`
	Node     *string `json:"node"`
	Reason   string  `json:"reason"`
}

// Cluster is the state a report is built from: the scenario's namespaces
// and pods and every node, as the API server returns them.
type Cluster struct {
	Namespaces []v1.Namespace
	Nodes      []v1.Node
	Pods       []v1.Pod
	// Counted are the resources that count for dominant shares.
	Counted []v1.ResourceName
}

// labelGPUProduct is GPU Feature Discovery's product label.
const labelGPUProduct = "nvidia.com/gpu.product"

// Reasons of pods that have no PodScheduled=False condition.
const (
	ReasonNotAttempted   = "not attempted yet"
	reasonOtherScheduler = "not for this scheduler: spec.schedulerName is "
)

// BuildReport summarises the cluster per namespace, node and pod.
func BuildReport(c Cluster) *Report {
	r := &Report{Namespaces: map[string]*NamespaceReport{}, Nodes: map[string]*NodeReport{}, Pods: []PodReport{}}
	total := resources.Vector{}
	for i := range c.Nodes {
		n := &c.Nodes[i]
		alloc := resources.NodeAllocatable(n)
		r.Nodes[n.Name] = &NodeReport{
			Allocated: map[string]string{}, Allocatable: formatVector(withoutPods(alloc)),
			Arch: n.Labels[v1.LabelArchStable], Accelerator: n.Labels[labelGPUProduct],
		}
		if schedulable(n) {
			total.Add(alloc)
		}
	}
	nodeUse := map[string]resources.Vector{}
	nsUse := map[string]resources.Vector{}
	reasons := map[string]map[string]int{}
	for _, ns := range c.Namespaces {
		nsUse[ns.Name] = resources.Vector{}
		reasons[ns.Name] = map[string]int{}
		r.Namespaces[ns.Name] = &NamespaceReport{Role: roleOf(&ns), Allocated: map[string]string{}}
	}
	weights := roleWeights(c.Namespaces)
	for i := range c.Pods {
		p := &c.Pods[i]
		nr, ok := r.Namespaces[p.Namespace]
		if !ok || resources.IsTerminal(p) {
			continue
		}
		pr := PodReport{Namespace: p.Namespace, Name: p.Name, Workload: p.Labels["kube-mesos.io/workload"]}
		if p.Spec.NodeName != "" {
			node := p.Spec.NodeName
			pr.Node = &node
			nr.Bound++
			req := resources.PodRequests(p)
			nsUse[p.Namespace].Add(req)
			if nodeUse[node] == nil {
				nodeUse[node] = resources.Vector{}
			}
			nodeUse[node].Add(req)
			if n := r.Nodes[node]; n != nil {
				n.Pods++
			}
		} else {
			pr.Reason = PendingReason(p)
			nr.Pending++
			reasons[p.Namespace][pr.Reason]++
		}
		r.Pods = append(r.Pods, pr)
	}
	for name, nr := range r.Namespaces {
		nr.Weight = weights[nr.Role]
		use := nsUse[name]
		nr.Allocated = formatVector(withoutPods(use))
		res, share := resources.DominantResource(use, total, c.Counted)
		nr.DominantShare, nr.DominantResource = share, string(res)
		nr.WeightedShare = resources.WeightedShare(share, nr.Weight)
		nr.PendingReasons = sortReasons(reasons[name])
	}
	for name, use := range nodeUse {
		if n := r.Nodes[name]; n != nil {
			n.Allocated = formatVector(withoutPods(use))
		}
	}
	sort.Slice(r.Pods, func(i, j int) bool {
		a, b := r.Pods[i], r.Pods[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	return r
}

// PendingReason is why an unbound pod waits: the message of its
// PodScheduled=False condition (the scheduler's own summary of every
// plugin's verdict), or why it has none.
func PendingReason(p *v1.Pod) string {
	for _, c := range p.Status.Conditions {
		if c.Type == v1.PodScheduled && c.Status == v1.ConditionFalse && c.Message != "" {
			return c.Message
		}
	}
	if p.Spec.SchedulerName != SchedulerName {
		return reasonOtherScheduler + p.Spec.SchedulerName
	}
	return ReasonNotAttempted
}

// DominantShares returns each namespace's dominant share (what the chart plots).
func DominantShares(c Cluster) map[string]float64 {
	out := map[string]float64{}
	for name, nr := range BuildReport(c).Namespaces {
		out[name] = nr.DominantShare
	}
	return out
}

// schedulable reports whether a node counts in the cluster total, as the
// DRF plugin counts it: not cordoned and not NotReady.
func schedulable(n *v1.Node) bool {
	if n.Spec.Unschedulable {
		return false
	}
	for _, c := range n.Status.Conditions {
		if c.Type == v1.NodeReady {
			return c.Status == v1.ConditionTrue
		}
	}
	return false
}

// roleOf is a namespace's role as the DRF plugin reads it: the annotation
// kube-mesos.io/role, else the label ("." for "/"), else the name.
func roleOf(ns *v1.Namespace) string {
	if v, ok := ns.Annotations[roles.AnnotationRole]; ok {
		return v
	}
	if v, ok := ns.Labels[roles.LabelRole]; ok {
		return roles.FromLabel(v)
	}
	return ns.Name
}

// roleWeights returns every role's weight: the annotation of the first
// namespace by name that has a valid one, else 1.
func roleWeights(nss []v1.Namespace) map[string]float64 {
	sorted := append([]v1.Namespace(nil), nss...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	out := map[string]float64{}
	for i := range sorted {
		role := roleOf(&sorted[i])
		if _, ok := out[role]; !ok {
			out[role] = 0
		}
		if out[role] != 0 {
			continue
		}
		if v, ok := sorted[i].Annotations[roles.AnnotationWeight]; ok {
			if w, err := roles.ParseWeight(v); err == nil {
				out[role] = w
			}
		}
	}
	for role, w := range out {
		if w == 0 {
			out[role] = 1
		}
	}
	return out
}

func sortReasons(m map[string]int) []ReasonCount {
	out := make([]ReasonCount, 0, len(m))
	for reason, n := range m {
		out = append(out, ReasonCount{Reason: reason, Pods: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Pods != out[j].Pods {
			return out[i].Pods > out[j].Pods
		}
		return out[i].Reason < out[j].Reason
	})
	if len(out) == 0 {
		return nil
	}
	return out
}

// withoutPods drops the "pods" slot count, which the pod counts already say.
func withoutPods(v resources.Vector) resources.Vector {
	out := v.Clone()
	delete(out, v1.ResourcePods)
	return out
}

// formatVector renders a vector as resource name to quantity strings.
func formatVector(v resources.Vector) map[string]string {
	out := make(map[string]string, len(v))
	for name, n := range v {
		out[string(name)] = resources.Format(name, n)
	}
	return out
}
