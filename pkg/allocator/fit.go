package allocator

import (
	"fmt"
	"sort"
	"strings"

	v1 "k8s.io/api/core/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
)

// podFit checks the placement constraints of a pod that the allocator can
// judge alone, so that it offers a role only agents its pods may use: node
// selector and required node affinity, and taints with effect NoSchedule or
// NoExecute. (Inter-pod affinity, topology spread and other plugins' filters
// need the scheduler's snapshot: an offer they make unusable is declined by
// the MesosOffers plugin and goes to another role.)
type podFit struct {
	// key identifies the constraints: pods with the same key fit alike
	// ("" for pods without constraints).
	key         string
	affinity    nodeaffinity.RequiredNodeAffinity
	tolerations []v1.Toleration
	simple      bool // no selector, no affinity, no tolerations
	cache       map[*agent]bool
}

// simpleFit is shared by every pod without placement constraints.
var simpleFit = &podFit{simple: true}

// fitFor returns the fit checker of a pod, shared by pods with the same
// constraints within a cycle.
func fitFor(pod *v1.Pod, shared map[string]*podFit) *podFit {
	if isSimple(pod) {
		return simpleFit
	}
	k := constraintKey(pod)
	if f, ok := shared[k]; ok {
		return f
	}
	f := newPodFit(pod)
	shared[k] = f
	return f
}

func isSimple(pod *v1.Pod) bool {
	a := pod.Spec.Affinity
	return len(pod.Spec.NodeSelector) == 0 && len(pod.Spec.Tolerations) == 0 &&
		(a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil)
}

func newPodFit(pod *v1.Pod) *podFit {
	if isSimple(pod) {
		return simpleFit
	}
	return &podFit{
		key:         constraintKey(pod),
		affinity:    nodeaffinity.GetRequiredNodeAffinity(pod),
		tolerations: pod.Spec.Tolerations,
		cache:       map[*agent]bool{},
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

// matches reports whether the pod may go on the agent's node.
func (f *podFit) matches(a *agent) bool {
	if f.simple {
		return !a.tainted
	}
	if ok, seen := f.cache[a]; seen {
		return ok
	}
	ok := true
	if m, err := f.affinity.Match(a.node); err != nil || !m {
		ok = false
	}
	if ok && a.tainted {
		_, untolerated := corev1helpers.FindMatchingUntoleratedTaint(klog.TODO(), a.node.Spec.Taints, f.tolerations, func(t *v1.Taint) bool {
			return t.Effect == v1.TaintEffectNoSchedule || t.Effect == v1.TaintEffectNoExecute
		}, true)
		ok = !untolerated
	}
	f.cache[a] = ok
	return ok
}

// hardTaints reports whether a node has taints that keep pods off.
func hardTaints(node *v1.Node) bool {
	for _, t := range node.Spec.Taints {
		if t.Effect == v1.TaintEffectNoSchedule || t.Effect == v1.TaintEffectNoExecute {
			return true
		}
	}
	return false
}
