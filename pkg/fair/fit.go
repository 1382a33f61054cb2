package fair

import (
	"fmt"
	"sort"
	"strings"

	v1 "k8s.io/api/core/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
)

// PodFit checks the placement constraints of a pod that the allocator can
// judge alone, so that it offers a role only agents its pods may use: node
// selector and required node affinity, and taints with effect NoSchedule or
// NoExecute. (Inter-pod affinity, topology spread and other plugins' filters
// need the scheduler's snapshot: an offer they make unusable is declined by
// the MesosOffers plugin and goes to another role.)
type PodFit struct {
	// key identifies the constraints: pods with the same key fit alike
	// ("" for pods without constraints).
	key         string
	affinity    nodeaffinity.RequiredNodeAffinity
	tolerations []v1.Toleration
	simple      bool // no selector, no affinity, no tolerations
	cache       map[*Agent]bool
}

// simpleFit is shared by every pod without placement constraints.
var simpleFit = &PodFit{simple: true}

// FitFor returns the fit checker of a pod, shared by pods with the same
// constraints within a cycle.
func FitFor(pod *v1.Pod, shared map[string]*PodFit) *PodFit {
	if isSimple(pod) {
		return simpleFit
	}
	k := constraintKey(pod)
	if f, ok := shared[k]; ok {
		return f
	}
	f := NewPodFit(pod)
	shared[k] = f
	return f
}

func isSimple(pod *v1.Pod) bool {
	a := pod.Spec.Affinity
	return len(pod.Spec.NodeSelector) == 0 && len(pod.Spec.Tolerations) == 0 &&
		(a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil)
}

func NewPodFit(pod *v1.Pod) *PodFit {
	if isSimple(pod) {
		return simpleFit
	}
	return &PodFit{
		key:         constraintKey(pod),
		affinity:    nodeaffinity.GetRequiredNodeAffinity(pod),
		tolerations: pod.Spec.Tolerations,
		cache:       map[*Agent]bool{},
	}
}

// constraintKey renders the constraints deterministically.
func constraintKey(pod *v1.Pod) string {
	var b strings.Builder
	keys := make([]string, 0, len(pod.Spec.NodeSelector))
	for k := range pod.Spec.NodeSelector {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s,", k, pod.Spec.NodeSelector[k])
	}
	if a := pod.Spec.Affinity; a != nil && a.NodeAffinity != nil {
		fmt.Fprintf(&b, "|%v", a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution)
	}
	fmt.Fprintf(&b, "|%v", pod.Spec.Tolerations)
	return b.String()
}

// Matches reports whether the pod may go on the agent's node (any pod may
// go on an agent without a node).
func (f *PodFit) Matches(a *Agent) bool {
	if f == nil || a.Node == nil {
		return true // no constraints, or the aggregate agent of Targets
	}
	if f.simple {
		return !a.Tainted
	}
	if ok, seen := f.cache[a]; seen {
		return ok
	}
	ok := true
	if m, err := f.affinity.Match(a.Node); err != nil || !m {
		ok = false
	}
	if ok && a.Tainted {
		_, untolerated := corev1helpers.FindMatchingUntoleratedTaint(klog.TODO(), a.Node.Spec.Taints, f.tolerations, func(t *v1.Taint) bool {
			return t.Effect == v1.TaintEffectNoSchedule || t.Effect == v1.TaintEffectNoExecute
		}, true)
		ok = !untolerated
	}
	f.cache[a] = ok
	return ok
}

// HardTaints reports whether a node has taints that keep pods off.
func HardTaints(node *v1.Node) bool {
	for _, t := range node.Spec.Taints {
		if t.Effect == v1.TaintEffectNoSchedule || t.Effect == v1.TaintEffectNoExecute {
			return true
		}
	}
	return false
}

// Key identifies the constraints ("" for none).
func (f *PodFit) Key() string {
	if f == nil {
		return ""
	}
	return f.key
}

// Admits reports whether a pod's constraints and hardware allow an agent
// (resources, ports, reservations and filters aside).
func Admits(a *Agent, d *Demand) bool { return d.Fit.Matches(a) && hwAdmits(d, a) }
